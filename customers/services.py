"""Writes of the customers app (DESIGN.md §11.1): keyword-only, validated with full_clean(),
each in one transaction, each checking who writes.

Who may write: an admin anything; a manager the accounts they see; a rep the accounts they
own. Owner and assignee fields only name people inside the writer's visible set.
`by=None` means the system itself (tasks, imports, the public lead form).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers import scoring, selectors
from customers.models import (
    Account,
    AccountEvent,
    AccountMerge,
    Contact,
    CustomerSettings,
    FollowUp,
    Industry,
    Interaction,
    Region,
    Tag,
)
from teams.models import Role, Team, User
from teams.selectors import is_manager, manager_of
from teams.services import notify, validate_assignable

UNSET = object()

# Apps above customers register here what else moves when two accounts are merged (the
# pipeline moves deals). Each callable takes (survivor, merged, by) and returns
# {label: number of rows moved}.
AccountMerger = Callable[[Account, Account, User], dict[str, int]]
_account_mergers: list[AccountMerger] = []


def register_account_merger(func: AccountMerger) -> AccountMerger:
    if func not in _account_mergers:
        _account_mergers.append(func)
    return func


class DuplicateAccountError(ValidationError):
    """Raised by account_create when visible accounts look like the same company; `matches`
    holds them so the caller can offer the existing record."""

    def __init__(self, matches: list[Account]):
        self.matches = matches
        names = ", ".join(account.name for account in matches[:5])
        super().__init__(
            {"name": [_("This company may already exist: %(names)s.") % {"names": names}]},
            code="duplicate",
        )


def account_link(account_id: int) -> str:
    """The account page when the pages are installed, else the account's API resource."""
    try:
        return reverse("customers:account_detail", args=[account_id])
    except NoReverseMatch:
        return reverse("account-detail", args=[account_id])


def _require_account_write(by: User | None, account: Account) -> None:
    if by is not None and not selectors.can_edit_account(by, account):
        raise PermissionDenied(_("You cannot change this account."))


def _require_manager(by: User | None) -> None:
    if by is not None and not (by.is_admin or is_manager(by)):
        raise PermissionDenied(_("Only a manager or an admin can do this."))


def _require_admin(by: User | None) -> None:
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only an admin can change this."))


def _event(account: Account, kind: str, actor: User | None, **detail) -> AccountEvent:
    return AccountEvent.objects.create(account=account, kind=kind, actor=actor, detail=detail)


# Accounts

ACCOUNT_FIELDS = {
    "name",
    "industry",
    "region",
    "size_band",
    "revenue_band",
    "status",
    "source",
    "website",
    "phone",
    "email",
    "address",
    "notes",
    "external_id",
    "pool_team",
}


def _check_pool_team(by: User | None, team: Team | None) -> None:
    if team is None or by is None:
        return
    if not Team.objects.visible_to(by).filter(pk=team.pk).exists():
        raise ValidationError({"pool_team": _("You can only choose one of your own teams.")})


def _check_lookups(industry: Industry | None, region: Region | None) -> None:
    errors = {}
    if industry is not None and not industry.active:
        errors["industry"] = _("This industry is no longer offered.")
    if region is not None and not region.active:
        errors["region"] = _("This region is no longer offered.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def account_create(
    *,
    by: User | None,
    name: str,
    owner: User | None | object = UNSET,
    industry: Industry | None = None,
    region: Region | None = None,
    size_band: int | None = None,
    revenue_band: int | None = None,
    status: str = Account.Status.LEAD,
    source: str = Account.Source.MANUAL,
    website: str = "",
    phone: str = "",
    email: str = "",
    address: str = "",
    notes: str = "",
    external_id: str = "",
    pool_team: Team | None = None,
    tags: Iterable[Tag] = (),
    allow_duplicate: bool = False,
) -> Account:
    """Creates an account owned by `owner` (the writer by default). Raises
    DuplicateAccountError when a visible account has the same normalized name, phone or
    company email domain, unless `allow_duplicate`."""
    if owner is UNSET:
        owner = by
    validate_assignable(by=by, user=owner, field="owner")
    _check_pool_team(by, pool_team)
    _check_lookups(industry, region)
    # An account created without an owner starts in the writer's team pool.
    holder = owner or by
    account = Account(
        name=name,
        owner=owner,
        pool_team=pool_team or (holder.team if holder else None),
        industry=industry,
        region=region,
        size_band=size_band,
        revenue_band=revenue_band,
        status=status,
        source=source,
        website=website,
        phone=phone,
        email=email,
        address=address,
        notes=notes,
        external_id=external_id,
    )
    account.owner_since = timezone.now() if owner is not None else None
    account.full_clean()
    if not allow_duplicate:
        matches = list(
            selectors.duplicates_for(
                viewer=by, name=name, phone=phone, email=email, website=website
            )[:10]
        )
        if matches:
            raise DuplicateAccountError(matches)
    account.save()
    if tags:
        account.tags.set(tags)
    _event(account, AccountEvent.Kind.CREATED, by, source=source)
    return account_recompute_score(account=account)


@transaction.atomic
def account_update(*, by: User | None, account: Account, **fields) -> Account:
    """Changes an account's fields; `owner` goes through account_reassign and `tags` through
    account_set_tags, so their rules and history apply."""
    _require_account_write(by, account)
    unknown = set(fields) - ACCOUNT_FIELDS - {"owner", "tags"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    account = Account.objects.select_for_update().get(pk=account.pk)
    owner = fields.pop("owner", UNSET)
    tags = fields.pop("tags", None)
    # A lookup switched off later stays valid on the accounts that already use it.
    _check_lookups(
        fields["industry"]
        if fields.get("industry", account.industry) != account.industry
        else None,
        fields["region"] if fields.get("region", account.region) != account.region else None,
    )
    if "pool_team" in fields and fields["pool_team"] != account.pool_team:
        _check_pool_team(by, fields["pool_team"])
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    account.save()
    if owner is not UNSET and owner != account.owner:
        if owner is None:
            raise ValidationError({"owner": _("Release the account to the pool instead.")})
        account = account_reassign(by=by, account=account, to_user=owner)
    if tags is not None:
        account_set_tags(by=by, account=account, tags=tags)
    return account_recompute_score(account=account)


@transaction.atomic
def account_delete(*, by: User | None, account: Account) -> Account:
    """Soft-deletes the account with its contacts and interactions, so sync clients receive
    tombstones; its open follow-ups are cancelled."""
    _require_account_write(by, account)
    now = timezone.now()
    Account.objects.filter(pk=account.pk).update(deleted_at=now, updated_at=now)
    Contact.objects.filter(account=account).update(deleted_at=now, updated_at=now)
    Interaction.objects.filter(account=account).update(deleted_at=now, updated_at=now)
    FollowUp.objects.filter(account=account, status=FollowUp.Status.OPEN).update(
        status=FollowUp.Status.CANCELLED, updated_at=now
    )
    account.deleted_at = now
    return account


# Tags


@transaction.atomic
def tag_create(*, by: User | None, name: str, colour: str = "#6c757d") -> Tag:
    tag = Tag(name=name.strip(), colour=colour)
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def tag_update(
    *, by: User | None, tag: Tag, name: str | None = None, colour: str | None = None
) -> Tag:
    _require_admin(by)
    if name is not None:
        tag.name = name.strip()
    if colour is not None:
        tag.colour = colour
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def tag_delete(*, by: User | None, tag: Tag) -> None:
    _require_admin(by)
    account_ids = list(tag.accounts.values_list("pk", flat=True))
    tag.delete()
    Account.objects.filter(pk__in=account_ids).update(updated_at=timezone.now())


@transaction.atomic
def account_set_tags(*, by: User | None, account: Account, tags: Iterable[Tag]) -> Account:
    _require_account_write(by, account)
    account.tags.set(list(tags))
    Account.objects.filter(pk=account.pk).update(updated_at=timezone.now())
    return account


def _editable_ids(by: User | None, account_ids: Iterable[int]) -> list[int]:
    """The ids, after checking the writer may change every one of them."""
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        raise ValidationError({"accounts": _("Choose at least one account.")})
    qs = Account.objects.all() if by is None else selectors.editable_accounts(by)
    allowed = set(qs.filter(pk__in=ids).values_list("pk", flat=True))
    if len(allowed) != len(ids):
        raise PermissionDenied(_("You cannot change some of the chosen accounts."))
    return ids


@transaction.atomic
def accounts_bulk_tag(
    *, by: User | None, account_ids: Iterable[int], tags: Iterable[Tag], remove: bool = False
) -> int:
    """Adds (or removes) tags on many accounts at once; returns how many accounts changed."""
    ids = _editable_ids(by, account_ids)
    tags = list(tags)
    through = Account.tags.through
    if remove:
        through.objects.filter(account_id__in=ids, tag__in=tags).delete()
    else:
        existing = set(
            through.objects.filter(account_id__in=ids, tag__in=tags).values_list(
                "account_id", "tag_id"
            )
        )
        through.objects.bulk_create(
            [
                through(account_id=pk, tag_id=tag.pk)
                for pk in ids
                for tag in tags
                if (pk, tag.pk) not in existing
            ]
        )
    return Account.objects.filter(pk__in=ids).update(updated_at=timezone.now())


# Reassignment


def _move_open_followups(account_ids: list[int], from_user_id: int | None, to_user: User) -> int:
    if from_user_id is None:
        return 0
    return FollowUp.objects.filter(
        account_id__in=account_ids, assignee_id=from_user_id, status=FollowUp.Status.OPEN
    ).update(assignee=to_user, updated_at=timezone.now())


@transaction.atomic
def account_reassign(*, by: User | None, account: Account, to_user: User) -> Account:
    """Gives the account, with the previous owner's open follow-ups on it, to `to_user`."""
    accounts_reassign(by=by, account_ids=[account.pk], to_user=to_user)
    return Account.objects.get(pk=account.pk)


@transaction.atomic
def accounts_reassign(*, by: User | None, account_ids: Iterable[int], to_user: User) -> int:
    """Reassigns many accounts (and their open follow-ups) to one person the writer sees;
    each move is recorded on the account's timeline."""
    _require_manager(by)
    ids = _editable_ids(by, account_ids)
    validate_assignable(by=by, user=to_user, field="to_user")
    if to_user is None or not to_user.is_active:
        raise ValidationError({"to_user": _("Choose an active person.")})
    now = timezone.now()
    accounts = list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    moved = 0
    events = []
    for account in accounts:
        if account.owner_id == to_user.pk:
            continue
        _move_open_followups([account.pk], account.owner_id, to_user)
        events.append(
            AccountEvent(
                account=account,
                kind=AccountEvent.Kind.REASSIGNED,
                actor=by,
                detail={"from": account.owner_id, "to": to_user.pk},
            )
        )
        account.previous_owner_id = account.owner_id or account.previous_owner_id
        account.owner = to_user
        account.pool_team = to_user.team or account.pool_team
        account.owner_since = now
        account.recycle_warned_at = None
        account.released_at = None
        account.released_by = None
        account.save(
            update_fields=[
                "owner",
                "pool_team",
                "owner_since",
                "previous_owner",
                "recycle_warned_at",
                "released_at",
                "released_by",
                "updated_at",
            ]
        )
        moved += 1
    AccountEvent.objects.bulk_create(events)
    return moved


def reassign_customers_ownership(from_user: User, to_user: User) -> dict[str, int]:
    """The ownership reassigner registered with teams: a leaver's accounts and open
    follow-ups move to their successor, inside teams' transaction."""
    now = timezone.now()
    account_ids = list(Account.objects.filter(owner=from_user).values_list("pk", flat=True))
    accounts = Account.objects.filter(pk__in=account_ids).update(
        owner=to_user,
        previous_owner=from_user,
        owner_since=now,
        recycle_warned_at=None,
        updated_at=now,
    )
    AccountEvent.objects.bulk_create(
        [
            AccountEvent(
                account_id=pk,
                kind=AccountEvent.Kind.REASSIGNED,
                detail={"from": from_user.pk, "to": to_user.pk, "reason": "ownership_transfer"},
            )
            for pk in account_ids
        ]
    )
    followups = FollowUp.objects.filter(assignee=from_user, status=FollowUp.Status.OPEN).update(
        assignee=to_user, updated_at=now
    )
    return {"accounts": accounts, "follow_ups": followups}


# Merge

_MERGE_FILL_FIELDS = (
    "industry_id",
    "region_id",
    "size_band",
    "revenue_band",
    "website",
    "phone",
    "email",
    "address",
    "external_id",
)


@transaction.atomic
def accounts_merge(*, by: User, survivor: Account, merged: Account) -> AccountMerge:
    """Folds `merged` into `survivor`: contacts, interactions, follow-ups, timeline events
    and tags move (and, through registered mergers, records of other apps); blank fields of
    the survivor are filled from the merged account, which is then soft-deleted."""
    _require_manager(by)
    if survivor.pk == merged.pk:
        raise ValidationError({"merged": _("Choose two different accounts.")})
    _editable_ids(by, [survivor.pk, merged.pk])
    locked = {
        account.pk: account
        for account in Account.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])
    }
    if len(locked) != 2:
        raise ValidationError({"merged": _("One of the accounts no longer exists.")})
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    now = timezone.now()
    snapshot = {
        "name": merged.name,
        "owner": merged.owner_id,
        "status": merged.status,
        "phone": merged.phone,
        "email": merged.email,
        "website": merged.website,
        "external_id": merged.external_id,
        "notes": merged.notes,
    }

    if Contact.objects.filter(account=survivor, is_primary=True).exists():
        Contact.all_objects.filter(account=merged, is_primary=True).update(is_primary=False)
    counts = {
        "contacts": Contact.all_objects.filter(account=merged).update(
            account=survivor, updated_at=now
        ),
        "interactions": Interaction.all_objects.filter(account=merged).update(
            account=survivor, updated_at=now
        ),
        "follow_ups": FollowUp.objects.filter(account=merged).update(
            account=survivor, updated_at=now
        ),
        "events": AccountEvent.objects.filter(account=merged).update(account=survivor),
    }
    survivor.tags.add(*merged.tags.all())

    merged.deleted_at = now
    merged.save(update_fields=["deleted_at", "updated_at"])
    for field in _MERGE_FILL_FIELDS:
        if not getattr(survivor, field) and getattr(merged, field):
            setattr(survivor, field, getattr(merged, field))
    if merged.last_contacted_at and (
        not survivor.last_contacted_at or merged.last_contacted_at > survivor.last_contacted_at
    ):
        survivor.last_contacted_at = merged.last_contacted_at
    if merged.notes:
        survivor.notes = f"{survivor.notes}\n\n{merged.notes}".strip()
    survivor.full_clean()
    survivor.save()

    for merger in _account_mergers:
        for label, moved in merger(survivor, merged, by).items():
            counts[label] = counts.get(label, 0) + moved
    record = AccountMerge.objects.create(
        survivor=survivor, merged=merged, merged_by=by, counts=counts, snapshot=snapshot
    )
    _event(survivor, AccountEvent.Kind.MERGED, by, merged=merged.pk, name=merged.name)
    account_recompute_score(account=survivor)
    return record


# Contacts

CONTACT_FIELDS = {
    "name",
    "title",
    "department",
    "phone",
    "mobile",
    "email",
    "wechat_id",
    "preferred_channel",
    "decision_role",
    "preferences",
    "is_primary",
    "external_id",
}


def _save_contact(contact: Contact) -> Contact:
    if contact.is_primary:
        # One primary contact per account: choosing a new one demotes the old.
        Contact.objects.filter(account_id=contact.account_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False, updated_at=timezone.now())
    contact.full_clean()
    contact.save()
    Account.objects.filter(pk=contact.account_id).update(updated_at=timezone.now())
    return contact


@transaction.atomic
def contact_create(*, by: User | None, account: Account, name: str, **fields) -> Contact:
    _require_account_write(by, account)
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise ValidationError({field: _("Unknown field.") for field in unknown})
    contact = _save_contact(Contact(account=account, name=name, **fields))
    account_recompute_score(account=account)
    return contact


@transaction.atomic
def contact_update(*, by: User | None, contact: Contact, **fields) -> Contact:
    _require_account_write(by, contact.account)
    unknown = set(fields) - CONTACT_FIELDS - {"account"}
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    new_account = fields.pop("account", None)
    old_account = contact.account
    moved = new_account is not None and new_account.pk != old_account.pk
    if moved:
        _require_account_write(by, new_account)
        contact.account = new_account
    for name, value in fields.items():
        setattr(contact, name, value)
    contact = _save_contact(contact)
    if moved:
        account_recompute_score(account=old_account)
        account_recompute_score(account=new_account)
    return contact


@transaction.atomic
def contact_delete(*, by: User | None, contact: Contact) -> Contact:
    _require_account_write(by, contact.account)
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(deleted_at=now, updated_at=now, is_primary=False)
    contact.deleted_at = now
    account_recompute_score(account=contact.account)
    return contact


# Interactions and follow-ups


def _touch_last_contacted(account: Account) -> None:
    latest = Interaction.objects.filter(account=account, occurred_at__lte=timezone.now()).aggregate(
        latest=Max("occurred_at")
    )["latest"]
    Account.objects.filter(pk=account.pk).update(
        last_contacted_at=latest, recycle_warned_at=None, updated_at=timezone.now()
    )


@transaction.atomic
def interaction_log(
    *,
    by: User,
    account: Account,
    subject: str,
    kind: str = Interaction.Kind.CALL,
    occurred_at: datetime | None = None,
    summary: str = "",
    outcome: str = "",
    contact: Contact | None = None,
    next_step: str = "",
    next_step_due: datetime | None = None,
    external_id: str = "",
) -> Interaction:
    """Records a touch with the customer: the account's last-contacted time moves (which
    also restarts its public-pool clock), a next step with a due date becomes a follow-up
    for the logger, and the lead score is recomputed."""
    _require_account_write(by, account)
    interaction = Interaction(
        account=account,
        contact=contact,
        logged_by=by,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        subject=subject,
        summary=summary,
        outcome=outcome,
        next_step=next_step,
        next_step_due=next_step_due,
        external_id=external_id,
    )
    interaction.full_clean()
    interaction.save()
    now = timezone.now()
    if interaction.occurred_at <= now:
        # Only a newer touch moves the date (an imported date may be later than any log).
        Account.objects.filter(pk=account.pk).filter(
            Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=interaction.occurred_at)
        ).update(last_contacted_at=interaction.occurred_at, recycle_warned_at=None, updated_at=now)
    if next_step and next_step_due:
        followup_create(
            by=by,
            account=account,
            contact=contact,
            title=next_step,
            due_at=next_step_due,
            interaction=interaction,
        )
    account_recompute_score(account=account)
    return interaction


INTERACTION_FIELDS = {
    "kind",
    "occurred_at",
    "subject",
    "summary",
    "outcome",
    "contact",
    "next_step",
    "next_step_due",
    "external_id",
}


def _require_interaction_write(by: User | None, interaction: Interaction) -> None:
    if by is None or interaction.logged_by_id == by.pk:
        return
    if not (by.is_admin or is_manager(by)) or not selectors.can_edit_account(
        by, interaction.account
    ):
        raise PermissionDenied(_("Only the author or their manager can change this."))


@transaction.atomic
def interaction_update(*, by: User | None, interaction: Interaction, **fields) -> Interaction:
    _require_interaction_write(by, interaction)
    unknown = set(fields) - INTERACTION_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    for name, value in fields.items():
        setattr(interaction, name, value)
    interaction.full_clean()
    interaction.save()
    _touch_last_contacted(interaction.account)
    account_recompute_score(account=interaction.account)
    return interaction


@transaction.atomic
def interaction_delete(*, by: User | None, interaction: Interaction) -> Interaction:
    _require_interaction_write(by, interaction)
    now = timezone.now()
    Interaction.objects.filter(pk=interaction.pk).update(deleted_at=now, updated_at=now)
    interaction.deleted_at = now
    _touch_last_contacted(interaction.account)
    account_recompute_score(account=interaction.account)
    return interaction


@transaction.atomic
def followup_create(
    *,
    by: User | None,
    account: Account,
    title: str,
    due_at: datetime,
    assignee: User | None = None,
    contact: Contact | None = None,
    note: str = "",
    priority: int = FollowUp.Priority.NORMAL,
    interaction: Interaction | None = None,
) -> FollowUp:
    _require_account_write(by, account)
    assignee = assignee or by or account.owner
    if assignee is None:
        raise ValidationError({"assignee": _("Choose who should follow up.")})
    validate_assignable(by=by, user=assignee, field="assignee")
    followup = FollowUp(
        account=account,
        contact=contact,
        interaction=interaction,
        assignee=assignee,
        created_by=by,
        title=title,
        note=note,
        priority=priority,
        due_at=due_at,
    )
    followup.full_clean()
    followup.save()
    return followup


def _require_followup_write(by: User | None, followup: FollowUp) -> None:
    if by is not None and not selectors.can_edit_followup(by, followup):
        raise PermissionDenied(_("You cannot change this follow-up."))


def _require_open(followup: FollowUp) -> None:
    if followup.status != FollowUp.Status.OPEN:
        raise ValidationError({"status": _("This follow-up is already closed.")})


FOLLOWUP_FIELDS = {"title", "note", "priority", "due_at", "assignee", "contact"}


@transaction.atomic
def followup_update(*, by: User | None, followup: FollowUp, **fields) -> FollowUp:
    _require_followup_write(by, followup)
    unknown = set(fields) - FOLLOWUP_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    if "assignee" in fields and fields["assignee"] != followup.assignee:
        validate_assignable(by=by, user=fields["assignee"], field="assignee")
    if "due_at" in fields and fields["due_at"] != followup.due_at:
        # A new due time deserves a new reminder.
        followup.reminded_at = None
    for name, value in fields.items():
        setattr(followup, name, value)
    followup.full_clean()
    followup.save()
    return followup


@transaction.atomic
def followup_complete(*, by: User | None, followup: FollowUp) -> FollowUp:
    _require_followup_write(by, followup)
    now = timezone.now()
    done = FollowUp.objects.filter(pk=followup.pk, status=FollowUp.Status.OPEN).update(
        status=FollowUp.Status.DONE, done_at=now, updated_at=now
    )
    if not done:
        _require_open(FollowUp.objects.get(pk=followup.pk))
    followup.refresh_from_db()
    return followup


@transaction.atomic
def followup_snooze(
    *,
    by: User | None,
    followup: FollowUp,
    until: datetime | None = None,
    days: int | None = None,
) -> FollowUp:
    """Moves an open follow-up's due time to `until` (or by `days`, default one day); it is
    reminded again when the new time comes."""
    _require_followup_write(by, followup)
    _require_open(followup)
    if until is None:
        until = max(followup.due_at, timezone.now()) + timedelta(days=days or 1)
    if until <= timezone.now():
        raise ValidationError({"until": _("Snooze to a time in the future.")})
    followup.due_at = until
    followup.reminded_at = None
    followup.save(update_fields=["due_at", "reminded_at", "updated_at"])
    return followup


@transaction.atomic
def followup_cancel(*, by: User | None, followup: FollowUp) -> FollowUp:
    _require_followup_write(by, followup)
    _require_open(followup)
    followup.status = FollowUp.Status.CANCELLED
    followup.save(update_fields=["status", "updated_at"])
    return followup


def send_due_followup_reminders(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Notifies the assignee of each open follow-up that has come due, exactly once.

    Each follow-up is claimed by a conditional UPDATE of `reminded_at` in the same
    transaction as its notification: a second run or a concurrent worker updates no row
    and sends nothing, and a worker that dies before committing leaves the row unclaimed
    for the next run."""
    now = now or timezone.now()
    sent = 0
    last_pk = 0
    while True:
        batch = list(
            FollowUp.objects.filter(
                status=FollowUp.Status.OPEN,
                reminded_at__isnull=True,
                due_at__lte=now,
                account__deleted_at__isnull=True,
                pk__gt=last_pk,
            )
            .select_related("assignee", "account")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return sent
        for followup in batch:
            last_pk = followup.pk
            with transaction.atomic():
                claimed = FollowUp.objects.filter(
                    pk=followup.pk, status=FollowUp.Status.OPEN, reminded_at__isnull=True
                ).update(reminded_at=now)
                if not claimed or not followup.assignee.is_active:
                    continue
                notify(
                    recipient=followup.assignee,
                    kind="follow_up_due",
                    title=_("Follow-up due: %(title)s") % {"title": followup.title},
                    body=_("%(account)s, due %(due)s")
                    % {
                        "account": followup.account.name,
                        "due": timezone.localtime(followup.due_at).strftime("%Y-%m-%d %H:%M"),
                    },
                    link=account_link(followup.account_id),
                )
                sent += 1


# Lead scoring


def account_recompute_score(*, account: Account) -> Account:
    """Stores the account's score and tier by the active rules; unchanged accounts are not
    written, so their `updated_at` (what sync clients pull by) stays put."""
    fresh = scoring.annotate_for_scoring(
        Account.objects.filter(pk=account.pk), scoring.active_rules(), timezone.now()
    ).first()
    if fresh is None:
        return account
    result = scoring.evaluate(fresh)
    if (fresh.lead_score, fresh.tier) != (result.score, result.tier):
        Account.objects.filter(pk=account.pk).update(
            lead_score=result.score, tier=result.tier, updated_at=timezone.now()
        )
    account.lead_score, account.tier = result.score, result.tier
    return account


def accounts_recompute_scores(*, batch_size: int = 500) -> int:
    """Rescores every account in batches by primary key (the nightly job, and after the
    rules change); returns how many scores changed. Safe to rerun."""
    rules = scoring.active_rules()
    settings_row = CustomerSettings.load()
    now = timezone.now()
    changed = 0
    last_pk = 0
    while True:
        batch = list(
            scoring.annotate_for_scoring(
                Account.objects.filter(pk__gt=last_pk).order_by("pk"), rules, now
            )[:batch_size]
        )
        if not batch:
            return changed
        last_pk = batch[-1].pk
        by_result: dict[tuple[int, str], list[int]] = defaultdict(list)
        for account in batch:
            result = scoring.evaluate(account, rules=rules, settings_row=settings_row, now=now)
            if (account.lead_score, account.tier) != (result.score, result.tier):
                by_result[(result.score, result.tier)].append(account.pk)
        with transaction.atomic():
            for (score, tier), ids in by_result.items():
                changed += Account.objects.filter(pk__in=ids).update(
                    lead_score=score, tier=tier, updated_at=now
                )


# Lead capture


def lead_capture_rate_limited(*, address: str, limit: int = 5, window_seconds: int = 3600) -> bool:
    """Counts a submission from `address`; True once it exceeds `limit` in the window. The
    counter lives in the shared cache, so every web process enforces the same limit."""
    key = f"customers:lead-capture:{address}"
    if cache.add(key, 1, timeout=window_seconds):
        return False
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window_seconds)
        return False
    return count > limit


def _next_lead_owner() -> tuple[User | None, Team | None]:
    """The next rep of the lead-capture team in round robin. The pointer is kept on the
    settings row, locked while it advances, so concurrent captures take turns."""
    CustomerSettings.load()
    settings_row = CustomerSettings.objects.select_for_update().get(pk=1)
    team = settings_row.lead_capture_team
    if team is None:
        return None, None
    rep_ids = list(
        User.objects.filter(team=team, role=Role.REP, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not rep_ids:
        return None, team
    last = settings_row.lead_capture_last_assignee_id
    next_id = next((pk for pk in rep_ids if last is not None and pk > last), rep_ids[0])
    settings_row.lead_capture_last_assignee_id = next_id
    settings_row.save(update_fields=["lead_capture_last_assignee", "updated_at"])
    return User.objects.get(pk=next_id), team


@transaction.atomic
def lead_capture(
    *,
    company: str,
    name: str,
    phone: str = "",
    email: str = "",
    industry: Industry | None = None,
    region: Region | None = None,
    message: str = "",
) -> Account:
    """A prospect's enquiry from the public form: a lead account and its contact, owned by
    the next rep of the admin's lead-capture team (or left in that team's pool when it has
    no rep), and the owner (or the team manager, or the admins) notified."""
    if not phone and not email:
        raise ValidationError({"phone": _("Leave a phone number or an email address.")})
    owner, team = _next_lead_owner()
    account = account_create(
        by=None,
        name=company,
        owner=owner,
        pool_team=team,
        industry=industry,
        region=region,
        source=Account.Source.WEB_FORM,
        status=Account.Status.LEAD,
        notes=message,
        allow_duplicate=True,
    )
    if owner is None and team is not None:
        Account.objects.filter(pk=account.pk).update(released_at=timezone.now())
    contact = Contact(
        account=account,
        name=name,
        mobile=phone,
        email=email,
        is_primary=True,
        preferred_channel=Contact.Channel.MOBILE if phone else Contact.Channel.EMAIL,
    )
    contact.full_clean()
    contact.save()
    account_recompute_score(account=account)
    if owner is not None:
        recipients = [owner]
    elif team is not None and team.manager_id:
        recipients = [team.manager]
    else:
        recipients = list(
            User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
        )
    for recipient in recipients:
        notify(
            recipient=recipient,
            kind="lead_captured",
            title=_("New web lead: %(company)s") % {"company": account.name},
            body=_("%(name)s left an enquiry: %(message)s")
            % {"name": name, "message": message[:500]},
            link=account_link(account.pk),
        )
    return account


# Public pool


@transaction.atomic
def account_release(*, by: User, account: Account, reason: str = "") -> Account:
    """The owner (or a manager above them) gives the account back to the pool of its team;
    the previous owner's open follow-ups on it are cancelled."""
    _require_account_write(by, account)
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.owner_id is None:
        raise ValidationError({"owner": _("This account is already in the pool.")})
    team = account.pool_team or account.owner.team
    if team is None:
        raise ValidationError({"pool_team": _("This account has no team pool to return to.")})
    _to_pool(account, team=team, by=by, kind=AccountEvent.Kind.RELEASED, reason=reason)
    return Account.objects.get(pk=account.pk)


def _to_pool(
    account: Account,
    *,
    team: Team,
    by: User | None,
    kind: str,
    reason: str = "",
    condition: Q | None = None,
) -> bool:
    """Moves one account to `team`'s pool if it still has the owner it was read with (and
    still meets `condition`); False when something changed it meanwhile."""
    now = timezone.now()
    owner_id = account.owner_id
    updated = (
        Account.objects.filter(pk=account.pk, owner_id=owner_id)
        .filter(condition or Q())
        .update(
            owner=None,
            previous_owner_id=owner_id,
            pool_team=team,
            released_at=now,
            released_by=by,
            recycle_warned_at=None,
            owner_since=None,
            updated_at=now,
        )
    )
    if not updated:
        return False
    FollowUp.objects.filter(
        account=account, assignee_id=owner_id, status=FollowUp.Status.OPEN
    ).update(status=FollowUp.Status.CANCELLED, updated_at=now)
    _event(account, kind, by, previous_owner=owner_id, reason=reason)
    return True


@transaction.atomic
def account_claim(*, by: User, account: Account, now: datetime | None = None) -> Account:
    """Takes an account from a pool the claimer sees. Refused beyond the claim cap and,
    for the rep who last released it, during the cooling-off period. Of two reps claiming
    at once exactly one wins: the owner is set by a conditional UPDATE that only matches
    while the account is still unowned."""
    now = now or timezone.now()
    settings_row = CustomerSettings.load()
    account = selectors.pool_list(viewer=by).filter(pk=account.pk).first()
    if account is None:
        raise ValidationError({"account": _("This account is not in a pool you can claim from.")})
    # Serialise the claims of one person so two parallel claims cannot both pass the cap.
    User.objects.select_for_update().filter(pk=by.pk).first()
    owned = Account.objects.filter(owner=by).count()
    if owned >= settings_row.pool_claim_cap:
        raise ValidationError(
            {
                "account": ngettext(
                    "You already own %(count)d account, the most you may hold.",
                    "You already own %(count)d accounts, the most you may hold.",
                    owned,
                )
                % {"count": owned}
            }
        )
    cooling = timedelta(days=settings_row.pool_cooling_off_days)
    if (
        account.previous_owner_id == by.pk
        and account.released_at
        and (account.released_at > now - cooling)
    ):
        raise ValidationError(
            {
                "account": _(
                    "You released this account recently; you can claim it again after %(date)s."
                )
                % {"date": timezone.localtime(account.released_at + cooling).strftime("%Y-%m-%d")}
            }
        )
    won = Account.objects.filter(pk=account.pk, owner__isnull=True).update(
        owner=by,
        owner_since=now,
        recycle_warned_at=None,
        pool_team=by.team or account.pool_team,
        updated_at=now,
    )
    if not won:
        raise ValidationError({"account": _("Someone else has just claimed this account.")})
    claimed = Account.objects.get(pk=account.pk)
    _event(claimed, AccountEvent.Kind.CLAIMED, by, pool_team=account.pool_team_id)
    return claimed


def _stale_q(cutoff: datetime) -> Q:
    return Q(owner__isnull=False, owner_since__lt=cutoff) & (
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=cutoff)
    )


def _stale_accounts(cutoff: datetime):
    return Account.objects.filter(_stale_q(cutoff))


def _notify_owner_and_manager(
    owner: User, accounts: list[Account], *, kind: str, title: str, body: str
) -> None:
    recipients = [owner]
    manager = manager_of(owner)
    if manager is not None and manager.pk != owner.pk:
        recipients.append(manager)
    for recipient in recipients:
        notify(
            recipient=recipient,
            kind=kind,
            title=title,
            body=body,
            link=account_link(accounts[0].pk) if len(accounts) == 1 else "",
        )


def _by_owner(queryset) -> dict[User, list[Account]]:
    grouped: dict[User, list[Account]] = defaultdict(list)
    for account in queryset.select_related("owner", "owner__team").order_by("owner_id", "pk"):
        grouped[account.owner].append(account)
    return grouped


def _names(accounts: list[Account]) -> str:
    return ", ".join(account.name for account in accounts[:10])


def recycle_stale_accounts(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly public-pool job. Accounts their owner has not contacted within the
    recycle period go back to their team's pool; those that will go within the warning
    period are announced first. The owner and their manager are told both times.

    Each owner's accounts are handled in one transaction with the notices about them, and
    every move or warning is claimed by a conditional UPDATE: a rerun, or a job that died
    half-way, neither repeats nor loses a notice."""
    now = now or timezone.now()
    settings_row = CustomerSettings.load()
    cutoff = now - timedelta(days=settings_row.pool_recycle_days)
    recycled = warned = 0
    for owner, accounts in _by_owner(_stale_accounts(cutoff)).items():
        with transaction.atomic():
            moved = [
                account
                for account in accounts
                if (account.pool_team or owner.team) is not None
                and _to_pool(
                    account,
                    team=account.pool_team or owner.team,
                    by=None,
                    kind=AccountEvent.Kind.RECYCLED,
                    reason="no_contact",
                    condition=_stale_q(cutoff),
                )
            ]
            if moved:
                _notify_owner_and_manager(
                    owner,
                    moved,
                    kind="pool_recycled",
                    title=ngettext(
                        "%(count)d account of %(owner)s returned to the pool",
                        "%(count)d accounts of %(owner)s returned to the pool",
                        len(moved),
                    )
                    % {"count": len(moved), "owner": owner},
                    body=_("Not contacted in %(days)d days: %(names)s")
                    % {"days": settings_row.pool_recycle_days, "names": _names(moved)},
                )
        recycled += len(moved)

    if not settings_row.pool_warning_days:
        return {"recycled": recycled, "warned": warned}
    warn_cutoff = cutoff + timedelta(days=settings_row.pool_warning_days)
    candidates = _stale_accounts(warn_cutoff).filter(recycle_warned_at__isnull=True)
    for owner, accounts in _by_owner(candidates).items():
        with transaction.atomic():
            claimed = [
                account
                for account in accounts
                if Account.objects.filter(
                    pk=account.pk, owner=owner, recycle_warned_at__isnull=True
                ).update(recycle_warned_at=now)
            ]
            if claimed:
                _notify_owner_and_manager(
                    owner,
                    claimed,
                    kind="pool_warning",
                    title=ngettext(
                        "%(count)d account of %(owner)s returns to the pool soon",
                        "%(count)d accounts of %(owner)s return to the pool soon",
                        len(claimed),
                    )
                    % {"count": len(claimed), "owner": owner},
                    body=_("Contact them within %(days)d days to keep them: %(names)s")
                    % {"days": settings_row.pool_warning_days, "names": _names(claimed)},
                )
        warned += len(claimed)
    return {"recycled": recycled, "warned": warned}


# Lookups (admin configuration)


@transaction.atomic
def lookup_save(*, by: User | None, instance: Industry | Region) -> Industry | Region:
    _require_admin(by)
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def lookup_delete(*, by: User | None, instance: Industry | Region) -> None:
    """Lookups in use are switched off rather than deleted, so accounts keep their value."""
    _require_admin(by)
    # Soft-deleted accounts still reference the lookup, so they count as uses too.
    if Account.all_objects.filter(**{instance._meta.model_name: instance}).exists():
        instance.active = False
        instance.save(update_fields=["active", "updated_at"])
    else:
        instance.delete()
