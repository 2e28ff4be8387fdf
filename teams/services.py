"""Writes of the teams app: users, the team tree, ownership transfers and notifications."""

from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from teams.models import LadderLevel, Notification, OwnershipTransfer, Role, Team, User
from teams.selectors import user_can_see
from teams.tasks import send_notification_email

# Apps above teams register here what they do when one user's records move to another
# (accounts, deals, follow-ups ...). Each callable takes from_user and to_user and returns
# {label: number of rows moved}.
OwnershipReassigner = Callable[[User, User], dict[str, int]]
_ownership_reassigners: list[OwnershipReassigner] = []


def register_ownership_reassigner(func: OwnershipReassigner) -> OwnershipReassigner:
    if func not in _ownership_reassigners:
        _ownership_reassigners.append(func)
    return func


def _require_admin(by: User | None) -> None:
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only an admin can change the organisation."))


def validate_assignable(*, by: User | None, user: User | None, field: str) -> None:
    """Owner and manager fields may only name active users inside the writer's visible set."""
    if user is None or by is None:
        return
    if not user.is_active:
        raise ValidationError({field: _("This user is inactive.")})
    if not user_can_see(by, user):
        raise ValidationError({field: _("You can only choose people in your own teams.")})


# Team tree

UNSET = object()


def _set_path(team: Team) -> None:
    parent_path = team.parent.path if team.parent_id else "/"
    team.path = f"{parent_path}{team.pk}/"
    team.depth = parent_path.count("/") - 1


@transaction.atomic
def team_create(
    *,
    by: User | None,
    name: str,
    parent: Team | None = None,
    manager: User | None = None,
    region: str = "",
) -> Team:
    _require_admin(by)
    validate_assignable(by=by, user=manager, field="manager")
    team = Team(name=name, parent=parent, manager=manager, region=region)
    team.full_clean(exclude=["path"])
    team.save()
    _set_path(team)
    team.save(update_fields=["path", "depth"])
    return team


@transaction.atomic
def team_update(
    *,
    by: User | None,
    team: Team,
    name: str | None = None,
    parent: Team | None | object = UNSET,
    region: str | None = None,
) -> Team:
    """Renames a team or moves it (with its whole subtree) below another parent."""
    _require_admin(by)
    team = Team.objects.select_for_update().get(pk=team.pk)
    if name is not None:
        team.name = name
    if region is not None:
        team.region = region
    moved = parent is not UNSET and (parent.pk if parent else None) != team.parent_id
    if moved:
        team.parent = parent
    team.full_clean(exclude=["path"])
    if moved:
        old_path = team.path
        _set_path(team)
        # Rewrite the prefix of every descendant in one statement.
        Team.objects.filter(path__startswith=old_path).exclude(pk=team.pk).update(
            path=Concat(Value(team.path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + (team.depth - (old_path.count("/") - 2)),
        )
    team.save()
    return team


@transaction.atomic
def team_set_manager(*, by: User | None, team: Team, manager: User | None) -> Team:
    _require_admin(by)
    validate_assignable(by=by, user=manager, field="manager")
    team.manager = manager
    team.save(update_fields=["manager", "updated_at"])
    return team


# Users

PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "preferred_language")


@transaction.atomic
def user_create(
    *,
    by: User | None,
    username: str,
    password: str | None = None,
    team: Team | None = None,
    role: str = Role.REP,
    ladder_level: LadderLevel | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    hire_date: date | None = None,
    preferred_language: str = "",
    is_superuser: bool = False,
) -> User:
    _require_admin(by)
    user = User(
        username=username,
        team=team,
        role=role,
        ladder_level=ladder_level,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        hire_date=hire_date,
        preferred_language=preferred_language,
        is_superuser=is_superuser,
        is_staff=is_superuser or role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_update(*, by: User | None, user: User, **fields) -> User:
    """Changes a user's organisational fields (role, level, team ...); admins only."""
    _require_admin(by)
    allowed = {*PROFILE_FIELDS, "username", "password", "role", "ladder_level", "hire_date", "team"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    password = fields.pop("password", None)
    for name, value in fields.items():
        setattr(user, name, value)
    user.is_staff = user.is_superuser or user.role == Role.ADMIN
    if password:
        user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def profile_update(*, user: User, **fields) -> User:
    """What a person may change about themselves: name, email, phone and language."""
    forbidden = set(fields) - set(PROFILE_FIELDS)
    if forbidden:
        raise ValidationError(
            {name: _("You cannot change this field yourself.") for name in sorted(forbidden)}
        )
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean()
    user.save(update_fields=[*fields, "updated_at"])
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """Sets a new password; other sessions end (their auth hash no longer matches) and API
    tokens are revoked."""
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    Token.objects.filter(user=user).delete()
    return user


@transaction.atomic
def user_move_to_team(*, by: User | None, user: User, team: Team | None) -> User:
    _require_admin(by)
    user.team = team
    user.save(update_fields=["team", "updated_at"])
    return user


@transaction.atomic
def user_reassign_ownership(*, by: User, from_user: User, to_user: User) -> OwnershipTransfer:
    """Moves everything `from_user` owns (as registered by the apps) to `to_user`, at once."""
    if from_user.pk == to_user.pk:
        raise ValidationError({"to_user": _("Choose a different person to hand the work to.")})
    if not user_can_see(by, from_user):
        raise ValidationError({"from_user": _("You can only choose people in your own teams.")})
    validate_assignable(by=by, user=to_user, field="to_user")
    counts: dict[str, int] = {}
    for reassign in _ownership_reassigners:
        for label, moved in reassign(from_user, to_user).items():
            counts[label] = counts.get(label, 0) + moved
    return OwnershipTransfer.objects.create(
        from_user=from_user, to_user=to_user, performed_by=by, counts=counts
    )


@transaction.atomic
def user_deactivate(*, by: User, user: User, reassign_to: User | None = None) -> User:
    """Switches a leaver off: sessions and tokens stop working at the next request; their
    records move to `reassign_to` when given."""
    _require_admin(by)
    if user.pk == by.pk:
        raise ValidationError({"user": _("You cannot deactivate yourself.")})
    if reassign_to is not None:
        user_reassign_ownership(by=by, from_user=user, to_user=reassign_to)
    # Before the user is saved: saving a user clears the request's remembered visibility.
    Team.objects.filter(manager=user).update(manager=None, updated_at=timezone.now())
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    Token.objects.filter(user=user).delete()
    return user


# Notifications


def notify(
    *, recipient: User, title: str, body: str = "", link: str = "", kind: str = "general"
) -> Notification:
    """Puts a notification in the recipient's inbox and mails it once the transaction commits."""
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title[:200], body=body, link=link
    )
    transaction.on_commit(lambda: send_notification_email.delay(notification.pk))
    return notification


def notification_mark_read(*, user: User, notification_id: int) -> int:
    return Notification.objects.filter(
        pk=notification_id, recipient=user, read_at__isnull=True
    ).update(read_at=timezone.now())


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_send_email(*, notification_id: int) -> bool:
    """Mails a notification at most once: the row is claimed by a conditional UPDATE, so a
    second run, or a second worker, finds nothing to send. A failed send releases the claim
    so a retry can send it."""
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=now
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    if not recipient.email or not recipient.is_active:
        return False
    body = notification.body
    if notification.link:
        body = f"{body}\n\n{settings.SITE_URL.rstrip('/')}{notification.link}".strip()
    try:
        send_mail(
            subject=notification.title,
            message=body,
            from_email=None,
            recipient_list=[recipient.email],
        )
    except Exception:
        Notification.objects.filter(pk=notification_id, emailed_at=now).update(emailed_at=None)
        raise
    return True
