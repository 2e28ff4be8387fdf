"""Reads of the pipeline app: visible deals, their history, the funnel and the forecast.

Every read for a user starts from `Deal.objects.visible_to(user)` (DESIGN.md §4). Reports
aggregate in SQL (GROUP BY stage, owner, category) and then combine the few aggregate rows
per stage in Python; nothing loops over deals.

Scopes of the reports: "me" (the viewer's own deals), "rep" (one person the viewer may see),
"team" (a team subtree the viewer manages; admins any team) and "all" (everything the viewer
sees). A rep or team outside the viewer's reach answers 404, like any invisible record.

Funnel definitions, for a pipeline, a date range (local dates, both ends included) and a
scope; the lost stage has no row of its own:

- in stage now: open deals in the stage now (count, amount, probability-weighted amount,
  where the probability is the deal's override or else the stage's win probability);
- over SLA: of those, the ones past the stage's SLA days;
- entered: moves into the stage in the range (creation, moves forward or back, reopening),
  plus moves in the range that skipped over the stage;
- advanced: moves in the range from the stage to a later non-lost stage, plus moves that
  skipped over it (a skipped stage counts as entered and advanced);
- lost: moves in the range from the stage to the lost stage;
- conversion: advanced / entered, in percent with one decimal (none when nothing entered);
- days in stage: average and median of the days spent in the stage by the moves that left
  it in the range;
- win rate: won / (won + lost) of the deals closed (close date) in the range;
- average sales cycle: days spent in open stages by the deals won in the range, summed over
  each deal's history and averaged over the deals;
- bottleneck: a stage whose conversion is at least 10 points below its conversion over the
  scope's trailing four quarters (the four calendar quarters before the one holding the
  range's start); a rep's stage conversion at least 10 points below the scope's (reps are
  compared in the "team" and "all" scopes).

Forecast definitions, for a month or quarter (local dates) and a scope:

- closed won: amount of the deals won with a close date in the period;
- commit, best case, pipeline: amount of the open deals expected to close in the period,
  by their forecast category (each figure holds its own category only; omitted deals count
  nowhere);
- weighted: sum of amount × probability over those open deals (commit, best case and
  pipeline);
- win-rate forecast: sum of amount × the scope's historical stage-to-won rate of the deal's
  stage: of the scope's deals closed in the last 12 months that entered the stage, the share
  that was won; a stage without such history uses its win probability;
- target: empty until targets exist.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from customers.models import Account, Interaction
from customers.selectors import (
    TimelineEntry,
    TimelineSource,
    timeline_entry,
    timeline_select,
)
from pipeline.filtersets import DealFilterSet
from pipeline.models import (
    Deal,
    ForecastCategory,
    ForecastSnapshot,
    FunnelSnapshot,
    Pipeline,
    PipelineSettings,
    Stage,
    StageChange,
)
from salesmgmt.core.db import value_reader
from teams.models import Team, User
from teams.querysets import visible_owner_sql
from teams.selectors import managed_team_paths, visible_user_ids

# A "new" lead or deal is checked for its first contact only this long after its SLA ran
# out, so importing old records does not flood managers with alerts.
FIRST_CONTACT_LOOKBACK = timedelta(days=7)
DEAL_ROW_RELATED = ("owner", "stage", "pipeline", "account", "contact", "product_category")
CENT = Decimal("0.01")
BOTTLENECK_POINTS = Decimal("10")
ZERO = Decimal("0")


# Deals


def deal_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    """The visible deals with what a list row shows, in a constant number of queries."""
    qs = (
        Deal.objects.visible_to(viewer)
        .select_related(*DEAL_ROW_RELATED)
        .prefetch_related("competitors")
    )
    if filters is None:
        return qs
    return DealFilterSet(filters, queryset=qs, request=request).qs


def deal_list_with_deleted(*, viewer: User) -> QuerySet:
    """The visible deals including soft-deleted ones, for sync clients' tombstones."""
    return (
        Deal.all_objects.visible_to(viewer)
        .select_related(*DEAL_ROW_RELATED)
        .prefetch_related("competitors")
    )


def deal_get(*, viewer: User, pk) -> Deal:
    return get_object_or_404(deal_list(viewer=viewer), pk=pk)


def deal_history(*, deal: Deal) -> QuerySet:
    """The deal's stage changes, oldest first, with the days spent in each stage left."""
    return (
        StageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def deal_link(deal_id: int) -> str:
    """The deal page, for notifications and timelines."""
    return reverse("pipeline:deal_detail", args=[deal_id])


DEAL_TIMELINE_LABELS = {
    StageChange.Kind.CREATED: gettext_lazy("Deal created"),
    StageChange.Kind.MOVE: gettext_lazy("Deal moved"),
    StageChange.Kind.WON: gettext_lazy("Deal won"),
    StageChange.Kind.LOST: gettext_lazy("Deal lost"),
    StageChange.Kind.REOPEN: gettext_lazy("Deal reopened"),
}


def _deal_timeline_branch(viewer: User, account_id: int, limit: int) -> tuple[str, list]:
    """The newest changes of the account's deals that the viewer sees: every creation,
    move, win, loss and reopening. Stage names are read by scalar subqueries: joining the
    stages too makes PostgreSQL weigh so many join orders that planning costs several times
    running."""
    condition, params = visible_owner_sql(viewer, "d.owner_id")
    stage = f"SELECT s.name FROM {Stage._meta.db_table} s WHERE s.id = sc.{{}}"
    sql = (
        timeline_select(
            kind="'deal'",
            id="sc.id",
            at="sc.changed_at",
            type="sc.kind",
            title="d.name",
            by_id="sc.changed_by_id",
            ref_id="d.id",
            from_name=f"({stage.format('from_stage_id')})",
            to_name=f"({stage.format('to_stage_id')})",
            amount="d.amount",
        )
        + f" FROM {StageChange._meta.db_table} sc JOIN {Deal._meta.db_table} d ON d.id = sc.deal_id"
        f" WHERE d.account_id = %s AND d.deleted_at IS NULL AND {condition}"
        " ORDER BY sc.changed_at DESC, sc.id DESC LIMIT %s"
    )
    return sql, [account_id, *params, limit]


def _deal_timeline_entry(row: dict) -> TimelineEntry:
    label = str(DEAL_TIMELINE_LABELS[row["type"]])
    amount = value_reader(Deal._meta.get_field("amount"))(row["amount"])
    return timeline_entry(
        row,
        label=label,
        title=row["title"],
        link=partial(deal_link, row["ref_id"]),
        detail={
            "type": "deal",
            "label": label,
            "deal": row["ref_id"],
            "from_stage": row["from_name"] or "",
            "to_stage": row["to_name"],
            "amount": None if amount is None else str(amount),
        },
    )


ACCOUNT_DEAL_TIMELINE = TimelineSource("deal", _deal_timeline_branch, _deal_timeline_entry)


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order"))


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


BOARD_CARDS_PER_COLUMN = 50


def board(
    *,
    viewer: User,
    pipeline: Pipeline,
    filters: dict | None = None,
    request=None,
    stages: list[Stage] | None = None,
    cards_per_column: int = BOARD_CARDS_PER_COLUMN,
) -> list[dict]:
    """The kanban board: one column per open stage of the pipeline with the exact count and
    amount of the visible open deals in it (one aggregate query) and at most
    `cards_per_column` of them, the longest in the stage first (one query: a window
    numbers each stage's deals), filtered like the deal list. `more` is how many deals of
    the column are not shown, so a manager seeing thousands of deals gets a bounded page."""
    deals = (
        deal_list(viewer=viewer, filters=filters, request=request)
        .filter(pipeline=pipeline, status=Deal.Status.OPEN)
        .prefetch_related(None)
    )
    totals = {
        row["stage_id"]: row
        for row in deals.values("stage_id")
        .annotate(count=Count("id"), amount_total=Sum("amount"))
        .order_by()
    }
    oldest_first = (F("stage_entered_at").asc(), F("pk").asc())
    cards = (
        deals.annotate(
            position=Window(RowNumber(), partition_by=[F("stage_id")], order_by=oldest_first)
        )
        .filter(position__lte=cards_per_column)
        .order_by(*oldest_first)
    )
    by_stage: dict[int, list[Deal]] = defaultdict(list)
    for deal in cards:
        by_stage[deal.stage_id].append(deal)
    columns = []
    for stage in stages if stages is not None else stages_of(pipeline):
        if stage.is_closed:
            continue
        count = totals.get(stage.pk, {}).get("count", 0)
        shown = by_stage.get(stage.pk, [])
        columns.append(
            {
                "stage": stage,
                "count": count,
                "amount": _money(totals.get(stage.pk, {}).get("amount_total")),
                "deals": shown,
                "more": count - len(shown),
            }
        )
    return columns


def deals_closing(*, viewer: User, start: date, end: date) -> QuerySet:
    """Visible open deals expected to close between `start` and `end` (local dates,
    included), the soonest first: "closing this month" on the rep's home."""
    return (
        deal_list(viewer=viewer)
        .filter(status=Deal.Status.OPEN, expected_close__gte=start, expected_close__lte=end)
        .order_by("expected_close", "pk")
    )


def deals_by_stage(*, viewer: User, pipeline: Pipeline, owner: User | None = None) -> list[dict]:
    """Per open stage, the count and amount of the visible open deals (of `owner` when
    given): "my deals by stage"."""
    deals = Deal.objects.visible_to(viewer).filter(pipeline=pipeline, status=Deal.Status.OPEN)
    if owner is not None:
        deals = deals.filter(owner=owner)
    totals = {
        row["stage_id"]: row
        for row in deals.values("stage_id")
        .annotate(count=Count("id"), amount_total=Sum("amount"))
        .order_by()
    }
    return [
        {
            "stage": stage,
            "count": totals.get(stage.pk, {}).get("count", 0),
            "amount": _money(totals.get(stage.pk, {}).get("amount_total")),
        }
        for stage in stages_of(pipeline)
        if not stage.is_closed
    ]


def first_contact_overdue_deals(*, now: datetime, hours: int) -> QuerySet:
    """Open deals created more than `hours` ago (and not longer than the look-back before
    that) whose account has had no interaction since the deal was created."""
    cutoff = now - timedelta(hours=hours)
    return (
        Deal.objects.open()
        .filter(created_at__lte=cutoff, created_at__gt=cutoff - FIRST_CONTACT_LOOKBACK)
        .exclude(
            Exists(
                Interaction.objects.filter(
                    account=OuterRef("account"), occurred_at__gte=OuterRef("created_at")
                )
            )
        )
    )


def first_contact_overdue_leads(*, now: datetime, hours: int) -> QuerySet:
    """Owned lead accounts created more than `hours` ago (within the look-back) that have no
    interaction at all."""
    cutoff = now - timedelta(hours=hours)
    return Account.objects.filter(
        status=Account.Status.LEAD,
        owner__isnull=False,
        created_at__lte=cutoff,
        created_at__gt=cutoff - FIRST_CONTACT_LOOKBACK,
    ).exclude(Exists(Interaction.objects.filter(account=OuterRef("pk"))))


def over_sla_leads(*, viewer: User, now: datetime | None = None) -> dict[str, QuerySet]:
    """The visible leads and new deals past the first-contact SLA, for the dashboard."""
    now = now or timezone.now()
    hours = PipelineSettings.load().first_contact_sla_hours
    return {
        "deals": first_contact_overdue_deals(now=now, hours=hours)
        .filter(pk__in=Deal.objects.visible_to(viewer).values("pk"))
        .select_related(*DEAL_ROW_RELATED)
        .order_by("created_at", "pk"),
        "leads": first_contact_overdue_leads(now=now, hours=hours)
        .filter(pk__in=Account.objects.visible_to(viewer).values("pk"))
        .select_related("owner")
        .order_by("created_at", "pk"),
    }


# Scopes


@dataclass(frozen=True)
class Scope:
    kind: str
    user: User | None = None
    team: Team | None = None

    def q(self, prefix: str = "") -> Q:
        if self.kind in ("me", "rep"):
            return Q(**{f"{prefix}owner_id": self.user.pk})
        if self.kind == "team":
            return Q(**{f"{prefix}owner__team__path__startswith": self.team.path})
        return Q()

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "user": self.user.pk if self.user else None,
            "team": self.team.pk if self.team else None,
        }


SCOPE_KINDS = ("me", "rep", "team", "all")


def resolve_scope(
    *, viewer: User, kind: str = "me", user_id: int | None = None, team_id: int | None = None
) -> Scope:
    """The scope asked for, if the viewer may look at it; otherwise Http404. A team is
    reachable for its manager and the managers above it (admins: any team) — belonging to a
    team does not show one's teammates' deals."""
    if kind == "me":
        return Scope("me", user=viewer)
    if kind == "all":
        return Scope("all")
    if kind == "rep":
        user = get_object_or_404(User.objects.visible_to(viewer), pk=user_id)
        return Scope("rep", user=user)
    if kind == "team":
        teams = Team.objects.all()
        if not viewer.is_admin:
            paths = managed_team_paths(viewer)
            condition = Q(pk__in=[])
            for path in paths:
                condition |= Q(path__startswith=path)
            teams = teams.filter(condition)
        return Scope("team", team=get_object_or_404(teams, pk=team_id))
    raise Http404


def _deal_q(viewer: User | None, scope: Scope, prefix: str = "") -> Q:
    """Visible, not deleted, in the scope; `prefix` reaches the deal from another model."""
    q = Q(**{f"{prefix}deleted_at__isnull": True}) & scope.q(prefix)
    if viewer is not None:
        ids = visible_user_ids(viewer)
        if ids is not None:
            q &= Q(**{f"{prefix}owner__in": ids})
    return q


# Periods


def local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def period_bounds(kind: str, on: date) -> tuple[date, date]:
    """First and last day of the month or quarter holding `on`."""
    if kind == "month":
        start = on.replace(day=1)
        months = 1
    elif kind == "quarter":
        start = date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
        months = 3
    else:
        raise ValueError(kind)
    month = start.month - 1 + months
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return start, following - timedelta(days=1)


def trailing_quarters(start: date, count: int = 4) -> tuple[date, date]:
    """The `count` calendar quarters before the one holding `start`."""
    quarter_start, _end = period_bounds("quarter", start)
    first = quarter_start
    for _i in range(count):
        first, _last = period_bounds("quarter", first - timedelta(days=1))
    return first, quarter_start - timedelta(days=1)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, ROUND_HALF_UP)


def _weighted(raw) -> Decimal:
    """Sum of amount × probability (in percent) → money."""
    return (Decimal(str(raw or 0)) / 100).quantize(CENT, ROUND_HALF_UP)


def amount_times_probability(
    stage_probability: str = "stage__win_probability",
) -> ExpressionWrapper:
    """amount × the deal's probability override, else `stage_probability`."""
    return ExpressionWrapper(
        F("amount") * Coalesce("probability_override", stage_probability),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )


# Funnel


def _new_flow() -> dict:
    return {"entered": 0, "advanced": 0, "lost": 0, "exits": 0, "days_total": ZERO}


def _flows(rows, stages: list[Stage], key=None) -> dict:
    """Folds aggregate rows {from_stage_id, to_stage_id, n, days} into per-stage flows,
    by `key(row)` (for example the owner) when given."""
    by_id = {stage.pk: stage for stage in stages}
    chain = [stage for stage in stages if not stage.is_lost]
    result: dict = defaultdict(lambda: defaultdict(_new_flow))
    for row in rows:
        flows = result[key(row) if key else None]
        source = by_id.get(row["from_stage_id"])
        target = by_id.get(row["to_stage_id"])
        if target is None:
            continue
        n = row["n"]
        if not target.is_lost:
            flows[target.pk]["entered"] += n
        if source is None or source.is_closed:
            continue
        flows[source.pk]["exits"] += n
        flows[source.pk]["days_total"] += Decimal(str(row["days"] or 0))
        if target.is_lost:
            flows[source.pk]["lost"] += n
        elif target.order > source.order:
            flows[source.pk]["advanced"] += n
            for skipped in chain:
                if source.order < skipped.order < target.order:
                    flows[skipped.pk]["entered"] += n
                    flows[skipped.pk]["advanced"] += n
    return result


def _change_rows(changes: QuerySet, *extra: str):
    return (
        changes.values("from_stage_id", "to_stage_id", *extra)
        .annotate(n=Count("id"), days=Sum("days_in_previous_stage"))
        .order_by()
    )


def _range_changes(pipeline: Pipeline, start: date, end: date) -> QuerySet:
    return StageChange.objects.filter(
        deal__pipeline=pipeline,
        changed_at__gte=local_start(start),
        changed_at__lt=local_start(end + timedelta(days=1)),
    )


def _in_stage_now(deals: QuerySet, now: datetime, *extra: str):
    return (
        deals.filter(status=Deal.Status.OPEN)
        .values("stage_id", *extra)
        .annotate(
            count=Count("id"),
            amount_total=Sum("amount"),
            weighted=Sum(amount_times_probability()),
            over_sla=Count("id", filter=Q(stage_due_at__lte=now)),
        )
        .order_by()
    )


def _as_of(deals: QuerySet, moment: datetime) -> QuerySet:
    """The deals that existed at `moment`, each with the stage it was in then (`then_stage`),
    since when (`then_entered`), that stage's win probability and forecast category, rebuilt
    from the stage history: the deal rows themselves only tell the present."""
    last = StageChange.objects.filter(deal=OuterRef("pk"), changed_at__lte=moment).order_by(
        "-changed_at", "-id"
    )
    return deals.annotate(
        then_stage=Subquery(last.values("to_stage_id")[:1]),
        then_entered=Subquery(last.values("changed_at")[:1]),
        then_probability=Subquery(last.values("to_stage__win_probability")[:1]),
        then_category=Subquery(last.values("to_stage__forecast_category")[:1]),
    ).filter(then_stage__isnull=False)


def _in_stage_at(deals: QuerySet, moment: datetime, stages: list[Stage], *extra: str) -> list:
    """The rows of `_in_stage_now` as they stood at `moment` (see `_as_of`); a deal is over
    SLA when it had been in its stage longer than the stage's SLA days at that moment."""
    open_ids = [stage.pk for stage in stages if not stage.is_closed]
    over_sla = Q(pk__in=[])
    for stage in stages:
        if not stage.is_closed and stage.sla_days:
            over_sla |= Q(
                then_stage=stage.pk, then_entered__lte=moment - timedelta(days=stage.sla_days)
            )
    rows = (
        _as_of(deals, moment)
        .filter(then_stage__in=open_ids)
        .values("then_stage", *extra)
        .annotate(
            count=Count("id"),
            amount_total=Sum("amount"),
            weighted=Sum(amount_times_probability("then_probability")),
            over_sla=Count("id", filter=over_sla),
        )
        .order_by()
    )
    return [{"stage_id": row.pop("then_stage"), **row} for row in rows]


class _MiddleDays(Aggregate):
    """PostgreSQL's percentile_disc(0.5) of the days in the previous stage: the lower middle
    value in ascending order, the upper one in descending order."""

    function = "percentile_disc"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s %(direction)s)"
    output_field = DecimalField(max_digits=9, decimal_places=2)

    def __init__(self, *, descending: bool = False):
        super().__init__("days_in_previous_stage", direction="DESC" if descending else "ASC")


def _median_days(changes: QuerySet) -> dict[int, Decimal]:
    """The median days spent in each stage left by `changes`, the mean of the two middle
    values for an even count. The database picks the middle values (PostgreSQL with an
    ordered-set aggregate, others by numbering each stage's durations in order), so the
    report does not fetch every change of its range."""
    timed = changes.filter(from_stage__isnull=False, days_in_previous_stage__isnull=False)
    if connection.vendor == "postgresql":
        rows = (
            timed.values("from_stage_id")
            .annotate(low=_MiddleDays(), high=_MiddleDays(descending=True))
            .order_by()
        )
        return {row["from_stage_id"]: (row["low"] + row["high"]) / 2 for row in rows}
    ranked = timed.annotate(
        position=Window(
            RowNumber(),
            partition_by=[F("from_stage_id")],
            order_by=F("days_in_previous_stage").asc(),
        ),
        total=Window(Count("id"), partition_by=[F("from_stage_id")]),
    )
    middle: dict[int, list[Decimal]] = defaultdict(list)
    for stage_id, days in ranked.filter(
        position__gte=(F("total") + 1) / 2, position__lte=(F("total") + 2) / 2
    ).values_list("from_stage_id", "days_in_previous_stage"):
        middle[stage_id].append(Decimal(str(days)))
    return {stage_id: sum(values) / len(values) for stage_id, values in middle.items()}


def stage_flows_by_owner(
    *, viewer: User | None, pipeline: Pipeline, start: date, end: date, scope: Scope
) -> dict[int, dict[int, dict]]:
    """Per deal owner and stage, the funnel's flows over the range (entered, advanced, lost,
    exits and days in stage): the part of `funnel` that comparing people needs, without its
    history, medians and stage totals."""
    changes = _range_changes(pipeline, start, end).filter(_deal_q(viewer, scope, "deal__"))
    return _flows(
        _change_rows(changes, "deal__owner_id"),
        stages_of(pipeline),
        key=lambda row: row["deal__owner_id"],
    )


def funnel(
    *,
    viewer: User,
    pipeline: Pipeline,
    start: date,
    end: date,
    scope: Scope,
    now: datetime | None = None,
) -> dict:
    """The funnel of the module docstring, as a dict (see the API schema for its shape)."""
    now = now or timezone.now()
    stages = stages_of(pipeline)
    deal_q = _deal_q(viewer, scope, "deal__")
    changes = _range_changes(pipeline, start, end).filter(deal_q)

    per_owner_rows = list(_change_rows(changes, "deal__owner_id"))
    by_owner = _flows(per_owner_rows, stages, key=lambda row: row["deal__owner_id"])
    totals = _flows(per_owner_rows, stages)[None]

    history_start, history_end = trailing_quarters(start)
    history = _flows(
        _change_rows(_range_changes(pipeline, history_start, history_end).filter(deal_q)), stages
    )[None]

    medians = _median_days(changes)

    deals = Deal.objects.filter(_deal_q(viewer, scope), pipeline=pipeline)
    now_rows = {row["stage_id"]: row for row in _in_stage_now(deals, now)}

    closed = deals.filter(closed_at__gte=start, closed_at__lte=end).aggregate(
        won=Count("id", filter=Q(status=Deal.Status.WON)),
        lost=Count("id", filter=Q(status=Deal.Status.LOST)),
    )
    cycle_days = StageChange.objects.filter(
        deal__in=deals.filter(status=Deal.Status.WON, closed_at__gte=start, closed_at__lte=end),
        from_stage__is_won=False,
        from_stage__is_lost=False,
    ).aggregate(total=Sum("days_in_previous_stage"))["total"]

    rows = []
    for stage in stages:
        if stage.is_lost:
            continue
        flow = totals[stage.pk]
        current = now_rows.get(stage.pk, {})
        conversion = None if stage.is_won else _percent(flow["advanced"], flow["entered"])
        past = history[stage.pk]
        past_conversion = None if stage.is_won else _percent(past["advanced"], past["entered"])
        rows.append(
            {
                "stage": stage.pk,
                "name": stage.display_name,
                "order": stage.order,
                "is_won": stage.is_won,
                "sla_days": stage.sla_days,
                "in_stage_count": current.get("count", 0),
                "in_stage_amount": _money(current.get("amount_total")),
                "weighted_amount": _weighted(current.get("weighted")),
                "over_sla": current.get("over_sla", 0),
                "entered": flow["entered"],
                "advanced": flow["advanced"],
                "lost": flow["lost"],
                "conversion": conversion,
                "average_days": (
                    (flow["days_total"] / flow["exits"]).quantize(CENT, ROUND_HALF_UP)
                    if flow["exits"]
                    else None
                ),
                "median_days": (
                    medians[stage.pk].quantize(CENT, ROUND_HALF_UP) if stage.pk in medians else None
                ),
                "history_conversion": past_conversion,
                "bottleneck": (
                    conversion is not None
                    and past_conversion is not None
                    and conversion <= past_conversion - BOTTLENECK_POINTS
                ),
            }
        )

    reps = []
    if scope.kind in ("team", "all") and by_owner:
        names = {user.pk: user for user in User.objects.filter(pk__in=list(by_owner))}
        scope_conversion = {row["stage"]: row["conversion"] for row in rows}
        for owner_id in sorted(by_owner, key=lambda pk: str(names[pk]).lower()):
            flows = by_owner[owner_id]
            rep_stages = []
            for stage in stages:
                if stage.is_closed:
                    continue
                flow = flows[stage.pk]
                conversion = _percent(flow["advanced"], flow["entered"])
                team_conversion = scope_conversion.get(stage.pk)
                rep_stages.append(
                    {
                        "stage": stage.pk,
                        "entered": flow["entered"],
                        "advanced": flow["advanced"],
                        "lost": flow["lost"],
                        "conversion": conversion,
                        "bottleneck": (
                            conversion is not None
                            and team_conversion is not None
                            and conversion <= team_conversion - BOTTLENECK_POINTS
                        ),
                    }
                )
            reps.append(
                {"user": owner_id, "name": names[owner_id].display_name, "stages": rep_stages}
            )

    won, lost = closed["won"], closed["lost"]
    return {
        "pipeline": pipeline.pk,
        "start": start,
        "end": end,
        "scope": scope.describe(),
        "history_start": history_start,
        "history_end": history_end,
        "stages": rows,
        "won": won,
        "lost": lost,
        "win_rate": _percent(won, won + lost),
        "average_sales_cycle_days": (
            (Decimal(str(cycle_days or 0)) / won).quantize(CENT, ROUND_HALF_UP) if won else None
        ),
        "reps": reps,
    }


def funnel_rows_by_owner(
    *, pipeline: Pipeline, day: date, now: datetime, from_history: bool = False
) -> list[dict]:
    """The funnel of one day per owner and stage, for the nightly snapshot: the same flows
    as `funnel` for a one-day range and the in-stage figures as of `now`, read from the
    deals, or with `from_history` rebuilt from the stage history as they stood at `now` (for
    past days). Only combinations with something to show are returned."""
    stages = stages_of(pipeline)
    changes = _range_changes(pipeline, day, day).filter(deal__deleted_at__isnull=True)
    by_owner = _flows(
        _change_rows(changes, "deal__owner_id"), stages, key=lambda row: row["deal__owner_id"]
    )
    deals = Deal.objects.filter(pipeline=pipeline)
    in_stage = (
        _in_stage_at(deals, now, stages, "owner_id")
        if from_history
        else _in_stage_now(deals, now, "owner_id")
    )
    current = {(row["owner_id"], row["stage_id"]): row for row in in_stage}
    owners = set(by_owner) | {owner_id for owner_id, _stage in current}
    teams = dict(User.objects.filter(pk__in=owners).values_list("pk", "team_id"))
    rows = []
    for owner_id in sorted(owners):
        flows = by_owner.get(owner_id, {})
        for stage in stages:
            if stage.is_lost:
                continue
            flow = flows.get(stage.pk) or _new_flow()
            now_row = current.get((owner_id, stage.pk), {})
            row = {
                "owner_id": owner_id,
                "team_id": teams.get(owner_id),
                "stage_id": stage.pk,
                "in_stage_count": now_row.get("count", 0),
                "in_stage_amount": _money(now_row.get("amount_total")),
                "weighted_amount": _weighted(now_row.get("weighted")),
                "over_sla_count": now_row.get("over_sla", 0),
                "entered": flow["entered"],
                "advanced": flow["advanced"],
                "lost": flow["lost"],
                "exits": flow["exits"],
                "days_in_stage_total": flow["days_total"].quantize(CENT),
            }
            if row["in_stage_count"] or row["entered"] or row["exits"]:
                rows.append(row)
    return rows


def funnel_trend(*, viewer: User, pipeline: Pipeline, start: date, end: date, scope: Scope):
    """Per day and stage, the snapshot sums over the scope (for the dashboard's trend)."""
    return (
        _snapshot_scope(FunnelSnapshot.objects.all(), viewer, scope)
        .filter(pipeline=pipeline, day__gte=start, day__lte=end)
        .values("day", "stage_id")
        .annotate(
            in_stage_count=Sum("in_stage_count"),
            in_stage_amount=Sum("in_stage_amount"),
            entered=Sum("entered"),
            advanced=Sum("advanced"),
            lost=Sum("lost"),
        )
        .order_by("day", "stage_id")
    )


def _snapshot_scope(qs: QuerySet, viewer: User, scope: Scope) -> QuerySet:
    ids = visible_user_ids(viewer)
    if ids is not None:
        qs = qs.filter(owner__in=ids)
    if scope.kind in ("me", "rep"):
        return qs.filter(owner_id=scope.user.pk)
    if scope.kind == "team":
        return qs.filter(owner__team__path__startswith=scope.team.path)
    return qs


def forecast_trend(*, viewer: User, scope: Scope, period: str = "month", on: date | None = None):
    """The scope's forecast as snapshotted on each day of the period so far (sums of the
    owners' snapshot rows), for the forecast-over-the-period chart."""
    start, _end = period_bounds(period, on or timezone.localdate())
    return (
        _snapshot_scope(ForecastSnapshot.objects.all(), viewer, scope)
        .filter(period_kind=period, period_start=start)
        .values("taken_on")
        .annotate(**{name: Sum(name) for name in SNAPSHOT_FIGURES})
        .order_by("taken_on")
    )


# Forecast


def _open_in_period(deals: QuerySet, start: date, end: date) -> QuerySet:
    return deals.filter(
        status=Deal.Status.OPEN, expected_close__gte=start, expected_close__lte=end
    ).exclude(forecast_category=ForecastCategory.OMITTED)


def _win_rates(deals: QuerySet, today: date, *extra: str) -> dict:
    """{(*extra, stage_id): rate} from the deals closed in the 12 months up to `today`."""
    window_start = today.replace(year=today.year - 1) + timedelta(days=1)
    closed = deals.filter(
        status__in=[Deal.Status.WON, Deal.Status.LOST],
        closed_at__gte=window_start,
        closed_at__lte=today,
    )
    rows = (
        StageChange.objects.filter(deal__in=closed.values("pk"), to_stage__is_lost=False)
        .values("to_stage_id", *[f"deal__{name}" for name in extra])
        .annotate(
            total=Count("deal", distinct=True),
            won=Count("deal", distinct=True, filter=Q(deal__status=Deal.Status.WON)),
        )
        .order_by()
    )
    return {
        (*[row[f"deal__{name}"] for name in extra], row["to_stage_id"]): Decimal(row["won"])
        / Decimal(row["total"])
        for row in rows
        if row["total"]
    }


def _forecast_figures(open_rows, rates: dict, probabilities: dict, key=()) -> dict:
    figures = {
        "commit": ZERO,
        "best_case": ZERO,
        "pipeline": ZERO,
        "weighted_raw": ZERO,
        "win_rate": ZERO,
    }
    for row in open_rows:
        amount = Decimal(str(row["amount_total"] or 0))
        category = row["forecast_category"]
        if category in ("commit", "best_case", "pipeline"):
            figures[category] += amount
        figures["weighted_raw"] += Decimal(str(row["weighted"] or 0))
        rate = rates.get((*key, row["stage_id"]))
        if rate is None:
            rate = Decimal(probabilities.get(row["stage_id"], 0)) / 100
        figures["win_rate"] += amount * rate
    return {
        "commit": _money(figures["commit"]),
        "best_case": _money(figures["best_case"]),
        "pipeline": _money(figures["pipeline"]),
        "weighted": _weighted(figures["weighted_raw"]),
        "win_rate_forecast": _money(figures["win_rate"]),
    }


def _open_rows(deals: QuerySet, start: date, end: date, *extra: str):
    return (
        _open_in_period(deals, start, end)
        .values("stage_id", "forecast_category", *extra)
        .annotate(amount_total=Sum("amount"), weighted=Sum(amount_times_probability()))
        .order_by()
    )


def forecast(*, viewer: User, scope: Scope, period: str = "month", on: date | None = None) -> dict:
    """The forecast of the module docstring for the month or quarter holding `on` (default
    today), over every pipeline."""
    today = timezone.localdate()
    start, end = period_bounds(period, on or today)
    deals = Deal.objects.filter(_deal_q(viewer, scope))
    closed_won = deals.filter(
        status=Deal.Status.WON, closed_at__gte=start, closed_at__lte=end
    ).aggregate(total=Sum("amount"))["total"]
    rates = _win_rates(deals, today)
    probabilities = dict(Stage.objects.values_list("pk", "win_probability"))
    figures = _forecast_figures(_open_rows(deals, start, end), rates, probabilities)
    return {
        "period": period,
        "start": start,
        "end": end,
        "scope": scope.describe(),
        "closed_won": _money(closed_won),
        **figures,
        "stage_win_rates": [
            {"stage": stage_id, "rate": (rate * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)}
            for (stage_id,), rate in sorted(rates.items())
        ],
        "target": None,
    }


def _open_rows_at(deals: QuerySet, start: date, end: date, moment: datetime, *extra: str):
    """The rows of `_open_rows` as they stood at `moment` (see `_as_of`): a deal counts in the
    stage it was in then, with its own forecast category if it is still in that stage and
    else that stage's default."""
    stages = Stage.objects.all()
    open_ids = [stage.pk for stage in stages if not stage.is_closed]
    category = Case(
        When(stage_id=F("then_stage"), then=F("forecast_category")), default=F("then_category")
    )
    rows = (
        _as_of(deals, moment)
        .annotate(then_forecast_category=category)
        .filter(
            then_stage__in=open_ids,
            expected_close__gte=start,
            expected_close__lte=end,
        )
        .exclude(then_forecast_category=ForecastCategory.OMITTED)
        .values("then_stage", "then_forecast_category", *extra)
        .annotate(
            amount_total=Sum("amount"), weighted=Sum(amount_times_probability("then_probability"))
        )
        .order_by()
    )
    return [
        {
            "stage_id": row.pop("then_stage"),
            "forecast_category": row.pop("then_forecast_category"),
            **row,
        }
        for row in rows
    ]


def forecast_rows_by_owner(
    *,
    period_start: date,
    period_end: date,
    today: date | None = None,
    from_history: bool = False,
) -> list[dict]:
    """Every owner's forecast for the period as it stands `today` (default: today), each
    with their own historical win rates, for the nightly snapshot. With `from_history` the
    deals are taken as they stood at the end of `today`, rebuilt from the stage history (for
    past days). Owners with nothing won or open in the period are left out."""
    today = today or timezone.localdate()
    deals = Deal.objects.all()
    won_deals = deals.filter(
        status=Deal.Status.WON, closed_at__gte=period_start, closed_at__lte=period_end
    )
    if from_history:
        moment = local_start(today + timedelta(days=1))
        won_stages = Stage.objects.filter(is_won=True).values("pk")
        won_deals = _as_of(won_deals, moment).filter(then_stage__in=won_stages)
        open_source = _open_rows_at(deals, period_start, period_end, moment, "owner_id")
    else:
        open_source = _open_rows(deals, period_start, period_end, "owner_id")
    won = dict(
        won_deals.values("owner_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("owner_id", "total")
    )
    open_rows: dict[int, list] = defaultdict(list)
    for row in open_source:
        open_rows[row["owner_id"]].append(row)
    rates = _win_rates(deals, today, "owner_id")
    probabilities = dict(Stage.objects.values_list("pk", "win_probability"))
    owners = set(won) | set(open_rows)
    teams = dict(User.objects.filter(pk__in=owners).values_list("pk", "team_id"))
    return [
        {
            "owner_id": owner_id,
            "team_id": teams.get(owner_id),
            "closed_won": _money(won.get(owner_id)),
            **_forecast_figures(open_rows.get(owner_id, []), rates, probabilities, (owner_id,)),
        }
        for owner_id in sorted(owners)
    ]


SNAPSHOT_FIGURES = (
    "closed_won",
    "commit",
    "best_case",
    "pipeline",
    "weighted",
    "win_rate_forecast",
)


def forecast_accuracy(
    *, viewer: User, scope: Scope, period: str = "month", on: date | None = None
) -> dict | None:
    """For a period that has ended: the scope's forecast as snapshotted on the first day of
    the period (summed over the owners' snapshot rows) against the amount actually won in
    it, with each figure's error in percent of the actual. None while the period runs."""
    start, end = period_bounds(period, on or timezone.localdate())
    if end >= timezone.localdate():
        return None
    snapshots = _snapshot_scope(ForecastSnapshot.objects.all(), viewer, scope).filter(
        period_kind=period, period_start=start
    )
    first_day = snapshots.order_by("taken_on").values_list("taken_on", flat=True).first()
    sums = (
        snapshots.filter(taken_on=first_day).aggregate(
            **{name: Sum(name) for name in SNAPSHOT_FIGURES}
        )
        if first_day
        else {}
    )
    actual = _money(
        Deal.objects.filter(
            _deal_q(viewer, scope),
            status=Deal.Status.WON,
            closed_at__gte=start,
            closed_at__lte=end,
        ).aggregate(total=Sum("amount"))["total"]
    )
    forecast_values = {
        name: _money(sums.get(name)) if first_day else None for name in SNAPSHOT_FIGURES
    }
    return {
        "period": period,
        "start": start,
        "end": end,
        "scope": scope.describe(),
        "snapshot_taken_on": first_day,
        "actual_won": actual,
        "forecast": forecast_values,
        "error_percent": {
            name: (
                ((value - actual) * 100 / actual).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if value is not None and actual
                else None
            )
            for name, value in forecast_values.items()
            if name != "closed_won"
        },
    }


def stale_deals(*, viewer: User, now: datetime | None = None) -> QuerySet:
    """Visible open deals past their stage's SLA, the longest overdue first."""
    now = now or timezone.now()
    return (
        deal_list(viewer=viewer)
        .filter(status=Deal.Status.OPEN, stage_due_at__lte=now)
        .order_by("stage_due_at", "pk")
    )


# Comparison of reps


def scope_users(*, viewer: User, scope: Scope) -> QuerySet:
    """The people a scope covers, among those the viewer may see."""
    users = User.objects.visible_to(viewer)
    if scope.kind in ("me", "rep"):
        return users.filter(pk=scope.user.pk)
    if scope.kind == "team":
        return users.filter(team__path__startswith=scope.team.path)
    return users


def rep_comparison(
    *,
    viewer: User,
    scope: Scope,
    pipeline: Pipeline,
    start: date,
    end: date,
    limit: int = 100,
) -> dict:
    """Per person of the scope (active, or still owning open deals of the pipeline): their
    open deals of the pipeline (count, amount), the deals won (count, amount) and lost with a
    close date in the range, and their win rate (won / (won + lost)). The largest open amount
    first, at most `limit` people; `total` counts them all. Two queries, whatever the number
    of people or deals."""
    alive = Q(deals__deleted_at__isnull=True, deals__pipeline=pipeline)
    is_open = alive & Q(deals__status=Deal.Status.OPEN)
    closed_in_range = alive & Q(deals__closed_at__gte=start, deals__closed_at__lte=end)
    won = closed_in_range & Q(deals__status=Deal.Status.WON)
    lost = closed_in_range & Q(deals__status=Deal.Status.LOST)
    owns_open = Exists(
        Deal.objects.filter(owner=OuterRef("pk"), pipeline=pipeline, status=Deal.Status.OPEN)
    )
    people = scope_users(viewer=viewer, scope=scope).filter(Q(is_active=True) | owns_open)
    rows = (
        people.annotate(
            open_count=Count("deals", filter=is_open),
            open_amount=Coalesce(Sum("deals__amount", filter=is_open), ZERO),
            won_count=Count("deals", filter=won),
            won_amount=Coalesce(Sum("deals__amount", filter=won), ZERO),
            lost_count=Count("deals", filter=lost),
        )
        .select_related("team")
        .order_by("-open_amount", "-won_amount", "username")[:limit]
    )
    return {
        "total": people.count(),
        "rows": [
            {
                "user": person,
                "open_count": person.open_count,
                "open_amount": _money(person.open_amount),
                "won_count": person.won_count,
                "won_amount": _money(person.won_amount),
                "lost_count": person.lost_count,
                "win_rate": _percent(person.won_count, person.won_count + person.lost_count),
            }
            for person in rows
        ],
    }


def scope_teams(*, viewer: User) -> QuerySet:
    """The teams the viewer may pick as a "team" scope: those `resolve_scope` accepts."""
    teams = Team.objects.order_by("path")
    if viewer.is_admin:
        return teams
    condition = Q(pk__in=[])
    for path in managed_team_paths(viewer):
        condition |= Q(path__startswith=path)
    return teams.filter(condition)
