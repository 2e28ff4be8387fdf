"""Reads of the performance app: visible targets, actuals, attainment and pace,
leaderboards and the target against the pipeline forecast.

Actuals, for a period (local dates, both ends included) and the owners in a scope:

- revenue: the amount of the won deals with a close date in the period;
- won deals: how many deals were won with a close date in the period;
- new customers: accounts whose first won deal closed in the period, counted for the owner
  of that deal;
- interactions: interactions logged in the period, counted for who logged them.

A team's actual is that of everyone in its subtree. Each metric is one grouped query for
any number of people.

Pace, as of a day `on`: the target times the share of the period's working days elapsed
(through `on`, so on the last working day the pace is the whole target). Someone is behind
pace when their actual is below the pace (times the admin-set threshold); a period not yet
started has no pace.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core import signing
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from customers.models import Interaction
from performance import periods, services
from performance.filtersets import ExpenseFilterSet, ReviewFilterSet, TargetFilterSet
from performance.models import (
    ANONYMOUS_RATERS,
    LOWER_IS_BETTER,
    Expense,
    ImprovementAction,
    ImprovementPlan,
    KpiKind,
    Metric,
    PerformanceSettings,
    PeriodType,
    PlanCheckIn,
    RaterKind,
    Review,
    ReviewCycle,
    ReviewFeedback,
    Target,
)
from pipeline import selectors as pipeline_selectors
from pipeline.models import Deal
from pipeline.selectors import Scope, local_start
from salesmgmt.core.db import value_reader
from teams.models import Role, Team, User
from teams.selectors import visible_user_ids

ZERO = Decimal("0")
TARGET_RELATED = ("user", "team", "product_category", "industry", "parent")


# Targets


def target_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Target.objects.visible_to(viewer).select_related(*TARGET_RELATED)
    return TargetFilterSet(filters, queryset=qs, request=request).qs


def target_get(*, viewer: User, pk) -> Target:
    return get_object_or_404(
        Target.objects.visible_to(viewer).select_related(*TARGET_RELATED), pk=pk
    )


def target_ancestors(*, viewer: User, target: Target) -> list[Target]:
    """The targets the given one was split from, top first, as far as the viewer sees."""
    ancestors = []
    visible = Target.objects.visible_to(viewer).select_related("user", "team")
    parent_id = target.parent_id
    while parent_id and len(ancestors) < 10:
        parent = visible.filter(pk=parent_id).first()
        if parent is None:
            break
        ancestors.append(parent)
        parent_id = parent.parent_id
    return ancestors[::-1]


def can_edit_target(viewer: User, target: Target) -> bool:
    return services.scope_writable(viewer, user=target.user, team=target.team)


def plain_targets(*, period_type: str, start: dt.date, metric: str | None = None) -> QuerySet:
    """The targets of one period (and metric) without a product category or segment."""
    qs = Target.objects.filter(
        period_type=period_type,
        start=start,
        product_category__isnull=True,
        industry__isnull=True,
        tier="",
    )
    return qs.filter(metric=metric) if metric else qs


# Actuals


def _segment_q(prefix: str, product_category_id=None, industry_id=None, tier: str = "") -> Q:
    q = Q()
    if product_category_id and prefix == "":
        q &= Q(product_category_id=product_category_id)
    if industry_id:
        q &= Q(**{f"{prefix}account__industry_id": industry_id})
    if tier:
        q &= Q(**{f"{prefix}account__tier": tier})
    return q


def actuals_by_user(
    *,
    metric: str,
    start: dt.date,
    end: dt.date,
    users=None,
    product_category_id=None,
    industry_id=None,
    tier: str = "",
) -> dict[int, Decimal]:
    """Each owner's actual for the metric and period, in one query; `users` (ids or a
    subquery of ids) narrows the owners, None means everyone. Owners with nothing are left
    out."""
    return actuals_by_user_until(
        metric=metric,
        start=start,
        ends=[end],
        users=users,
        product_category_id=product_category_id,
        industry_id=industry_id,
        tier=tier,
    )[0]


def actuals_by_user_until(
    *,
    metric: str,
    start: dt.date,
    ends: list[dt.date],
    users=None,
    product_category_id=None,
    industry_id=None,
    tier: str = "",
) -> list[dict[int, Decimal]]:
    """As actuals_by_user, for periods sharing their start and ending on each of `ends`:
    one scan of the rows whatever the number of ends."""
    segment = {"product_category_id": product_category_id, "industry_id": industry_id, "tier": tier}
    last = max(ends)

    def until(q: Q) -> Q | None:
        # A single period is all of the filtered rows: no condition per row is needed.
        return q if len(ends) > 1 else None

    if metric == Metric.INTERACTIONS:
        qs = Interaction.objects.filter(
            occurred_at__gte=local_start(start),
            occurred_at__lt=local_start(last + dt.timedelta(days=1)),
        ).filter(_segment_q("", industry_id=industry_id, tier=tier))
        if users is not None:
            qs = qs.filter(logged_by_id__in=users)
        owner, quantum = "logged_by_id", Decimal("1")
        aggregates = [
            Count("pk", filter=until(Q(occurred_at__lt=local_start(end + dt.timedelta(days=1)))))
            for end in ends
        ]
    else:
        qs = Deal.objects.filter(
            status=Deal.Status.WON, closed_at__gte=start, closed_at__lte=last
        ).filter(_segment_q("", **segment))
        if users is not None:
            qs = qs.filter(owner_id__in=users)
        owner = "owner_id"
        quantum = Decimal("0.01") if metric == Metric.REVENUE else Decimal("1")
        if metric == Metric.REVENUE:
            aggregates = [Sum("amount", filter=until(Q(closed_at__lte=end))) for end in ends]
        elif metric == Metric.WON_DEALS:
            aggregates = [Count("pk", filter=until(Q(closed_at__lte=end))) for end in ends]
        elif metric == Metric.NEW_CUSTOMERS:
            earlier = Deal.objects.filter(
                account_id=OuterRef("account_id"), status=Deal.Status.WON, closed_at__lt=start
            )
            qs = qs.filter(~Exists(earlier))
            aggregates = [
                Count("account_id", distinct=True, filter=until(Q(closed_at__lte=end)))
                for end in ends
            ]
        else:
            raise ValueError(metric)
    rows = (
        qs.values(owner)
        .annotate(**{f"value{index}": aggregate for index, aggregate in enumerate(aggregates)})
        .order_by()
    )
    result = [{} for _end in ends]
    for row in rows:
        for index, found in enumerate(result):
            value = row[f"value{index}"]
            # With several ends, someone with nothing by an earlier end is left out of it.
            if len(ends) == 1 or value:
                found[row[owner]] = Decimal(value or 0).quantize(quantum, ROUND_HALF_UP)
    return result


def _subtree_users(team: Team) -> QuerySet:
    return User.objects.filter(team__path__startswith=team.path)


def target_actual(target: Target, *, end: dt.date | None = None) -> Decimal:
    """The actual of the target's scope, metric, segment and period (up to `end`)."""
    users = [target.user_id] if target.user_id else _subtree_users(target.team).values("pk")
    rows = actuals_by_user(
        metric=target.metric,
        start=target.start,
        end=min(end or target.end, target.end),
        users=users,
        product_category_id=target.product_category_id,
        industry_id=target.industry_id,
        tier=target.tier,
    )
    return sum(rows.values(), ZERO)


def last_year_weights(target: Target, plan: list[dict]) -> list[Decimal]:
    """The scope's actuals in the same periods last year, for each planned child."""
    segment = {
        "product_category_id": target.product_category_id,
        "industry_id": target.industry_id,
        "tier": target.tier,
    }
    if plan and plan[0]["period_type"] == target.period_type:
        # A team split: each member's and sub-team's actual over the parent's period.
        start, end = services.last_year_period(target.period_type, target.start, target.end)
        members = list(_subtree_users(target.team).values_list("pk", "team__path"))
        rows = actuals_by_user(
            metric=target.metric, start=start, end=end, users=[pk for pk, _p in members], **segment
        )
        weights = []
        for item in plan:
            if item["user"] is not None:
                weights.append(rows.get(item["user"].pk, ZERO))
            else:
                path = item["team"].path
                weights.append(
                    sum((rows.get(pk, ZERO) for pk, p in members if p.startswith(path)), ZERO)
                )
        return weights
    users = [target.user_id] if target.user_id else _subtree_users(target.team).values("pk")
    weights = []
    for item in plan:
        start, end = services.last_year_period(item["period_type"], item["start"], item["end"])
        rows = actuals_by_user(metric=target.metric, start=start, end=end, users=users, **segment)
        weights.append(sum(rows.values(), ZERO))
    return weights


# Attainment and pace


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


class PaceClock:
    """The elapsed share of a period's working days as of a day."""

    def __init__(self, start: dt.date, end: dt.date, on: dt.date):
        self.start, self.end, self.on = start, end, on
        days = periods.working_days(start, end)
        self.total = len(days)
        self.elapsed = sum(1 for day in days if day <= on)

    @property
    def share(self) -> Decimal:
        if self.on < self.start:
            return ZERO
        if self.on >= self.end or not self.total:
            return Decimal(1)
        return Decimal(self.elapsed) / Decimal(self.total)


def figures(*, actual: Decimal, target: Decimal | None, clock: PaceClock, threshold: int) -> dict:
    """Attainment and pace of one actual against one target value."""
    expected = None
    pace_percent = None
    behind = False
    if target is not None:
        expected = (target * clock.share).quantize(Decimal("0.01"), ROUND_HALF_UP)
        pace_percent = _percent(actual, expected)
        behind = clock.share > 0 and actual < expected * threshold / 100
    return {
        "actual": actual,
        "target": target,
        "percent": _percent(actual, target),
        "expected": expected,
        "pace_percent": pace_percent,
        "behind": behind,
    }


def _period(period_type: str, on: dt.date) -> periods.Period:
    return periods.period_bounds(period_type, on)


def _clock_fields(clock: PaceClock) -> dict:
    return {
        "working_days": clock.total,
        "elapsed_working_days": clock.elapsed,
        "elapsed_share": clock.share.quantize(Decimal("0.0001"), ROUND_HALF_UP),
    }


def attainment(
    *,
    viewer: User,
    scope: Scope,
    metric: str,
    period_type: str,
    on: dt.date | None = None,
) -> dict:
    """Attainment and pace of one scope (pipeline.selectors.resolve_scope: me, rep, team or
    all) for the period holding `on`; for a team, also each person and sub-team, sorted by
    pace (furthest behind first)."""
    on = on or periods.today()
    start, end = _period(period_type, on)
    clock = PaceClock(start, end, on)
    threshold = PerformanceSettings.load().behind_pace_percent
    base = {
        "scope": scope.describe(),
        "metric": metric,
        "period_type": period_type,
        "start": start,
        "end": end,
        "on": on,
        **_clock_fields(clock),
    }
    targets = plain_targets(metric=metric, period_type=period_type, start=start)
    if scope.kind in ("me", "rep"):
        actual = actuals_by_user(
            metric=metric, start=start, end=min(on, end), users=[scope.user.pk]
        ).get(scope.user.pk, ZERO)
        value = targets.filter(user_id=scope.user.pk).values_list("value", flat=True).first()
        return {
            **base,
            **figures(actual=actual, target=value, clock=clock, threshold=threshold),
            "rows": [],
        }
    teams = _scope_teams(viewer, scope)
    rows = _team_rows(
        teams, metric, start, min(on, end), clock, threshold, targets, expand=scope.kind == "team"
    )
    if scope.kind == "team":
        own = rows.pop(0)
        value, actual = own["target"], own["actual"]
    else:
        values = [row["target"] for row in rows if row["target"] is not None]
        value = sum(values, ZERO) if values else None
        visible = visible_user_ids(viewer)
        actual = sum(
            actuals_by_user(metric=metric, start=start, end=min(on, end), users=visible).values(),
            ZERO,
        )
    return {
        **base,
        **figures(actual=actual, target=value, clock=clock, threshold=threshold),
        "rows": _sorted_by_pace(rows),
    }


def _scope_teams(viewer: User, scope: Scope) -> list[Team]:
    """The team of a team scope; for "all", the top teams the viewer sees."""
    if scope.kind == "team":
        return [scope.team]
    if viewer.is_admin:
        return list(Team.objects.filter(parent__isnull=True).order_by("name"))
    teams = list(Team.objects.filter(manager_id=viewer.pk).order_by("path"))
    return [t for t in teams if not any(t.path.startswith(o.path) and t != o for o in teams)]


def _team_rows(
    teams: list[Team],
    metric: str,
    start: dt.date,
    until: dt.date,
    clock: PaceClock,
    threshold: int,
    targets: QuerySet,
    *,
    expand: bool,
) -> list[dict]:
    """With `expand` (a team scope): the team, then its sub-teams and people (other than its
    manager); else each of the teams. Three queries whatever the size."""
    if expand:
        team = teams[0]
        sub_teams = list(Team.objects.filter(parent=team).order_by("name"))
        nodes = [team, *sub_teams]
        people = list(
            User.objects.filter(team=team, is_active=True)
            .exclude(pk=team.manager_id or 0)
            .order_by("username")
        )
    else:
        nodes, people = teams, []
    q = Q(pk__in=[])
    for node in nodes:
        q |= Q(team__path__startswith=node.path)
    members = list(User.objects.filter(q).values_list("pk", "team__path"))
    actuals = actuals_by_user(
        metric=metric, start=start, end=until, users=[pk for pk, _p in members]
    )
    values = {}
    for row in targets.filter(
        Q(team_id__in=[n.pk for n in nodes]) | Q(user_id__in=[p.pk for p in people])
    ).values("user_id", "team_id", "value"):
        values[("user", row["user_id"]) if row["user_id"] else ("team", row["team_id"])] = row[
            "value"
        ]
    rows = []
    for node in nodes:
        actual = sum((actuals.get(pk, ZERO) for pk, p in members if p.startswith(node.path)), ZERO)
        rows.append(
            {
                "kind": "team",
                "id": node.pk,
                "name": node.name,
                **figures(
                    actual=actual,
                    target=values.get(("team", node.pk)),
                    clock=clock,
                    threshold=threshold,
                ),
            }
        )
    for person in people:
        rows.append(
            {
                "kind": "user",
                "id": person.pk,
                "name": str(person),
                **figures(
                    actual=actuals.get(person.pk, ZERO),
                    target=values.get(("user", person.pk)),
                    clock=clock,
                    threshold=threshold,
                ),
            }
        )
    return rows


def _sorted_by_pace(rows: list[dict]) -> list[dict]:
    def key(row):
        pace = row["pace_percent"]
        if pace is None and row["expected"] is not None:
            pace = Decimal("Infinity") if row["actual"] else ZERO
        return (pace is None, pace if pace is not None else ZERO, row["name"])

    return sorted(rows, key=key)


def users_attainment(
    *, users: QuerySet, metric: str, period_type: str, on: dt.date | None = None
) -> list[dict]:
    """Attainment and pace of many people at once (a fixed number of queries)."""
    on = on or periods.today()
    start, end = _period(period_type, on)
    clock = PaceClock(start, end, on)
    threshold = PerformanceSettings.load().behind_pace_percent
    people = list(users.select_related("team").order_by("username"))
    ids = [person.pk for person in people]
    actuals = actuals_by_user(metric=metric, start=start, end=min(on, end), users=ids)
    values = dict(
        plain_targets(metric=metric, period_type=period_type, start=start)
        .filter(user_id__in=ids)
        .values_list("user_id", "value")
    )
    return [
        {
            "user": person,
            **figures(
                actual=actuals.get(person.pk, ZERO),
                target=values.get(person.pk),
                clock=clock,
                threshold=threshold,
            ),
        }
        for person in people
    ]


def my_targets(*, viewer: User, on: dt.date | None = None) -> list[dict]:
    """The viewer's month and quarter, for every metric they have a target for (revenue
    always): attainment and pace."""
    on = on or periods.today()
    result = []
    for period_type in (PeriodType.MONTH, PeriodType.QUARTER):
        start, _end = _period(period_type, on)
        metrics = set(
            plain_targets(period_type=period_type, start=start)
            .filter(user_id=viewer.pk)
            .values_list("metric", flat=True)
        ) | {Metric.REVENUE}
        for metric in Metric:
            if metric in metrics:
                figures_ = attainment(
                    viewer=viewer,
                    scope=Scope("me", user=viewer),
                    metric=metric,
                    period_type=period_type,
                    on=on,
                )
                figures_["metric_label"] = metric.label
                figures_["elapsed_percent"] = (figures_["elapsed_share"] * 100).quantize(
                    Decimal("0.1")
                )
                result.append(figures_)
    return result


# Leaderboards


def leaderboard_people(viewer: User) -> QuerySet:
    """Who a viewer's leaderboards rank: the people they see (or everyone, when the admin
    shows leaderboards company-wide) who are in a team and not admins."""
    people = User.objects.filter(is_active=True, team__isnull=False).exclude(role=Role.ADMIN)
    if PerformanceSettings.load().leaderboard_scope == PerformanceSettings.LeaderboardScope.COMPANY:
        return people
    return people.filter(pk__in=User.objects.visible_to(viewer).values("pk"))


def _ranks(values: dict[int, Decimal], order: list[int]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) by value, highest first."""
    ranked = sorted(order, key=lambda pk: -values.get(pk, ZERO))
    ranks, previous, rank = {}, None, 0
    for position, pk in enumerate(ranked, start=1):
        value = values.get(pk, ZERO)
        if value != previous:
            rank, previous = position, value
        ranks[pk] = rank
    return ranks


def leaderboard(*, viewer: User, metric: str, period_type: str, on: dt.date | None = None) -> dict:
    """People ranked by their actual for the period holding `on`, with their target and
    attainment, and how their rank changed since a week earlier (the ranking of the period
    holding that day, as it stood then). Equal actuals share a rank."""
    on = on or periods.today()
    start, end = _period(period_type, on)
    week_ago = on - dt.timedelta(days=7)
    last_start, last_end = _period(period_type, week_ago)
    people = list(leaderboard_people(viewer).select_related("team").order_by("username"))
    ids = [person.pk for person in people]
    if last_start == start:
        now, then = actuals_by_user_until(
            metric=metric, start=start, ends=[min(on, end), min(week_ago, last_end)], users=ids
        )
    else:
        now = actuals_by_user(metric=metric, start=start, end=min(on, end), users=ids)
        then = actuals_by_user(
            metric=metric, start=last_start, end=min(week_ago, last_end), users=ids
        )
    values = dict(
        plain_targets(metric=metric, period_type=period_type, start=start)
        .filter(user_id__in=ids)
        .values_list("user_id", "value")
    )
    ranks, last_ranks = _ranks(now, ids), _ranks(then, ids)
    rows = [
        {
            "rank": ranks[person.pk],
            "previous_rank": last_ranks[person.pk],
            "rank_change": last_ranks[person.pk] - ranks[person.pk],
            "user": person,
            "actual": now.get(person.pk, ZERO),
            "target": values.get(person.pk),
            "percent": _percent(now.get(person.pk, ZERO), values.get(person.pk)),
        }
        for person in people
    ]
    rows.sort(key=lambda row: (row["rank"], str(row["user"])))
    return {
        "metric": metric,
        "period_type": period_type,
        "start": start,
        "end": end,
        "on": on,
        "scope": PerformanceSettings.load().leaderboard_scope,
        "rows": rows,
    }


# Forecast against target


def forecast_against_target(
    viewer: User, scope: Scope, period: str = "month", on: dt.date | None = None
) -> dict:
    """The pipeline forecast of the scope for the month or quarter holding `on`, with the
    scope's target for the same period and what share of it is won and forecast."""
    on = on or periods.today()
    result = pipeline_selectors.forecast(viewer=viewer, scope=scope, period=period, on=on)
    start, _end = _period(period, on)
    targets = plain_targets(metric=Metric.REVENUE, period_type=period, start=start)
    if scope.kind in ("me", "rep"):
        value = targets.filter(user_id=scope.user.pk).values_list("value", flat=True).first()
    else:
        teams = _scope_teams(viewer, scope)
        found = list(targets.filter(team__in=teams).values_list("value", flat=True))
        value = sum(found, ZERO) if found else None
    result["target"] = value
    result["won_percent"] = _percent(result["closed_won"], value)
    result["forecast_percent"] = _percent(result["closed_won"] + result["commit"], value)
    result["gap"] = value - result["closed_won"] - result["commit"] if value is not None else None
    return result


# Planning grid


@dataclass(slots=True)
class GridTarget:
    """A target as the planning grid shows and edits it."""

    pk: int
    parent_id: int
    user_id: int | None
    team_id: int | None
    period_type: str
    start: dt.date
    end: dt.date
    value: Decimal
    hand_edited: bool
    scope_name: str = ""

    @property
    def period_label(self) -> str:
        return periods.period_label(self.period_type, self.start, self.end)

    def __str__(self):
        return f"{self.scope_name} · {self.period_label}"


def _grid_reads(parent: Target, child_type: str | None):
    """The grid's inputs in plain statements, since managers open and save the grid over
    and over while they plan: the team's people and sub-teams (services.team_split_rows)
    and every target below the parent that the grid shows (its children, and the children
    of its children for the shorter period)."""
    target_table = Target._meta.db_table
    value = value_reader(Target._meta.get_field("value"))
    people, sub_teams = [], []
    with connection.cursor() as cursor:
        if parent.team_id:
            people, sub_teams = services.team_split_rows(cursor, parent.team)
        cursor.execute(
            f'SELECT t.id, t.parent_id, t.user_id, t.team_id, t.period_type, t.start, t."end", '
            f"t.value, t.hand_edited FROM {target_table} t WHERE t.parent_id = %s OR "
            f"(t.period_type = %s AND t.parent_id IN "
            f"(SELECT c.id FROM {target_table} c WHERE c.parent_id = %s))",
            [parent.pk, child_type or "", parent.pk],
        )
        below = [GridTarget(*row[:7], value(row[7]), bool(row[8])) for row in cursor.fetchall()]
    return people, sub_teams, below


def _former_member_names(targets) -> dict[str, str]:
    """The names of the people and teams that hold a share of a team target but are no
    longer among its members."""
    targets = list(targets)
    users = User.objects.filter(pk__in=[t.user_id for t in targets if t.user_id])
    teams = Team.objects.filter(pk__in=[t.team_id for t in targets if t.team_id])
    return {
        **{services.scope_key(user_id=user.pk): str(user) for user in users},
        **{services.scope_key(team_id=team.pk): team.name for team in teams},
    }


def planning_grid(*, viewer: User, parent: Target) -> dict:
    """People (rows) by periods (columns) under a target: each row is the parent's share for
    a member or sub-team (or the parent itself, for a person's target), each cell that
    row's target for one shorter period. Row and column sums are compared with the row's
    target and with the parent's own split over time."""
    child_type = periods.SUB_PERIOD.get(parent.period_type)
    columns = (
        [
            {"start": start, "end": end, "label": periods.period_label(child_type, start, end)}
            for start, end in periods.sub_periods(parent.period_type, parent.start, parent.end)
        ]
        if child_type
        else []
    )
    people, sub_teams, below = _grid_reads(parent, child_type)
    children = [t for t in below if t.parent_id == parent.pk]
    # A child in the parent's own scope splits it over time (the columns); one for the
    # parent's period in another scope is a member's or sub-team's share (a row).
    column_targets = {
        t.start: t
        for t in children
        if t.user_id == parent.user_id
        and t.team_id == parent.team_id
        and t.period_type != parent.period_type
    }
    if parent.team_id:
        row_targets = {
            services.scope_key(user_id=t.user_id, team_id=t.team_id): t
            for t in children
            if t.period_type == parent.period_type
            and t.start == parent.start
            and t.end == parent.end
        }
        scopes = [
            *((services.scope_key(user_id=pk), name) for pk, name in people),
            *((services.scope_key(team_id=pk), name) for pk, name in sub_teams),
        ]
        names = dict(scopes)
        # Members who have left still have their targets shown.
        left = [key for key in row_targets if key not in names]
        if left:
            names.update(_former_member_names(row_targets[key] for key in left))
            scopes += [(key, names[key]) for key in left]
    else:
        row_targets = {services.scope_key(user_id=parent.user_id): parent}
        scopes = [(services.scope_key(user_id=parent.user_id), str(parent.user))]
        names = dict(scopes)
    for target in below:
        target.scope_name = names.get(
            services.scope_key(user_id=target.user_id, team_id=target.team_id), ""
        )
    row_parents = {t.pk: t for t in row_targets.values()}
    cells = defaultdict(dict)
    for cell in below:
        row = row_parents.get(cell.parent_id)
        if (
            row is not None
            and cell.period_type == child_type
            and cell.user_id == row.user_id
            and cell.team_id == row.team_id
        ):
            cells[services.scope_key(user_id=cell.user_id, team_id=cell.team_id)][cell.start] = cell
    rows = []
    column_sums = [ZERO] * len(columns)
    for key, name in scopes:
        target = row_targets.get(key)
        row_cells = [cells[key].get(column["start"]) for column in columns]
        total = sum((c.value for c in row_cells if c is not None), ZERO)
        for index, cell in enumerate(row_cells):
            if cell is not None:
                column_sums[index] += cell.value
        rows.append(
            {
                "key": key,
                "name": name,
                "target": target,
                "cells": row_cells,
                "total": total,
                "difference": total - target.value if target and any(row_cells) else None,
            }
        )
    for column, total in zip(columns, column_sums, strict=True):
        column["total"] = total
        column["target"] = column_targets.get(column["start"])
        column["difference"] = total - column["target"].value if column["target"] else None
    row_target_total = sum((r["target"].value for r in rows if r["target"]), ZERO)
    return {
        "parent": parent,
        "columns": columns,
        "rows": rows,
        "row_target_total": row_target_total,
        "cells_total": sum(column_sums, ZERO),
        "difference": row_target_total - parent.value if row_targets else None,
        "editable": can_edit_target(viewer, parent),
        "has_cells": any(any(row["cells"]) for row in rows),
        "hand_edited": any(c is not None and c.hand_edited for r in rows for c in r["cells"])
        or any(r["target"] is not None and r["target"].hand_edited for r in rows),
    }


# Reviews, 360 feedback and improvement plans

# Peer and subordinate answers are shown, aggregated, from this many answers on.
FEEDBACK_MIN_ANONYMOUS = 3
LEVEL_POINTS = Decimal(20)
HUNDRED = Decimal(100)


def _quantize(value: Decimal | None, places: str = "0.01") -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places), ROUND_HALF_UP)


def score_kpi(kind: str, value: Decimal | None, target: Decimal | None) -> Decimal | None:
    """A KPI value's score from 0 to 100 against its target (see the scoring rules in
    performance.services): None when there is no value to score."""
    if value is None or target is None:
        return None
    if kind in LOWER_IS_BETTER:
        if value <= target:
            return HUNDRED
        return _quantize(target / value * HUNDRED)
    if target <= 0:
        return HUNDRED
    return _quantize(min(value / target * HUNDRED, HUNDRED))


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else part * HUNDRED / whole


def review_kpi_values(*, cycle, reviews) -> dict[int, list[dict]]:
    """The KPI lines of each review, computed from the data of the cycle's period: one
    grouped query per measure for all the reviewees (see performance.services for the
    scoring). Values, targets and scores are strings so they keep their exact decimals in
    JSON; None where there is no data."""
    start, end = cycle.start, cycle.end
    users = [review.reviewee_id for review in reviews]
    revenue = actuals_by_user(metric=Metric.REVENUE, start=start, end=end, users=users)
    won = actuals_by_user(metric=Metric.WON_DEALS, start=start, end=end, users=users)
    new_customers = actuals_by_user(metric=Metric.NEW_CUSTOMERS, start=start, end=end, users=users)
    interactions = actuals_by_user(metric=Metric.INTERACTIONS, start=start, end=end, users=users)
    lost = dict(
        Deal.objects.filter(
            owner_id__in=users, status=Deal.Status.LOST, closed_at__gte=start, closed_at__lte=end
        )
        .values("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("owner_id", "n")
    )
    expenses = dict(
        Expense.objects.filter(
            user_id__in=users, status=Expense.Status.APPROVED, date__gte=start, date__lte=end
        )
        .values("user_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("user_id", "total")
    )
    targets: dict[tuple[int, str], Decimal] = {}
    for user_id, metric, value in Target.objects.filter(
        user_id__in=users,
        start=start,
        end=end,
        product_category__isnull=True,
        industry__isnull=True,
        tier="",
    ).values_list("user_id", "metric", "value"):
        targets[(user_id, metric)] = value
    satisfaction: dict[int, list[int]] = defaultdict(list)
    for review_id, answers in ReviewFeedback.objects.filter(
        review__in=[review.pk for review in reviews],
        rater_kind=RaterKind.CUSTOMER,
        answered_at__isnull=False,
    ).values_list("review_id", "answers"):
        satisfaction[review_id].extend(int(level) for level in answers.values())

    result = {}
    for review in reviews:
        uid = review.reviewee_id
        user_revenue = revenue.get(uid, ZERO)
        user_won = won.get(uid, ZERO)
        closed = user_won + lost.get(uid, 0)
        answers = satisfaction.get(review.pk)
        expense = Decimal(expenses.get(uid) or 0)
        revenue_target = targets.get((uid, Metric.REVENUE))
        values = {
            KpiKind.ATTAINMENT: _ratio(user_revenue, revenue_target) if revenue_target else None,
            KpiKind.NEW_CUSTOMERS: new_customers.get(uid, ZERO),
            KpiKind.WIN_RATE: _ratio(user_won, closed),
            KpiKind.AVERAGE_DEAL: user_revenue / user_won if user_won else None,
            KpiKind.INTERACTIONS: interactions.get(uid, ZERO),
            KpiKind.SATISFACTION: Decimal(sum(answers)) / len(answers) if answers else None,
            KpiKind.EXPENSE_RATIO: _ratio(expense, user_revenue),
        }
        lines = []
        for kpi in cycle.kpis.all():
            target = kpi.target
            if kpi.kind == KpiKind.ATTAINMENT:
                target = HUNDRED
            elif kpi.kind == KpiKind.NEW_CUSTOMERS:
                target = targets.get((uid, Metric.NEW_CUSTOMERS), target)
            elif kpi.kind == KpiKind.INTERACTIONS:
                target = targets.get((uid, Metric.INTERACTIONS), target)
            value = _quantize(values[kpi.kind])
            score = score_kpi(kpi.kind, value, target)
            if kpi.kind == KpiKind.EXPENSE_RATIO and value is None and expense:
                score = ZERO  # money spent with no revenue at all
            lines.append(
                {
                    "kind": kpi.kind,
                    "weight": kpi.weight,
                    "value": None if value is None else str(value),
                    "target": str(_quantize(Decimal(target))),
                    "score": None if score is None else str(score),
                }
            )
        result[review.pk] = lines
    return result


def _decimal(text) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def review_breakdown(review) -> dict:
    """How the overall score is made: each KPI line and criterion with its weight, value,
    score (0-100) and contribution; lines without a score share their weight out over the
    others (overall = Σ weight × score / Σ weight of the scored lines)."""
    kpi_labels = dict(KpiKind.choices)
    lines = []
    if review.kpi_results:
        for line in review.kpi_results:
            lines.append(
                {
                    "kind": line["kind"],
                    "label": kpi_labels.get(line["kind"], line["kind"]),
                    "group": "kpi",
                    "weight": int(line["weight"]),
                    "value": _decimal(line["value"]),
                    "target": _decimal(line["target"]),
                    "score": _decimal(line["score"]),
                }
            )
    else:
        for kpi in review.cycle.kpis.all():
            lines.append(
                {
                    "kind": kpi.kind,
                    "label": kpi.get_kind_display(),
                    "group": "kpi",
                    "weight": kpi.weight,
                    "value": None,
                    "target": HUNDRED if kpi.kind == KpiKind.ATTAINMENT else kpi.target,
                    "score": None,
                }
            )
    for criterion in review.cycle.criteria.all():
        level = review.criteria_scores.get(criterion.kind)
        lines.append(
            {
                "kind": criterion.kind,
                "label": criterion.get_kind_display(),
                "group": "criterion",
                "weight": criterion.weight,
                "value": level,
                "target": None,
                "score": LEVEL_POINTS * level if level else None,
                "levels": criterion.levels,
            }
        )
    scored_weight = sum(line["weight"] for line in lines if line["score"] is not None)
    overall = None
    for line in lines:
        line["contribution"] = None
        if line["score"] is not None and scored_weight:
            line["contribution"] = _quantize(
                Decimal(line["weight"]) * line["score"] / scored_weight
            )
    if scored_weight:
        overall = _quantize(
            sum(
                (Decimal(line["weight"]) * line["score"] for line in lines if line["score"]),
                ZERO,
            )
            / scored_weight
        )
    return {
        "lines": lines,
        "overall": overall,
        "scored_weight": scored_weight,
        "unscored_weight": sum(line["weight"] for line in lines) - scored_weight,
        "kpis_filled": bool(review.kpi_results),
    }


def review_cycle_list(*, viewer: User) -> QuerySet:
    return (
        ReviewCycle.objects.visible_to(viewer)
        .select_related("team", "created_by")
        .annotate(
            review_count=Count("reviews", distinct=True),
            submitted_count=Count(
                "reviews",
                filter=~Q(reviews__status=Review.Status.DRAFT),
                distinct=True,
            ),
        )
    )


def review_cycle_get(*, viewer: User, pk) -> ReviewCycle:
    return get_object_or_404(
        review_cycle_list(viewer=viewer).prefetch_related("kpis", "criteria"), pk=pk
    )


REVIEW_ROW_RELATED = ("cycle", "reviewee", "reviewee__team", "reviewer")


def review_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Review.objects.visible_to(viewer).select_related(*REVIEW_ROW_RELATED)
    if filters is None:
        return qs
    return ReviewFilterSet(filters, queryset=qs, request=request).qs


def review_get(*, viewer: User, pk) -> Review:
    return get_object_or_404(
        review_list(viewer=viewer).prefetch_related("cycle__kpis", "cycle__criteria"), pk=pk
    )


def feedback_list(*, viewer: User) -> QuerySet:
    """360 feedback the viewer may read: what they were asked themselves, and on the reviews
    they see, the self, manager and customer answers. Peer and subordinate answers are read
    one by one only by their rater; everyone else gets them through feedback_summary."""
    if not viewer.is_authenticated or not viewer.is_active:
        return ReviewFeedback.objects.none()
    visible_reviews = Review.objects.visible_to(viewer).values("pk")
    return ReviewFeedback.objects.filter(
        Q(rater_id=viewer.pk)
        | (Q(review__in=visible_reviews) & ~Q(rater_kind__in=ANONYMOUS_RATERS))
    ).select_related("review__cycle", "review__reviewee", "rater", "contact")


def feedback_get(*, viewer: User, pk) -> ReviewFeedback:
    return get_object_or_404(feedback_list(viewer=viewer), pk=pk)


def feedback_requests(*, viewer: User) -> QuerySet:
    """What the viewer was asked to give feedback on, unanswered first."""
    return (
        ReviewFeedback.objects.filter(rater_id=viewer.pk)
        .select_related("review__cycle", "review__reviewee")
        .order_by(F("answered_at").desc(nulls_first=True), "-id")
    )


def feedback_from_token(token: str) -> tuple[ReviewFeedback, bool]:
    """The customer feedback a signed link names, and whether the link has expired; a
    tampered or unknown token is not found."""
    from performance.services import FEEDBACK_LINK_MAX_AGE, FEEDBACK_SALT

    expired = False
    try:
        pk = signing.loads(token, salt=FEEDBACK_SALT, max_age=FEEDBACK_LINK_MAX_AGE)
    except signing.SignatureExpired:
        expired = True
        pk = signing.loads(token, salt=FEEDBACK_SALT)
    except signing.BadSignature as error:
        raise Http404 from error
    feedback = get_object_or_404(
        ReviewFeedback.objects.select_related("review__cycle", "review__reviewee", "contact"),
        pk=pk,
        rater_kind=RaterKind.CUSTOMER,
    )
    return feedback, expired


def feedback_summary(review) -> dict:
    """360 results for the review page. Self, manager and customer answers are listed one
    by one; peer and subordinate answers only as averages per criterion with their comments
    unattributed, and only once at least FEEDBACK_MIN_ANONYMOUS of that kind have answered."""
    criteria = [(c.kind, c.get_kind_display()) for c in review.cycle.criteria.all()]
    rows = list(review.feedback.select_related("rater", "contact").order_by("id"))
    groups = []
    for kind, label in RaterKind.choices:
        of_kind = [row for row in rows if row.rater_kind == kind]
        if not of_kind:
            continue
        answered = [row for row in of_kind if row.answered_at]
        group = {
            "kind": kind,
            "label": label,
            "invited": len(of_kind),
            "answered": len(answered),
            "anonymous": kind in ANONYMOUS_RATERS,
        }
        if kind in ANONYMOUS_RATERS:
            shown = len(answered) >= FEEDBACK_MIN_ANONYMOUS
            group["shown"] = shown
            group["needed"] = max(FEEDBACK_MIN_ANONYMOUS - len(answered), 0)
            group["averages"] = (
                [
                    (
                        label_,
                        _quantize(
                            Decimal(sum(int(row.answers[kind_]) for row in answered))
                            / len(answered)
                        ),
                    )
                    for kind_, label_ in criteria
                ]
                if shown
                else []
            )
            group["comments"] = (
                sorted(row.comment for row in answered if row.comment) if shown else []
            )
            group["answers"] = []
        else:
            group["shown"] = True
            group["answers"] = [
                {
                    "rater": row.rater or row.contact,
                    "answered_at": row.answered_at,
                    "levels": [(label_, row.answers.get(kind_)) for kind_, label_ in criteria],
                    "comment": row.comment,
                    "pk": row.pk,
                }
                for row in of_kind
            ]
        groups.append(group)
    return {"criteria": criteria, "groups": groups, "threshold": FEEDBACK_MIN_ANONYMOUS}


def plan_list(*, viewer: User) -> QuerySet:
    return (
        ImprovementPlan.objects.visible_to(viewer)
        .select_related("person", "owner", "review__cycle")
        .annotate(
            action_count=Count("actions", distinct=True),
            done_count=Count("actions", filter=Q(actions__done=True), distinct=True),
        )
    )


def plan_get(*, viewer: User, pk) -> ImprovementPlan:
    return get_object_or_404(
        plan_list(viewer=viewer).prefetch_related(
            Prefetch(
                "actions",
                queryset=ImprovementAction.objects.select_related("owner", "account", "followup"),
            ),
            Prefetch("check_ins", queryset=PlanCheckIn.objects.select_related("by")),
        ),
        pk=pk,
    )


# Expenses


def expense_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Expense.objects.visible_to(viewer).select_related("user", "account", "deal", "decided_by")
    if filters is None:
        return qs
    return ExpenseFilterSet(filters, queryset=qs, request=request).qs


def expense_get(*, viewer: User, pk) -> Expense:
    return get_object_or_404(expense_list(viewer=viewer), pk=pk)


def expenses_to_decide(*, viewer: User) -> QuerySet:
    """Submitted expenses of the people the viewer sees, other than their own."""
    return (
        expense_list(viewer=viewer)
        .filter(status=Expense.Status.SUBMITTED)
        .exclude(user_id=viewer.pk)
    )


def expense_totals(*, viewer: User, start: dt.date, end: dt.date) -> dict:
    """The visible approved and submitted amounts of a period, by category."""
    rows = (
        Expense.objects.visible_to(viewer)
        .filter(date__gte=start, date__lte=end)
        .exclude(status=Expense.Status.REJECTED)
        .values("category", "status")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    labels = dict(Expense.Category.choices)
    totals: dict[str, dict] = {}
    for row in rows:
        entry = totals.setdefault(
            row["category"],
            {"label": labels[row["category"]], "approved": ZERO, "submitted": ZERO},
        )
        entry[row["status"]] += row["total"]
    return {
        "by_category": [totals[key] for key in Expense.Category.values if key in totals],
        "approved": sum((entry["approved"] for entry in totals.values()), ZERO),
        "submitted": sum((entry["submitted"] for entry in totals.values()), ZERO),
    }
