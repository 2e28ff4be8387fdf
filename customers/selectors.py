"""Reads of the customers app. Every one starts from `visible_to(user)` (DESIGN.md §4)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
from customers.querysets import account_visibility_sql
from salesmgmt.core.db import value_reader
from teams.models import User, person_name
from teams.querysets import can_read
from teams.selectors import is_manager

ACCOUNT_ROW_RELATED = ("owner", "industry", "region", "pool_team")


# Accounts


def editable_accounts(user: User) -> QuerySet:
    """The accounts `user` may change: an admin all, a manager every account they see, a rep
    the accounts they own (pool accounts must be claimed first)."""
    if not can_read(user):
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


def account_rows(*, viewer: User, keys: list[int]) -> list[dict]:
    """The list rows of the accounts of `keys` that the viewer sees (a page of a list,
    say; soft-deleted ones as well, for tombstones), in the order of `keys`, as plain
    values: the account's own fields, the owner's name and the tag ids (by tag name). One
    query whatever the number, and no model is built, since REST clients page through
    every account they sync."""
    owner = ("owner__username", "owner__first_name", "owner__last_name")
    rows = {}
    # One line per account and tag (or one without a tag), tags in name order.
    lines = (
        Account.all_objects.visible_to(viewer)
        .filter(pk__in=keys)
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
#
# An account's timeline is read with one statement: a UNION ALL of one branch per kind
# (interactions, follow-ups, events, and every registered source's, such as the pipeline's
# deal history), each branch the newest `limit` rows of its kind, all yielding the columns
# below. Accounts are opened all day, and separate queries cost several times the reading.

# Every branch's columns, with the type a branch casts a column it has no value for to
# (PostgreSQL types a bare NULL inside a subquery as text, which no UNION could match).
TIMELINE_COLUMNS = {
    "kind": "varchar(20)",
    "id": "bigint",
    "at": "timestamp with time zone",
    "type": "varchar(20)",
    "title": "varchar(300)",
    "by_id": "bigint",
    "contact_name": "varchar(200)",
    "body": "text",
    "next_step": "varchar(300)",
    "due": "timestamp with time zone",
    "state": "varchar(20)",
    "priority": "integer",
    "ref_id": "bigint",
    "from_name": "varchar(100)",
    "to_name": "varchar(100)",
    "amount": "numeric",
    "extra": "text",
}


def timeline_select(**columns: str) -> str:
    """The SELECT list of a timeline branch: the given SQL expressions by column name, NULL
    of the column's type for the others."""
    unknown = set(columns) - set(TIMELINE_COLUMNS)
    if unknown:
        raise ValueError(f"Not timeline columns: {sorted(unknown)}")
    return "SELECT " + ", ".join(
        f"{columns[name]} AS {name}" if name in columns else f"CAST(NULL AS {kind}) AS {name}"
        for name, kind in TIMELINE_COLUMNS.items()
    )


def _moment(value) -> datetime | None:
    """A timestamp column of the timeline statement as the ORM gives a timestamp."""
    return value_reader(Interaction._meta.get_field("occurred_at"))(value)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an account's timeline, as the page and the API show it: what happened
    (`label`, translated, and `type`, its code), about what (`title`, and `link` to its
    page), by whom, and `detail`, the kind's own facts as the API writes them. The page
    also shows a state (outcome or status), the contact, the text and the next step."""

    kind: str
    id: int
    at: datetime
    type: str
    label: str
    title: str = ""
    link: Callable[[], str] | None = None
    by: int | None = None
    by_name: str = ""
    state: str = ""
    state_label: str = ""
    contact_name: str = ""
    text: str = ""
    next_step: str = ""
    next_step_due: datetime | None = None
    detail: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Worked out only when a page shows it; the API has no links."""
        return self.link() if self.link else ""


@dataclass(frozen=True)
class TimelineSource:
    """Another app's entries on account timelines (the pipeline's deal history, say).
    `branch(viewer, account_id, limit)` returns the SQL and parameters of one branch: a
    `timeline_select` list over the source's newest `limit` rows of the account that the
    viewer may see (the source applies the visibility rule to its own records), ordered
    newest first; `entry(row)` turns one row, a dict by column name, into an entry."""

    kind: str
    branch: Callable[[User, int, int], tuple[str, list]]
    entry: Callable[[dict], TimelineEntry]


_timeline_sources: dict[str, TimelineSource] = {}


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    _timeline_sources[source.kind] = source
    return source


def _choice_label(choices, value: str) -> str:
    """The label of a stored choice, the value itself when it is no longer a choice (as a
    model's get_FOO_display does)."""
    try:
        return choices(value).label
    except ValueError:
        return value


def timeline_entry(row: dict, **fields) -> TimelineEntry:
    """The entry of a timeline row: what every row carries (kind, id, time, type and who it
    is by, from the `by_` columns: the branch's `by_id` and the statement's names of that
    user) with the kind's own `fields`."""
    by_id = row["by_id"]
    by_name = (
        ""
        if by_id is None
        else person_name(row["by_username"], row["by_first_name"], row["by_last_name"])
    )
    return TimelineEntry(
        kind=row["kind"],
        id=row["id"],
        at=_moment(row["at"]),
        type=row["type"],
        by=by_id,
        by_name=by_name,
        **fields,
    )


def _interaction_branch(viewer: User, account_id: int, limit: int) -> tuple[str, list]:
    sql = (
        timeline_select(
            kind="'interaction'",
            id="x.id",
            at="x.occurred_at",
            type="x.kind",
            title="x.subject",
            by_id="x.logged_by_id",
            contact_name="c.name",
            body="x.summary",
            next_step="x.next_step",
            due="x.next_step_due",
            state="x.outcome",
        )
        + f" FROM {Interaction._meta.db_table} x"
        f" LEFT JOIN {Contact._meta.db_table} c ON c.id = x.contact_id"
        " WHERE x.account_id = %s AND x.deleted_at IS NULL"
        " ORDER BY x.occurred_at DESC, x.id DESC LIMIT %s"
    )
    return sql, [account_id, limit]


def _interaction_entry(row: dict) -> TimelineEntry:
    outcome = row["state"] or ""
    contact_name = row["contact_name"] or ""
    return timeline_entry(
        row,
        label=_choice_label(Interaction.Kind, row["type"]),
        title=row["title"],
        state=outcome,
        state_label=_choice_label(Interaction.Outcome, outcome),
        contact_name=contact_name,
        text=row["body"],
        next_step=row["next_step"],
        next_step_due=_moment(row["due"]),
        detail={
            "type": row["type"],
            "outcome": outcome,
            "summary": row["body"],
            "next_step": row["next_step"],
            "contact_name": contact_name,
        },
    )


def _follow_up_branch(viewer: User, account_id: int, limit: int) -> tuple[str, list]:
    sql = (
        timeline_select(
            kind="'follow_up'",
            id="f.id",
            at="f.due_at",
            type="'follow_up'",
            title="f.title",
            by_id="f.assignee_id",
            body="f.note",
            state="f.status",
            priority="f.priority",
        )
        + f" FROM {FollowUp._meta.db_table} f"
        " WHERE f.account_id = %s ORDER BY f.due_at DESC, f.id DESC LIMIT %s"
    )
    return sql, [account_id, limit]


def _follow_up_entry(row: dict) -> TimelineEntry:
    return timeline_entry(
        row,
        label=_("Follow-up"),
        title=row["title"],
        state=row["state"],
        state_label=_choice_label(FollowUp.Status, row["state"]),
        text=row["body"],
        detail={"status": row["state"], "priority": row["priority"], "note": row["body"]},
    )


def _event_branch(viewer: User, account_id: int, limit: int) -> tuple[str, list]:
    sql = (
        timeline_select(
            kind="'event'",
            id="e.id",
            at="e.created_at",
            type="e.kind",
            by_id="e.actor_id",
            extra="CAST(e.detail AS text)",
        )
        + f" FROM {AccountEvent._meta.db_table} e"
        " WHERE e.account_id = %s ORDER BY e.created_at DESC, e.id DESC LIMIT %s"
    )
    return sql, [account_id, limit]


def _event_entry(row: dict) -> TimelineEntry:
    label = str(_choice_label(AccountEvent.Kind, row["type"]))
    return timeline_entry(
        row,
        label=label,
        title=label,
        detail={"type": row["type"], **json.loads(row["extra"] or "{}")},
    )


_OWN_TIMELINE_SOURCES = (
    TimelineSource("interaction", _interaction_branch, _interaction_entry),
    TimelineSource("follow_up", _follow_up_branch, _follow_up_entry),
    TimelineSource("event", _event_branch, _event_entry),
)


def account_timeline(*, viewer: User, account_id: int, limit: int = 100) -> list[TimelineEntry]:
    """Interactions, follow-ups, events and the registered sources' entries (deals) of a
    visible account, newest first, in one statement whatever its history; an account out
    of sight is a 404.

    The branches are left-joined to the visible account, so an invisible account gives no
    row at all and a visible one without history a single row of NULLs."""
    condition, params = account_visibility_sql(viewer, "a")
    visible = (
        f"SELECT a.id FROM {Account._meta.db_table} a"
        f" WHERE a.id = %s AND a.deleted_at IS NULL AND {condition}"
    )
    params = [account_id, *params]
    sources = [*_OWN_TIMELINE_SOURCES, *_timeline_sources.values()]
    branches = []
    for number, source in enumerate(sources):
        sql, branch_params = source.branch(viewer, account_id, limit)
        branches.append(f"SELECT * FROM ({sql}) AS branch_{number}")
        params = [*params, *branch_params]
    # Who each entry is by is named once, after the union: joining the users in every
    # branch made planning the statement cost more than running it.
    columns = ", ".join(f"entries.{name}" for name in TIMELINE_COLUMNS)
    statement = (
        f"SELECT {columns}, by_user.username, by_user.first_name, by_user.last_name"
        f" FROM ({visible}) AS account"
        f" LEFT JOIN ({' UNION ALL '.join(branches)}) AS entries ON 1 = 1"
        f" LEFT JOIN {User._meta.db_table} by_user ON by_user.id = entries.by_id"
        " ORDER BY entries.at DESC, entries.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, limit])
        rows = cursor.fetchall()
    if not rows:
        raise Http404
    builders = {source.kind: source.entry for source in sources}
    names = [*TIMELINE_COLUMNS, "by_username", "by_first_name", "by_last_name"]
    return [
        builders[row[0]](dict(zip(names, row, strict=True))) for row in rows if row[0] is not None
    ]


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
