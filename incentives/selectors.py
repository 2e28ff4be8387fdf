"""Reads of the incentives app: the plan that applies to a person, the inputs of a statement
(credited deals, targets, team figures), and the visible statements, disputes and reports.

Visibility (DESIGN.md §4): a person sees their own statements, a manager those of their
subtree, an admin all; anything else is not found.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from incentives.calculator import (
    BonusSpec,
    Credit,
    LineDraft,
    PeriodInputs,
    RuleSpec,
    TeamFigures,
    period_lines,
)
from incentives.filtersets import DisputeFilterSet, StatementFilterSet
from incentives.models import (
    Award,
    BonusKind,
    BonusPeriod,
    CommissionPlan,
    CommissionRule,
    Contest,
    DealCost,
    DealCredit,
    Dispute,
    Kudos,
    Statement,
    StatementLine,
)
from performance import periods
from performance.models import Metric, PeriodType
from performance.selectors import actuals_by_user, plain_targets, target_actual
from pipeline.models import Deal
from teams.models import LadderLevel, Team, User
from teams.selectors import is_manager

ZERO = Decimal("0")

# Plans


def plans_in_effect(on: dt.date) -> list[CommissionPlan]:
    """The plans in effect on a day, with whom they apply to (ids only)."""
    return list(
        CommissionPlan.objects.filter(effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .prefetch_related(
            Prefetch("users", queryset=User.objects.only("pk")),
            Prefetch("teams", queryset=Team.objects.only("pk")),
            Prefetch("ladder_levels", queryset=LadderLevel.objects.only("pk")),
        )
    )


class PlanResolver:
    """Finds each person's plan among the plans in effect on a day: one naming the person,
    else one naming the nearest team above them, else one naming their ladder level."""

    def __init__(self, plans: list[CommissionPlan]):
        self.by_user, self.by_team, self.by_level = {}, {}, {}
        for plan in sorted(plans, key=lambda p: (p.effective_from, p.pk)):
            for user in plan.users.all():
                self.by_user[user.pk] = plan
            for team in plan.teams.all():
                self.by_team[team.pk] = plan
            for level in plan.ladder_levels.all():
                self.by_level[level.pk] = plan

    def plan_for(self, user: User) -> CommissionPlan | None:
        if user.pk in self.by_user:
            return self.by_user[user.pk]
        if user.team_id:
            path = user.team.path if user.team else ""
            for team_id in reversed([int(part) for part in path.strip("/").split("/") if part]):
                if team_id in self.by_team:
                    return self.by_team[team_id]
        return self.by_level.get(user.ladder_level_id)


def plan_for(user: User, *, on: dt.date) -> CommissionPlan | None:
    return PlanResolver(plans_in_effect(on)).plan_for(user)


def plan_period(plan: CommissionPlan, on: dt.date) -> periods.Period:
    return periods.period_bounds(plan.period, on)


def plan_rules(plan: CommissionPlan | None) -> tuple[list, list]:
    """The plan's commission rules (with their tiers) and bonus rules."""
    if plan is None:
        return [], []
    rules = list(CommissionRule.objects.filter(plan=plan).prefetch_related("tiers"))
    return rules, list(plan.bonuses.all())


# Statement inputs


def _first_won_of_account() -> Exists:
    earlier = Deal.objects.filter(account_id=OuterRef("account_id"), status=Deal.Status.WON).filter(
        Q(closed_at__lt=OuterRef("closed_at"))
        | Q(closed_at=OuterRef("closed_at"), pk__lt=OuterRef("pk"))
    )
    return ~Exists(earlier)


def credits_by_user(*, users, start: dt.date, end: dt.date) -> dict[int, list[Credit]]:
    """The won deals closed in [start, end] credited to each person: their shares where the
    deal has any, else the whole deal to its owner. `users` is ids or a subquery."""
    # No ordering (the calculator orders each person's credits) and rows as tuples: a
    # statement run reads tens of thousands of them.
    won = Deal.objects.filter(
        status=Deal.Status.WON, closed_at__gte=start, closed_at__lte=end
    ).order_by()
    deal_fields = ("pk", "name", "amount", "closed_at", "product_category_id", "cost__cost")
    result: dict[int, list[Credit]] = defaultdict(list)

    def credit(row, user_id, share):
        pk, name, amount, closed_at, category_id, cost, new_customer = row
        result[user_id].append(
            Credit(
                deal_id=pk,
                deal_name=name,
                amount=amount or ZERO,
                share=share,
                closed_at=closed_at,
                product_category_id=category_id,
                cost=cost,
                new_customer=new_customer,
            )
        )

    whole = (
        won.filter(owner_id__in=users)
        .filter(~Exists(DealCredit.objects.filter(deal_id=OuterRef("pk"))))
        .annotate(new_customer=_first_won_of_account())
        .values_list(*deal_fields, "new_customer", "owner_id")
    )
    hundred = Decimal("100")
    for *row, owner_id in whole:
        credit(row, owner_id, hundred)
    shared = (
        won.filter(credits__user_id__in=users)
        .annotate(new_customer=_first_won_of_account(), share=F("credits__percent"))
        .values_list(*deal_fields, "new_customer", "credits__user_id", "share")
    )
    for *row, user_id, share in shared:
        credit(row, user_id, share)
    return result


def revenue_targets(*, period_type: str, start: dt.date, users) -> dict[int, Decimal]:
    rows = (
        plain_targets(metric=Metric.REVENUE, period_type=period_type, start=start)
        .filter(user_id__in=users)
        .values_list("user_id", "value")
    )
    return dict(rows)


def _team_figures(
    users: list[User], period_types: dict[int, str], start: dt.date, end: dt.date
) -> dict[int, TeamFigures]:
    """For each person, their team's revenue target and actual for the period, its active
    members and what each member won (a query per team with a target, the rest grouped)."""
    team_ids = {user.team_id for user in users if user.team_id}
    targets = {}
    for period_type in set(period_types.values()):
        rows = plain_targets(metric=Metric.REVENUE, period_type=period_type, start=start)
        for target in rows.filter(team_id__in=team_ids):
            targets[(target.team_id, period_type)] = target
    actuals = {key: target_actual(target) for key, target in targets.items()}
    members = defaultdict(list)
    active = User.objects.filter(team_id__in=team_ids, is_active=True)
    for pk, team_id in active.values_list("pk", "team_id"):
        members[team_id].append(pk)
    member_ids = [pk for ids in members.values() for pk in ids]
    revenue = actuals_by_user(metric=Metric.REVENUE, start=start, end=end, users=member_ids)
    figures = {}
    for user in users:
        key = (user.team_id, period_types[user.pk])
        target = targets.get(key)
        team = members.get(user.team_id, [])
        figures[user.pk] = TeamFigures(
            target=target.value if target else None,
            actual=actuals.get(key, ZERO),
            members=len(team),
            member_revenue=revenue.get(user.pk, ZERO),
            team_revenue=sum((revenue.get(pk, ZERO) for pk in team), ZERO),
        )
    return figures


def bulk_period_inputs(
    *,
    users: list[User],
    plans: dict[int, CommissionPlan | None],
    bonuses: dict[int, list],
    start: dt.date,
    end: dt.date,
    credits: dict[int, list[Credit]] | None = None,
    targets: dict[int, Decimal | None] | None = None,
) -> dict[int, PeriodInputs]:
    """What the calculator needs for each person for one period, in a fixed number of
    queries whatever the number of people. `plans` and `bonuses` (specs) are by person;
    `credits` and `targets` replace what would be read (an estimate's what-if, a frozen
    statement's approved target)."""
    ids = [user.pk for user in users]
    period_types = {pk: plans[pk].period if plans.get(pk) else PeriodType.QUARTER for pk in ids}
    if credits is None:
        credits = credits_by_user(users=ids, start=start, end=end)
    if targets is None:
        targets = {}
        for period_type in set(period_types.values()):
            chosen = [pk for pk in ids if period_types[pk] == period_type]
            targets.update(revenue_targets(period_type=period_type, start=start, users=chosen))
    inputs = {
        user.pk: PeriodInputs(
            start=start,
            end=end,
            target=targets.get(user.pk),
            credits=list(credits.get(user.pk, [])),
            hire_date=user.hire_date,
        )
        for user in users
    }
    with_team = [
        user
        for user in users
        if user.team_id and any(b.kind == BonusKind.TEAM_TARGET for b in bonuses[user.pk])
    ]
    if with_team:
        for pk, figures in _team_figures(with_team, period_types, start, end).items():
            inputs[pk].team = figures
    yearly = [pk for pk in ids if any(b.period == BonusPeriod.YEAR for b in bonuses[pk])]
    if yearly and (end.month, end.day) == (12, 31):
        year_start = dt.date(end.year, 1, 1)
        year_targets = revenue_targets(period_type=PeriodType.YEAR, start=year_start, users=yearly)
        year_credits = credits_by_user(users=yearly, start=year_start, end=end)
        for pk in yearly:
            inputs[pk].year_target = year_targets.get(pk)
            inputs[pk].year_revenue = sum((c.revenue for c in year_credits.get(pk, [])), ZERO)
    return inputs


def deal_credit_shares(deal: Deal) -> dict[int, Decimal]:
    """Who is credited with the deal and how much (percent)."""
    shares = dict(DealCredit.objects.filter(deal=deal).values_list("user_id", "percent"))
    return shares or {deal.owner_id: Decimal("100")}


def frozen_deal_changed(statement: Statement) -> bool:
    """Whether a deal the frozen statement paid on, or one now credited to its person in its
    period, changed (or its credits or cost did) after it was approved."""
    since = statement.approved_at
    paid = StatementLine.objects.filter(
        Q(statement=statement) | Q(corrects=statement), deal__isnull=False
    ).values("deal_id")
    period = Q(closed_at__gte=statement.start, closed_at__lte=statement.end) & (
        Q(owner_id=statement.user_id) | Q(credits__user_id=statement.user_id)
    )
    deals = Deal.all_objects.filter(Q(pk__in=paid) | period)
    changed = (
        Q(updated_at__gt=since)
        | Q(credits__updated_at__gt=since)
        | Q(cost__updated_at__gt=since)
        | Q(deleted_at__isnull=False, deleted_at__gt=since)
    )
    return deals.filter(changed).exists()


def paid_by_source(statement: Statement) -> tuple[dict, dict]:
    """What frozen statements paid for a frozen statement's period: by deal, and by the
    source of lines that name no deal (period bonuses)."""
    lines = StatementLine.objects.filter(
        Q(statement=statement) | Q(corrects=statement),
        statement__status__in=[Statement.Status.APPROVED, Statement.Status.PAID],
        kind__in=["commission", "bonus", "adjustment", "clawback"],
    ).exclude(source_key__startswith="dispute:")
    by_deal: dict[int, Decimal] = defaultdict(lambda: ZERO)
    by_key: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for deal_id, key, amount in lines.values_list("deal_id", "source_key", "amount"):
        if deal_id is not None:
            by_deal[deal_id] += amount
        else:
            by_key[_period_key(key)] += amount
    return by_deal, by_key


def _period_key(key: str) -> str:
    """The bonus source a line pays or corrects: "bonus:4:team" for both the bonus line and
    "adjust:12:bonus:4:team"."""
    if key.startswith("adjust:"):
        return key.split(":", 2)[2]
    return key


def deal_names(ids) -> dict[int, str]:
    return dict(Deal.all_objects.filter(pk__in=ids).values_list("pk", "name"))


# Visible statements and disputes

STATEMENT_RELATED = ("user", "user__team", "plan", "approved_by")


def statement_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Statement.objects.visible_to(viewer).select_related(*STATEMENT_RELATED)
    if filters is None:
        return qs
    return StatementFilterSet(filters, queryset=qs, request=request).qs


def statement_get(*, viewer: User, pk) -> Statement:
    disputes = Dispute.objects.select_related("raised_by", "resolved_by")
    lines = StatementLine.objects.select_related(
        "deal", "rule", "bonus_rule", "corrects"
    ).prefetch_related(Prefetch("disputes", queryset=disputes))
    return get_object_or_404(
        statement_list(viewer=viewer).prefetch_related(Prefetch("lines", queryset=lines)), pk=pk
    )


def statement_line_get(*, viewer: User, pk) -> StatementLine:
    return get_object_or_404(
        StatementLine.objects.filter(
            statement__in=Statement.objects.visible_to(viewer)
        ).select_related("statement", "statement__user", "deal"),
        pk=pk,
    )


def can_approve(viewer: User, statement: Statement) -> bool:
    """A manager approves the statements of their subtree, never their own; admins any."""
    return (
        statement.status == Statement.Status.DRAFT
        and statement.user_id != viewer.pk
        and is_manager(viewer)
        and Statement.objects.visible_to(viewer).filter(pk=statement.pk).exists()
    )


def statements_to_approve(*, viewer: User) -> QuerySet:
    if not is_manager(viewer):
        return Statement.objects.none()
    return (
        statement_list(viewer=viewer)
        .filter(status=Statement.Status.DRAFT)
        .exclude(user_id=viewer.pk)
        .order_by("start", "user__username")
    )


def my_statements(*, viewer: User) -> QuerySet:
    return statement_list(viewer=viewer).filter(user_id=viewer.pk).order_by("-start")


def dispute_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Dispute.objects.visible_to(viewer).select_related(
        "line", "line__statement", "line__statement__user", "line__deal", "raised_by", "resolved_by"
    )
    if filters is None:
        return qs
    return DisputeFilterSet(filters, queryset=qs, request=request).qs


def dispute_get(*, viewer: User, pk) -> Dispute:
    return get_object_or_404(dispute_list(viewer=viewer), pk=pk)


def disputes_to_resolve(*, viewer: User) -> QuerySet:
    if not is_manager(viewer):
        return Dispute.objects.none()
    return (
        dispute_list(viewer=viewer)
        .filter(status=Dispute.Status.OPEN)
        .exclude(line__statement__user_id=viewer.pk)
    )


def payroll_rows(*, start: dt.date, end: dt.date) -> list[dict]:
    """One row per person: their approved and paid statements whose period lies within
    [start, end], summed."""
    rows = (
        Statement.objects.filter(
            status__in=[Statement.Status.APPROVED, Statement.Status.PAID],
            start__gte=start,
            end__lte=end,
        )
        .values(
            "user_id",
            "user__username",
            "user__first_name",
            "user__last_name",
            "user__team__name",
            "currency",
        )
        .annotate(
            commission=Sum("commission_total"),
            bonuses=Sum("bonus_total"),
            adjustments=Sum("adjustment_total"),
            total=Sum("total"),
        )
        .order_by("user__username", "currency")
    )
    result = []
    for row in rows:
        person = User(first_name=row["user__first_name"], last_name=row["user__last_name"])
        result.append({**row, "name": str(person) or row["user__username"]})
    return result


# Computation


class PlanSpecs:
    """Each plan's rules and bonuses as calculator specs, read once per plan."""

    def __init__(self):
        self.cache: dict[int | None, tuple[list[RuleSpec], list[BonusSpec]]] = {None: ([], [])}

    def of(self, plan: CommissionPlan | None) -> tuple[list[RuleSpec], list[BonusSpec]]:
        key = plan.pk if plan else None
        if key not in self.cache:
            rules, bonuses = plan_rules(plan)
            self.cache[key] = (
                [RuleSpec.of(rule) for rule in rules],
                [BonusSpec.of(bonus) for bonus in bonuses],
            )
        return self.cache[key]


def period_drafts(
    *,
    user: User,
    plan: CommissionPlan | None,
    start: dt.date,
    end: dt.date,
    specs: PlanSpecs | None = None,
    credits: list[Credit] | None = None,
    target: Decimal | None = None,
    use_target: bool = False,
) -> tuple[PeriodInputs, list[LineDraft]]:
    """The commission and bonus lines one person earns for one period under a plan. A
    frozen statement's recomputation passes the target it was approved with
    (`use_target`); an estimate passes its what-if credits."""
    rules, bonuses = (specs or PlanSpecs()).of(plan)
    figures = bulk_period_inputs(
        users=[user],
        plans={user.pk: plan},
        bonuses={user.pk: bonuses},
        start=start,
        end=end,
        credits=None if credits is None else {user.pk: credits},
        targets={user.pk: target} if use_target else None,
    )[user.pk]
    return figures, period_lines(rules, bonuses, figures)


def commission_estimate(*, deal: Deal, user: User, on: dt.date | None = None) -> dict:
    """What the deal would pay the person if it were won today, given their plan and what
    they have won so far this period: the difference it makes to their commission and
    bonuses (so a deal that lifts them into a better retroactive tier counts that too)."""
    on = on or periods.today()
    plan = plan_for(user, on=on)
    share = deal_credit_shares(deal).get(user.pk, ZERO)
    result = {
        "deal": deal,
        "user": user,
        "plan": plan,
        "plan_id": plan.pk if plan else None,
        "share": share,
        "start": None,
        "end": None,
        "amount": ZERO,
        "attainment_now": None,
        "attainment_if_won": None,
        "lines": [],
    }
    if plan is None or not share or deal.amount is None:
        return result
    start, end = plan_period(plan, on)
    specs = PlanSpecs()
    current = [
        credit
        for credit in credits_by_user(users=[user.pk], start=start, end=end).get(user.pk, [])
        if credit.deal_id != deal.pk
    ]
    cost = DealCost.objects.filter(deal=deal).values_list("cost", flat=True).first()
    earlier_win = Deal.objects.filter(account_id=deal.account_id, status=Deal.Status.WON).exclude(
        pk=deal.pk
    )
    won = Credit(
        deal_id=deal.pk,
        deal_name=deal.name,
        amount=deal.amount,
        share=share,
        closed_at=max(on, start) if on <= end else end,
        product_category_id=deal.product_category_id,
        cost=cost,
        new_customer=not earlier_win.filter(closed_at__lte=on).exists(),
    )
    before, lines_before = period_drafts(
        user=user, plan=plan, start=start, end=end, specs=specs, credits=current
    )
    after, lines_after = period_drafts(
        user=user, plan=plan, start=start, end=end, specs=specs, credits=[*current, won]
    )
    result.update(
        start=start,
        end=end,
        amount=sum((line.amount for line in lines_after), ZERO)
        - sum((line.amount for line in lines_before), ZERO),
        attainment_now=before.attainment,
        attainment_if_won=after.attainment,
        lines=[line for line in lines_after if line.deal_id == deal.pk],
    )
    return result


# Recognition


def contest_list(*, viewer: User) -> QuerySet:
    return Contest.objects.visible_to(viewer).select_related("created_by")


def contest_get(*, viewer: User, pk) -> Contest:
    return get_object_or_404(contest_list(viewer=viewer), pk=pk)


def contest_ranking(contest: Contest, *, on: dt.date | None = None) -> list[dict]:
    """The participants ranked on the contest's metric so far (ties share a rank)."""
    on = on or periods.today()
    people = list(contest.participants.select_related("team").order_by("username"))
    end = min(on, contest.end)
    values = (
        actuals_by_user(
            metric=contest.metric, start=contest.start, end=end, users=[p.pk for p in people]
        )
        if end >= contest.start
        else {}
    )
    rows = sorted(
        ({"user": person, "value": values.get(person.pk, ZERO)} for person in people),
        key=lambda row: (-row["value"], row["user"].username),
    )
    rank, previous = 0, None
    for index, row in enumerate(rows, start=1):
        if row["value"] != previous:
            rank, previous = index, row["value"]
        row["rank"] = rank
    return rows


def award_list(*, viewer: User) -> QuerySet:
    return Award.objects.visible_to(viewer).select_related(
        "user", "user__team", "granted_by", "contest"
    )


def kudos_list(*, viewer: User) -> QuerySet:
    return Kudos.objects.visible_to(viewer).select_related("sender", "recipient", "recipient__team")


def person_recognition(*, viewer: User, person: User, limit: int = 10) -> dict:
    """On a person's page: their latest awards and the latest kudos they received."""
    return {
        "awards": list(award_list(viewer=viewer).filter(user=person)[:limit]),
        "kudos": list(kudos_list(viewer=viewer).filter(recipient=person)[:limit]),
    }


def recognition_wall(*, viewer: User, limit: int = 30) -> dict:
    """The latest awards and the kudos on the viewer's team wall."""
    return {
        "awards": list(award_list(viewer=viewer)[:limit]),
        "kudos": list(kudos_list(viewer=viewer)[:limit]),
    }
