"""Reads of the customers app. Every one starts from `visible_to(user)` (DESIGN.md §4)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers import scoring, text
from customers.filtersets import (
    AccountFilterSet,
    ContactFilterSet,
    FollowUpFilterSet,
    InteractionFilterSet,
)
from customers.models import (
    Account,
    AccountEvent,
    Contact,
    CustomerSettings,
    FollowUp,
    ImportJob,
    Interaction,
    Tag,
)
from teams.models import User, person_name
from teams.selectors import is_manager

ACCOUNT_ROW_RELATED = ("owner", "industry", "region", "pool_team")


# Accounts


def editable_accounts(user: User) -> QuerySet:
    """The accounts `user` may change: an admin all, a manager every account they see, a rep
    the accounts they own (pool accounts must be claimed first)."""
    if not user.is_authenticated or not user.is_active:
        return Account.objects.none()
    if user.is_admin:
        return Account.objects.all()
    if is_manager(user):
        return Account.objects.visible_to(user)
    return Account.objects.filter(owner=user)


def can_edit_account(user: User, account: Account) -> bool:
    return editable_accounts(user).filter(pk=account.pk).exists()


def account_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    """The visible accounts with what a list row shows: owner, industry, region, pool team
    and tags, in a constant number of queries."""
    qs = (
        Account.objects.visible_to(viewer)
        .select_related(*ACCOUNT_ROW_RELATED)
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )
    if filters is None:
        return qs
    return AccountFilterSet(filters, queryset=qs, request=request).qs


ACCOUNT_ROW_FIELDS = (
    "id",
    "name",
    "status",
    "tier",
    "lead_score",
    "industry_id",
    "region_id",
    "size_band",
    "source",
    "owner_id",
    "pool_team_id",
    "last_contacted_at",
    "external_id",
    "updated_at",
    "deleted_at",
)


def account_rows(keys: list[int]) -> list[dict]:
    """The list rows of accounts already picked from the visible ones (a page of a list,
    say), in the order of `keys`, as plain values: the account's own fields, the owner's
    name and the tag ids (by tag name). One query whatever the number, and no model is
    built, since REST clients page through every account they sync."""
    owner = ("owner__username", "owner__first_name", "owner__last_name")
    rows = {}
    # One line per account and tag (or one without a tag), tags in name order.
    lines = (
        Account.all_objects.filter(pk__in=keys)
        .values(*ACCOUNT_ROW_FIELDS, *owner, "tags")
        .order_by("tags__name", "tags")
    )
    for line in lines:
        tag = line.pop("tags")
        row = rows.get(line["id"])
        if row is None:
            row = rows[line["id"]] = line
            names = [line.pop(name) for name in owner]
            row["owner_name"] = person_name(*names) if row["owner_id"] else None
            row["tags"] = []
        if tag is not None:
            row["tags"].append(tag)
    return [rows[key] for key in keys if key in rows]


def account_get(*, viewer: User, pk) -> Account:
    return get_object_or_404(account_list(viewer=viewer), pk=pk)


def account_tombstones(*, viewer: User, updated_after: datetime | None = None) -> QuerySet:
    """Soft-deleted accounts the viewer could see, for sync clients to delete their copies."""
    qs = Account.all_objects.visible_to(viewer).filter(deleted_at__isnull=False)
    if updated_after is not None:
        qs = qs.filter(updated_at__gt=updated_after)
    return qs.only("pk", "deleted_at", "updated_at")


def account_search(*, viewer: User, query: str, limit: int = 20) -> QuerySet:
    """Accounts matched by Chinese or English name, pinyin, pinyin initials, phone or email,
    of the account or of one of its contacts."""
    return (
        Account.objects.visible_to(viewer)
        .search(query)
        .only("pk", "name", "owner_id", "status")
        .order_by("name", "pk")[:limit]
    )


def pool_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    """Accounts in the public pools the viewer may see and claim, latest released first."""
    return (
        account_list(viewer=viewer, filters=filters, request=request)
        .in_pool()
        .order_by("-released_at", "-id")
    )


def duplicates_for(
    *,
    viewer: User | None,
    name: str = "",
    phone: str = "",
    email: str = "",
    website: str = "",
    exclude_pk: int | None = None,
) -> QuerySet:
    """Visible accounts that look like the same company: the same normalized name, the same
    phone number (the account's or a contact's), or the same company email domain."""
    base = Account.objects.all() if viewer is None else Account.objects.visible_to(viewer)
    conditions = Q(pk__in=[])
    normalized = text.normalize_name(name)
    if normalized:
        conditions |= Q(name_normalized=normalized)
    digits = text.phone_digits(phone)
    if len(digits) >= 6:
        contacts = Contact.objects.filter(Q(phone_digits=digits) | Q(mobile_digits=digits))
        conditions |= Q(phone_digits=digits) | Q(pk__in=contacts.values("account_id"))
    domains = {text.email_domain(email), text.website_domain(website)} - {""}
    domains -= text.FREE_MAIL_DOMAINS
    for domain in domains:
        contacts = Contact.objects.filter(email__iendswith=f"@{domain}")
        conditions |= Q(email_domain=domain) | Q(pk__in=contacts.values("account_id"))
    qs = base.filter(conditions).select_related("owner").order_by("name", "pk")
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs


def account_duplicates(*, viewer: User, account: Account) -> QuerySet:
    return duplicates_for(
        viewer=viewer,
        name=account.name,
        phone=account.phone,
        email=account.email,
        website=account.website,
        exclude_pk=account.pk,
    )


def score_explain(*, account: Account) -> scoring.Score:
    """The account's score rule by rule, for the account page."""
    return scoring.evaluate(account)


# Timeline


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an account's timeline. The customers kinds ("interaction", "follow_up",
    "event") are drawn from their item; entries from other apps' sources carry their own
    label, title, link, author and details."""

    kind: str
    at: datetime
    item: object
    label: str = ""
    title: str = ""
    url: str = ""
    by: User | None = None
    detail: dict = field(default_factory=dict)


TimelineSource = Callable[[User, int, int], list[TimelineEntry]]
_timeline_sources: list[TimelineSource] = []


def register_timeline_source(func: TimelineSource) -> TimelineSource:
    """Lets a higher app (the pipeline's deals, say) add its entries to account timelines;
    the source gets the viewer, the id of an account the viewer sees and the limit, and
    applies visibility to its own records."""
    if func not in _timeline_sources:
        _timeline_sources.append(func)
    return func


def account_timeline(*, viewer: User, account_id: int, limit: int = 100) -> list[TimelineEntry]:
    """Interactions, follow-ups, events and the registered sources' entries (deals) of a
    visible account, newest first, in a fixed number of queries whatever its history; an
    account out of sight is a 404."""
    if not Account.objects.visible_to(viewer).filter(pk=account_id).exists():
        raise Http404
    interactions = (
        Interaction.objects.filter(account_id=account_id)
        .select_related("logged_by", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
    followups = (
        FollowUp.objects.filter(account_id=account_id)
        .select_related("assignee", "contact")
        .order_by("-due_at", "-id")[:limit]
    )
    events = (
        AccountEvent.objects.filter(account_id=account_id)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = [TimelineEntry("interaction", item.occurred_at, item) for item in interactions]
    entries += [TimelineEntry("follow_up", item.due_at, item) for item in followups]
    entries += [TimelineEntry("event", item.created_at, item) for item in events]
    for source in _timeline_sources:
        entries += source(viewer, account_id, limit)
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


# Contacts, interactions, follow-ups


def contact_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Contact.objects.visible_to(viewer).select_related("account")
    if filters is None:
        return qs
    return ContactFilterSet(filters, queryset=qs, request=request).qs


def contact_get(*, viewer: User, pk) -> Contact:
    return get_object_or_404(contact_list(viewer=viewer), pk=pk)


def contact_search(*, viewer: User, query: str, limit: int = 20) -> QuerySet:
    return contact_list(viewer=viewer).search(query).order_by("name", "pk")[:limit]


def contact_tombstones(*, viewer: User, updated_after: datetime | None = None) -> QuerySet:
    qs = Contact.all_objects.visible_to(viewer, with_deleted_accounts=True).filter(
        deleted_at__isnull=False
    )
    if updated_after is not None:
        qs = qs.filter(updated_at__gt=updated_after)
    return qs.only("pk", "deleted_at", "updated_at")


def interaction_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Interaction.objects.visible_to(viewer).select_related("account", "contact", "logged_by")
    if filters is None:
        return qs
    return InteractionFilterSet(filters, queryset=qs, request=request).qs


def interaction_get(*, viewer: User, pk) -> Interaction:
    return get_object_or_404(interaction_list(viewer=viewer), pk=pk)


def interaction_tombstones(*, viewer: User, updated_after: datetime | None = None) -> QuerySet:
    qs = Interaction.all_objects.visible_to(viewer, with_deleted_accounts=True).filter(
        deleted_at__isnull=False
    )
    if updated_after is not None:
        qs = qs.filter(updated_at__gt=updated_after)
    return qs.only("pk", "deleted_at", "updated_at")


def followup_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = FollowUp.objects.visible_to(viewer).select_related("account", "contact", "assignee")
    if filters is None:
        return qs
    return FollowUpFilterSet(filters, queryset=qs, request=request).qs


def followup_get(*, viewer: User, pk) -> FollowUp:
    return get_object_or_404(followup_list(viewer=viewer), pk=pk)


def can_edit_followup(user: User, followup: FollowUp) -> bool:
    """The assignee works their follow-up; a manager or admin any follow-up they see."""
    if followup.assignee_id == user.pk:
        return True
    if not (user.is_admin or is_manager(user)):
        return False
    return FollowUp.objects.visible_to(user).filter(pk=followup.pk).exists()


def _local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class FollowUpBuckets:
    overdue: list[FollowUp]
    today: list[FollowUp]
    upcoming: list[FollowUp]


def my_followups(
    *, user: User, now: datetime | None = None, upcoming_days: int = 14
) -> FollowUpBuckets:
    """The user's open follow-ups as overdue, due today and upcoming, where "today" is the
    calendar day in the installation time zone; one query."""
    now = now or timezone.now()
    day_start, day_end = _local_day_bounds(now)
    rows = list(
        FollowUp.objects.visible_to(user)
        .filter(
            assignee=user,
            status=FollowUp.Status.OPEN,
            due_at__lt=day_end + timedelta(days=upcoming_days),
        )
        .select_related("account", "contact")
        .order_by("due_at", "id")
    )
    return FollowUpBuckets(
        overdue=[row for row in rows if row.due_at < now],
        today=[row for row in rows if now <= row.due_at < day_end],
        upcoming=[row for row in rows if row.due_at >= day_end],
    )


@dataclass(frozen=True)
class AccountRowExtras:
    primary_contact: Contact | None
    next_followup: FollowUp | None


def account_row_extras(*, viewer: User, account_ids: list[int]) -> dict[int, AccountRowExtras]:
    """What a list row shows beyond the account itself, for the rows of one page only: the
    primary contact and the next open follow-up. Two queries whatever the page size."""
    ids = list(account_ids)
    if not ids:
        return {}
    contacts = {
        contact.account_id: contact
        for contact in Contact.objects.visible_to(viewer).filter(
            account_id__in=ids, is_primary=True
        )
    }
    followups: dict[int, FollowUp] = {}
    for followup in (
        FollowUp.objects.visible_to(viewer)
        .open()
        .filter(account_id__in=ids)
        .select_related("assignee")
        .order_by("-due_at", "-id")
    ):
        followups[followup.account_id] = followup
    return {
        pk: AccountRowExtras(primary_contact=contacts.get(pk), next_followup=followups.get(pk))
        for pk in ids
    }


def followup_counts(*, buckets: FollowUpBuckets) -> dict[str, int]:
    return {
        "overdue": len(buckets.overdue),
        "today": len(buckets.today),
        "upcoming": len(buckets.upcoming),
    }


# Imports


def import_job_list(*, user: User) -> QuerySet:
    """The imports a user started, newest first; nobody else's."""
    return ImportJob.objects.filter(user=user).order_by("-created_at", "-id")


def import_job_get(*, user: User, pk) -> ImportJob:
    return get_object_or_404(import_job_list(user=user), pk=pk)


@dataclass(frozen=True)
class ClaimAllowance:
    owned: int
    cap: int

    @property
    def left(self) -> int:
        return max(self.cap - self.owned, 0)


def pool_claim_allowance(*, user: User) -> ClaimAllowance:
    """How many accounts the user owns against the admin's claim cap, for the pool page."""
    return ClaimAllowance(
        owned=Account.objects.filter(owner=user).count(),
        cap=CustomerSettings.load().pool_claim_cap,
    )
