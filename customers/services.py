"""Writes of the customers app (DESIGN.md §11.1): keyword-only, validated with full_clean(),
each in one transaction, each checking who writes.

Who may write: an admin anything; a manager the accounts they see; a rep the accounts they
own. Owner and assignee fields only name people inside the writer's visible set.
`by=None` means the system itself (tasks, imports, the public lead form).
"""

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import tablib
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from customers import scoring, selectors, text
from customers.models import (
    Account,
    AccountEvent,
    AccountMerge,
    Contact,
    CustomerSettings,
    FollowUp,
    ImportJob,
    Industry,
    Interaction,
    Region,
    Tag,
)
from salesmgmt.core import exports
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


# An app above customers may choose the owner of a web lead (the pipeline's assignment
# rules). The callable gets the unsaved lead account and returns its owner, or None to fall
# back to the lead-capture team's round robin.
LeadAssigner = Callable[[Account], User | None]
_lead_assigners: list[LeadAssigner] = []


def register_lead_assigner(func: LeadAssigner) -> LeadAssigner:
    if func not in _lead_assigners:
        _lead_assigners.append(func)
    return func


def _lead_owner_by_rules(lead: Account) -> User | None:
    for assigner in _lead_assigners:
        owner = assigner(lead)
        if owner is not None:
            return owner
    return None


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
    """The account page, for notifications."""
    return reverse("customers:account_detail", args=[account_id])


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
    whoever the registered assigners (the pipeline's assignment rules) choose, else by the
    next rep of the admin's lead-capture team (or left in that team's pool when it has no
    rep), and the owner (or the team manager, or the admins) notified."""
    if not phone and not email:
        raise ValidationError({"phone": _("Leave a phone number or an email address.")})
    owner = _lead_owner_by_rules(
        Account(name=company, industry=industry, region=region, source=Account.Source.WEB_FORM)
    )
    team = owner.team if owner is not None else None
    if owner is None:
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


# Import and export of accounts with their contacts
#
# An import is checked row by row first (a dry run that writes nothing) with the rules of
# account_create and contact_create; it is written, in one transaction, only when every row
# is valid or when the importer chooses to import the valid rows alone. Files with more than
# INLINE_IMPORT_MAX_ROWS rows are checked and written by Celery tasks that keep the job's
# progress in the database. Exports list the visible, filtered accounts; any text cell that a
# spreadsheet would run as a formula is prefixed with a single quote.

INLINE_IMPORT_MAX_ROWS = 500
IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_FORMATS = ("csv", "xlsx")
EXPORT_CHUNK_SIZE = 2000
PROGRESS_EVERY = 50
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class TransferColumn:
    key: str
    label: str
    help: str = ""
    # Further headers accepted on import, such as those of Chinese spreadsheets.
    aliases: tuple[str, ...] = ()


IMPORT_COLUMNS = (
    TransferColumn(
        "account_name",
        gettext_lazy("Account name"),
        gettext_lazy("Required on every row that starts an account."),
        ("name", "company", "客户名称", "公司名称", "名称"),
    ),
    TransferColumn(
        "industry",
        gettext_lazy("Industry"),
        gettext_lazy("Code, English or Chinese name of an active industry."),
        ("行业",),
    ),
    TransferColumn(
        "region",
        gettext_lazy("Region"),
        gettext_lazy("Code, English or Chinese name of an active region."),
        ("地区", "省份"),
    ),
    TransferColumn(
        "employees",
        gettext_lazy("Employees"),
        gettext_lazy("Number of employees; the size band is chosen from it."),
        ("size", "size_band", "员工人数", "规模"),
    ),
    TransferColumn(
        "status",
        gettext_lazy("Status"),
        gettext_lazy("lead, prospect, customer or churned (or their names); lead when empty."),
        ("状态",),
    ),
    TransferColumn(
        "source",
        gettext_lazy("Source"),
        gettext_lazy("manual, web_form, import, referral, campaign or other; import when empty."),
        ("来源",),
    ),
    TransferColumn(
        "owner",
        gettext_lazy("Owner username"),
        gettext_lazy("An active person in your teams; you when empty."),
        ("owner", "负责人", "所有人"),
    ),
    TransferColumn("phone", gettext_lazy("Phone"), "", ("电话", "公司电话")),
    TransferColumn("email", gettext_lazy("Email"), "", ("邮箱", "公司邮箱")),
    TransferColumn("website", gettext_lazy("Website"), "", ("网站", "网址")),
    TransferColumn("address", gettext_lazy("Address"), "", ("地址",)),
    TransferColumn("notes", gettext_lazy("Notes"), "", ("备注",)),
    TransferColumn(
        "external_id",
        gettext_lazy("External id"),
        gettext_lazy(
            "Unique. To give an account more contacts, repeat its external id on the next "
            "rows and leave the other account columns empty."
        ),
        ("外部编号",),
    ),
    TransferColumn("contact_name", gettext_lazy("Contact name"), "", ("联系人", "联系人姓名")),
    TransferColumn("contact_title", gettext_lazy("Contact title"), "", ("职位", "职务")),
    TransferColumn("contact_department", gettext_lazy("Contact department"), "", ("部门",)),
    TransferColumn("contact_phone", gettext_lazy("Contact phone"), "", ("联系人电话",)),
    TransferColumn("contact_mobile", gettext_lazy("Contact mobile"), "", ("手机", "联系人手机")),
    TransferColumn("contact_email", gettext_lazy("Contact email"), "", ("联系人邮箱",)),
    TransferColumn("contact_wechat", gettext_lazy("Contact WeChat id"), "", ("微信", "微信号")),
    TransferColumn(
        "contact_role",
        gettext_lazy("Contact decision role"),
        gettext_lazy("decision_maker, influencer, user or gatekeeper (or their names)."),
        ("决策角色",),
    ),
)
ACCOUNT_COLUMN_KEYS = tuple(c.key for c in IMPORT_COLUMNS if not c.key.startswith("contact_"))
CONTACT_COLUMN_KEYS = tuple(c.key for c in IMPORT_COLUMNS if c.key.startswith("contact_"))
_ACCOUNT_FIELD_COLUMNS = {
    "name": "account_name",
    "industry": "industry",
    "region": "region",
    "size_band": "employees",
    "status": "status",
    "source": "source",
    "owner": "owner",
    "phone": "phone",
    "email": "email",
    "website": "website",
    "address": "address",
    "notes": "notes",
    "external_id": "external_id",
}
_CONTACT_FIELD_COLUMNS = {
    "name": "contact_name",
    "title": "contact_title",
    "department": "contact_department",
    "phone": "contact_phone",
    "mobile": "contact_mobile",
    "email": "contact_email",
    "wechat_id": "contact_wechat",
    "decision_role": "contact_role",
}


def _column_label(key: str) -> str:
    return next(str(c.label) for c in IMPORT_COLUMNS if c.key == key)


def _fold_header(value) -> str:
    return "".join(str(value or "").lower().replace("_", " ").split()).strip("*:：")


def _header_keys(headers: list) -> dict[int, str]:
    """Which import column each position of the header row holds; unknown headers are
    ignored, and the first of two headers naming the same column wins."""
    names: dict[str, str] = {}
    for column in IMPORT_COLUMNS:
        candidates = {column.key, *column.aliases}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                candidates.add(str(column.label))
        for candidate in candidates:
            names.setdefault(_fold_header(candidate), column.key)
    positions: dict[int, str] = {}
    for index, header in enumerate(headers):
        key = names.get(_fold_header(header))
        if key is not None and key not in positions.values():
            positions[index] = key
    return positions


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.isoformat()
    text_value = str(value).strip()
    # A cell that this application's export neutralised comes back as the original text.
    if text_value[:1] == "'" and text_value[1:2] in FORMULA_PREFIXES:
        text_value = text_value[1:]
    return text_value


def import_file_format(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in IMPORT_FORMATS:
        raise ValidationError(_("Choose a CSV or XLSX file."), code="format")
    return extension


def _decode_csv(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The CSV file must be encoded in UTF-8 or GB18030."), code="encoding")


def import_read_file(*, content: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows of an uploaded CSV or XLSX file as (row number in the spreadsheet, values
    by column key); the header is row 1 and blank rows are skipped."""
    file_format = import_file_format(filename)
    dataset = tablib.Dataset()
    try:
        if file_format == "csv":
            dataset.load(_decode_csv(content), format="csv")
        else:
            dataset.load(io.BytesIO(content), format="xlsx")
    except ValidationError:
        raise
    except Exception as exc:  # the parsers raise many kinds of errors on a damaged file
        raise ValidationError(
            _("This file cannot be read as %(format)s.") % {"format": file_format.upper()},
            code="unreadable",
        ) from exc
    positions = _header_keys(list(dataset.headers or []))
    if "account_name" not in positions.values():
        raise ValidationError(
            _("The header row has no “%(column)s” column. Start from the template.")
            % {"column": _column_label("account_name")},
            code="header",
        )
    rows = []
    for index, raw in enumerate(dataset, start=2):
        values = {key: _cell_text(raw[pos]) for pos, key in positions.items() if pos < len(raw)}
        if any(values.values()):
            rows.append((index, values))
    return rows


@dataclass
class ImportRow:
    """One checked row: `account` holds account_create's arguments (None when the row adds a
    contact to the account of `account_row`), `contact` contact_create's."""

    number: int
    errors: list[str]
    account: dict | None
    contact: dict | None
    account_row: int


def _fold(value: str) -> str:
    return value.strip().casefold()


class _ImportContext:
    """What checking a file needs from the database, read once: lookups, the owners the
    importer may name, and the external ids already taken."""

    def __init__(self, by: User, rows: list[tuple[int, dict[str, str]]]):
        self.by = by
        self.industries = self._lookups(Industry)
        self.regions = self._lookups(Region)
        usernames = {values.get("owner", "") for _number, values in rows} - {""}
        self.owners = {
            user.username: user
            for user in User.objects.visible_to(by)
            .filter(username__in=usernames, is_active=True)
            .select_related("team")
        }
        external_ids = sorted({values.get("external_id", "") for _n, values in rows} - {""})
        self.taken_ids: set[str] = set()
        for start in range(0, len(external_ids), 500):
            self.taken_ids.update(
                Account.objects.filter(
                    external_id__in=external_ids[start : start + 500]
                ).values_list("external_id", flat=True)
            )
        self.external_rows: dict[str, int] = {}
        self.name_rows: dict[str, int] = {}
        self.bad_rows: set[int] = set()
        self.contact_counts: dict[int, int] = defaultdict(int)

    @staticmethod
    def _lookups(model) -> dict[str, Industry | Region]:
        found = {}
        for item in model.objects.all():
            for key in (item.code, item.name, item.name_zh):
                if key:
                    found.setdefault(_fold(key), item)
        return found


def _choice(value: str, choices, default=None):
    """A model choice by its value or its label in English or Chinese; None if unknown."""
    if not value:
        return default
    wanted = _fold(value)
    for choice_value, label in choices:
        names = {_fold(str(choice_value))}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names.add(_fold(str(label)))
        if wanted in names:
            return choice_value
    return None


def _size_band(value: str, errors: list[str]) -> int | None:
    if not value:
        return None
    digits = value.replace(",", "").replace(" ", "")
    if not digits.isdigit() or int(digits) < 1:
        errors.append(
            _("%(column)s: enter a whole number of employees.")
            % {"column": _column_label("employees")}
        )
        return None
    return max(band for band in Account.SizeBand.values if band <= int(digits))


def _field_errors(error: ValidationError, columns: dict[str, str]) -> list[str]:
    messages = []
    for field, field_messages in error.message_dict.items():
        key = columns.get(field)
        for message in field_messages:
            messages.append(f"{_column_label(key)}: {message}" if key else message)
    return messages


def _check_lookup(kind, value: str, found: dict, errors: list[str]):
    if not value:
        return None
    item = found.get(_fold(value))
    label = _column_label(kind)
    if item is None:
        errors.append(_("%(column)s: “%(value)s” is unknown.") % {"column": label, "value": value})
    elif not item.active:
        errors.append(
            _("%(column)s: “%(value)s” is no longer offered.") % {"column": label, "value": value}
        )
        return None
    return item


def _check_contact(values: dict[str, str], errors: list[str], primary: bool) -> dict | None:
    if not any(values.get(key) for key in CONTACT_COLUMN_KEYS):
        return None
    role = values.get("contact_role", "")
    decision_role = _choice(role, Contact.DecisionRole.choices, default="")
    if decision_role is None:
        errors.append(
            _("%(column)s: “%(value)s” is unknown.")
            % {"column": _column_label("contact_role"), "value": role}
        )
        decision_role = ""
    fields = {
        "name": values.get("contact_name", ""),
        "title": values.get("contact_title", ""),
        "department": values.get("contact_department", ""),
        "phone": values.get("contact_phone", ""),
        "mobile": values.get("contact_mobile", ""),
        "email": values.get("contact_email", ""),
        "wechat_id": values.get("contact_wechat", ""),
        "decision_role": decision_role,
        "is_primary": primary,
    }
    try:
        Contact(**fields).full_clean(exclude=["account"], validate_constraints=False)
    except ValidationError as error:
        errors.extend(_field_errors(error, _CONTACT_FIELD_COLUMNS))
    return fields


def _check_extra_contact(context: _ImportContext, number: int, values: dict) -> ImportRow:
    """A row repeating an earlier row's external id with no account details: one more
    contact of that account."""
    errors: list[str] = []
    account_row = context.external_rows[values["external_id"]]
    if account_row in context.bad_rows:
        errors.append(
            _("The account of this contact, on row %(row)d, has errors.") % {"row": account_row}
        )
    if not values.get("contact_name"):
        errors.append(
            _("%(column)s: already used on row %(row)d of this file.")
            % {"column": _column_label("external_id"), "row": account_row}
        )
    contact = _check_contact(values, errors, primary=False)
    return ImportRow(number, errors, None, contact, account_row)


def _check_account_row(context: _ImportContext, number: int, values: dict) -> ImportRow:
    by = context.by
    external_id = values.get("external_id", "")
    account_details = [
        key for key in ACCOUNT_COLUMN_KEYS if key != "external_id" and values.get(key)
    ]
    if external_id in context.external_rows and not account_details:
        return _check_extra_contact(context, number, values)
    errors: list[str] = []
    name = values.get("account_name", "")
    industry = _check_lookup("industry", values.get("industry", ""), context.industries, errors)
    region = _check_lookup("region", values.get("region", ""), context.regions, errors)
    size_band = _size_band(values.get("employees", ""), errors)
    status = _choice(values.get("status", ""), Account.Status.choices, Account.Status.LEAD)
    source = _choice(values.get("source", ""), Account.Source.choices, Account.Source.IMPORT)
    for key, value in (("status", status), ("source", source)):
        if value is None:
            errors.append(
                _("%(column)s: “%(value)s” is unknown.")
                % {"column": _column_label(key), "value": values[key]}
            )
    username = values.get("owner", "")
    owner = context.owners.get(username) if username else by
    if owner is None:
        errors.append(
            _("%(column)s: “%(value)s” is not an active person in your teams.")
            % {"column": _column_label("owner"), "value": username}
        )
    if external_id in context.external_rows:
        errors.append(
            _("%(column)s: already used on row %(row)d of this file.")
            % {"column": _column_label("external_id"), "row": context.external_rows[external_id]}
        )
    elif external_id in context.taken_ids:
        errors.append(
            f"{_column_label('external_id')}: "
            + _("An account with this external id already exists.")
        )
    fields = {
        "name": name,
        "owner": owner,
        "industry": industry,
        "region": region,
        "size_band": size_band,
        "status": status or Account.Status.LEAD,
        "source": source or Account.Source.IMPORT,
        "website": values.get("website", ""),
        "phone": values.get("phone", ""),
        "email": values.get("email", ""),
        "address": values.get("address", ""),
        "notes": values.get("notes", ""),
        "external_id": external_id,
    }
    try:
        Account(**fields).full_clean(validate_constraints=False)
    except ValidationError as error:
        errors.extend(_field_errors(error, _ACCOUNT_FIELD_COLUMNS))
    normalized = text.normalize_name(name)
    if normalized and normalized in context.name_rows:
        errors.append(
            _("The same company as row %(row)d of this file.")
            % {"row": context.name_rows[normalized]}
        )
    elif name and not errors:
        matches = list(
            selectors.duplicates_for(
                viewer=by,
                name=name,
                phone=fields["phone"],
                email=fields["email"],
                website=fields["website"],
            )[:5]
        )
        if matches:
            errors.extend(DuplicateAccountError(matches).messages)
    contact = _check_contact(values, errors, primary=True)
    if external_id and external_id not in context.external_rows:
        context.external_rows[external_id] = number
    if normalized:
        context.name_rows.setdefault(normalized, number)
    return ImportRow(number, errors, fields, contact, number)


def import_check(
    *,
    by: User,
    rows: list[tuple[int, dict[str, str]]],
    progress: Callable[[int], None] | None = None,
) -> list[ImportRow]:
    """Checks every row with the rules of account_create and contact_create and writes
    nothing; `progress` is told how many rows are done every PROGRESS_EVERY rows."""
    context = _ImportContext(by, rows)
    checked = []
    for done, (number, values) in enumerate(rows, start=1):
        row = _check_account_row(context, number, values)
        if row.errors:
            context.bad_rows.add(number)
        checked.append(row)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done)
    return checked


@transaction.atomic
def import_write(*, by: User, checked: list[ImportRow]) -> tuple[int, int]:
    """Creates the accounts and contacts of the valid rows in one transaction through
    account_create and contact_create; returns (accounts, contacts) created."""
    accounts: dict[int, Account] = {}
    contacts = 0
    for row in checked:
        if row.errors:
            continue
        try:
            if row.account is not None:
                accounts[row.number] = account_create(by=by, allow_duplicate=True, **row.account)
            if row.contact is not None and row.account_row in accounts:
                contact_create(by=by, account=accounts[row.account_row], **row.contact)
                contacts += 1
        except ValidationError as error:
            raise ValidationError(
                [
                    _("Row %(row)d: %(errors)s")
                    % {"row": row.number, "errors": " ".join(error.messages)}
                ]
            ) from error
    return len(accounts), contacts


def _row_errors(checked: list[ImportRow]) -> list[dict]:
    return [{"row": row.number, "messages": row.errors} for row in checked if row.errors]


def _job_rows(job: ImportJob) -> list[tuple[int, dict[str, str]]]:
    with job.file.open("rb") as handle:
        return import_read_file(content=handle.read(), filename=job.original_name)


def _job_progress(job: ImportJob) -> Callable[[int], None]:
    def progress(done: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed=done, updated_at=timezone.now())

    return progress


@transaction.atomic
def import_job_create(*, by: User, upload) -> ImportJob:
    """Stores an uploaded file as an import job and checks it: at once for a small file, in
    a Celery task for a large one."""
    import_file_format(upload.name)
    if upload.size > IMPORT_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)d MB.") % {"size": IMPORT_MAX_BYTES // 2**20},
            code="size",
        )
    rows = import_read_file(content=upload.read(), filename=upload.name)
    if not rows:
        raise ValidationError(_("The file has no rows below the header."), code="empty")
    upload.seek(0)
    job = ImportJob.objects.create(
        user=by, file=upload, original_name=upload.name[:255], total=len(rows)
    )
    if len(rows) > INLINE_IMPORT_MAX_ROWS:
        from customers.tasks import check_import

        transaction.on_commit(lambda: check_import.delay(job.pk))
        return job
    return import_job_check(job_id=job.pk, rows=rows)


def import_job_check(*, job_id: int, rows: list | None = None) -> ImportJob:
    """The dry run of a job: every bad row and why, and how many rows are good."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status not in {ImportJob.Status.PENDING, ImportJob.Status.CHECKING}:
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING, processed=0, updated_at=timezone.now()
    )
    rows = rows if rows is not None else _job_rows(job)
    checked = import_check(by=job.user, rows=rows, progress=_job_progress(job))
    job.errors = _row_errors(checked)
    job.total = len(rows)
    job.processed = len(rows)
    job.valid_rows = len(rows) - len(job.errors)
    job.status = ImportJob.Status.CHECKED
    job.save(update_fields=["errors", "total", "processed", "valid_rows", "status", "updated_at"])
    return job


@transaction.atomic
def import_job_start(*, by: User, job: ImportJob, valid_only: bool) -> ImportJob:
    """Starts writing a checked job: the whole file, which must then be valid, or only its
    valid rows."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk, user=by)
    if job.status != ImportJob.Status.CHECKED:
        raise ValidationError(_("This import is not waiting to be imported."), code="state")
    if not valid_only and job.errors:
        raise ValidationError(
            _("Some rows have errors: fix the file, or import only the valid rows."),
            code="invalid",
        )
    if job.valid_rows == 0:
        raise ValidationError(_("No row of this file is valid."), code="empty")
    job.valid_only = valid_only
    job.status = ImportJob.Status.QUEUED
    job.processed = 0
    job.save(update_fields=["valid_only", "status", "processed", "updated_at"])
    if job.total > INLINE_IMPORT_MAX_ROWS:
        from customers.tasks import run_import

        transaction.on_commit(lambda: run_import.delay(job.pk))
        return job
    return import_job_run(job_id=job.pk)


def import_job_run(*, job_id: int) -> ImportJob:
    """Checks the file again (the data may have changed since the dry run), then writes it
    in one transaction; a job that meets an error writes nothing and keeps the errors."""
    # Taking the job is one conditional update, so a task delivered twice imports once.
    taken = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.IMPORTING, updated_at=timezone.now()
    )
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if not taken:
        return job
    checked = import_check(by=job.user, rows=_job_rows(job), progress=_job_progress(job))
    job.errors = _row_errors(checked)
    job.finished_at = timezone.now()
    if job.errors and not job.valid_only:
        job.status = ImportJob.Status.FAILED
    else:
        try:
            job.created_accounts, job.created_contacts = import_write(by=job.user, checked=checked)
            job.status = ImportJob.Status.DONE
        except (ValidationError, PermissionDenied) as error:
            job.errors = [
                *job.errors,
                {"row": 0, "messages": list(getattr(error, "messages", [str(error)]))},
            ]
            job.status = ImportJob.Status.FAILED
    job.processed = job.total
    job.save(
        update_fields=[
            "errors",
            "status",
            "processed",
            "created_accounts",
            "created_contacts",
            "finished_at",
            "updated_at",
        ]
    )
    return job


def import_template(*, file_format: str) -> bytes:
    """An empty import file with every column and one example account with two contacts."""
    import_file_format(f"template.{file_format}")
    dataset = tablib.Dataset(headers=[str(column.label) for column in IMPORT_COLUMNS])
    example = {
        "account_name": "上海华信科技有限公司",
        "industry": "manufacturing",
        "region": "shanghai",
        "employees": "250",
        "status": "prospect",
        "phone": "021-5555 0100",
        "email": "info@huaxin.example",
        "website": "https://huaxin.example",
        "address": "上海市浦东新区",
        "external_id": "ERP-1001",
        "contact_name": "王伟",
        "contact_title": "采购经理",
        "contact_mobile": "13900000001",
        "contact_email": "wang.wei@huaxin.example",
        "contact_role": "decision_maker",
    }
    second = {"external_id": "ERP-1001", "contact_name": "李娜", "contact_title": "IT Director"}
    for row in (example, second):
        dataset.append([row.get(column.key, "") for column in IMPORT_COLUMNS])
    exported = dataset.export(file_format)
    return exported.encode("utf-8-sig") if isinstance(exported, str) else exported


def neutralize_cell(value):
    """A text cell that a spreadsheet would read as a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


EXPORT_COLUMNS: tuple[tuple[str, Callable[[Account], object]], ...] = (
    (gettext_lazy("Id"), lambda a: a.pk),
    (gettext_lazy("Account name"), lambda a: a.name),
    (gettext_lazy("Industry"), lambda a: a.industry.display_name if a.industry else ""),
    (gettext_lazy("Region"), lambda a: a.region.display_name if a.region else ""),
    (gettext_lazy("Employees"), lambda a: a.size_band or ""),
    (gettext_lazy("Status"), lambda a: a.get_status_display()),
    (gettext_lazy("Tier"), lambda a: a.tier),
    (gettext_lazy("Lead score"), lambda a: a.lead_score),
    (gettext_lazy("Source"), lambda a: a.get_source_display()),
    (gettext_lazy("Owner username"), lambda a: a.owner.username if a.owner else ""),
    (gettext_lazy("Pool team"), lambda a: str(a.pool_team) if a.in_pool else ""),
    (gettext_lazy("Phone"), lambda a: a.phone),
    (gettext_lazy("Email"), lambda a: a.email),
    (gettext_lazy("Website"), lambda a: a.website),
    (gettext_lazy("Address"), lambda a: a.address),
    (gettext_lazy("Notes"), lambda a: a.notes),
    (gettext_lazy("External id"), lambda a: a.external_id),
    (gettext_lazy("Tags"), lambda a: ", ".join(tag.name for tag in a.tags.all())),
    (gettext_lazy("Last contacted at"), lambda a: _local_text(a.last_contacted_at)),
    (gettext_lazy("Created at"), lambda a: _local_text(a.created_at)),
)


def export_filename(file_format: str) -> str:
    return f"accounts-{timezone.localdate():%Y%m%d}.{file_format}"


def _local_text(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def export_rows(queryset) -> Iterable[list]:
    """The header and one neutralised row per account, read in chunks of
    EXPORT_CHUNK_SIZE (the tags of each chunk in one more query)."""
    yield [str(label) for label, _getter in EXPORT_COLUMNS]
    for account in queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield [neutralize_cell(getter(account)) for _label, getter in EXPORT_COLUMNS]


def export_csv_lines(queryset) -> Iterable[str]:
    """The export as CSV text, line by line, for a streaming response."""
    return exports.csv_lines(export_rows(queryset))


def export_xlsx(queryset) -> bytes:
    return exports.xlsx_bytes(export_rows(queryset), title=str(_("Accounts")))
