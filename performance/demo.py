"""The demo company's targets: this year's revenue target for the whole company, decomposed
through the real services to the regions, their squads and reps, and over quarters, months
and weeks (by working days), so the planning grid, My targets and the leaderboard have
something to show on first start.

The company target is this year's won revenue so far projected over the whole year's
working days and rounded up to the next million, so some reps are ahead of pace and others
behind. Safe to run twice: nothing is added when targets already exist.
"""

import datetime as dt
import random
from decimal import ROUND_CEILING, Decimal

from customers.models import Account, Contact
from performance import periods, selectors, services
from performance.models import (
    Expense,
    ImprovementPlan,
    Metric,
    PerformanceSettings,
    PeriodType,
    RaterKind,
    Review,
    ReviewCycle,
    Target,
)
from teams.models import Role, Team, User
from teams.selectors import manager_of

MILLION = Decimal("1000000")
# The target when the demo company has won nothing yet this year.
FALLBACK_TARGET = Decimal("50000000")


def _company_target(year_start, today) -> Decimal:
    won = sum(
        selectors.actuals_by_user(metric=Metric.REVENUE, start=year_start, end=today).values(),
        Decimal(0),
    )
    clock = selectors.PaceClock(year_start, year_start.replace(month=12, day=31), today)
    if not won or not clock.share:
        return FALLBACK_TARGET
    projected = won / clock.share
    return (projected / MILLION).to_integral_value(ROUND_CEILING) * MILLION


def _split_down(by: User, target: Target) -> int:
    """Splits a team target over its people and sub-teams, then every target over time down
    to weeks; returns how many targets were made."""
    made = 0
    scope_children = []
    if target.team_id:
        scope_children = services.target_decompose(by=by, target=target, split=services.SPLIT_TEAM)
        made += len(scope_children)
    time_children = services.target_decompose(by=by, target=target, split=services.SPLIT_TIME)
    made += len(time_children)
    for child in time_children:
        if child.period_type in periods.SUB_PERIOD:
            made += _split_time(by, child)
    for child in scope_children:
        made += _split_down(by, child)
    return made


def _split_time(by: User, target: Target) -> int:
    children = services.target_decompose(by=by, target=target, split=services.SPLIT_TIME)
    made = len(children)
    for child in children:
        if child.period_type in periods.SUB_PERIOD:
            made += _split_time(by, child)
    return made


def seed(log) -> dict:
    if Target.objects.exists():
        log("Performance: targets already exist; not adding demo targets.")
        return {}
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    company = Team.objects.filter(parent__isnull=True).order_by("pk").first()
    if admin is None or company is None:
        log("Performance: no demo organisation found; seed the teams first.")
        return {}
    today = periods.today()
    year_start, _end = periods.period_bounds(PeriodType.YEAR, today)
    value = _company_target(year_start, today)
    year = services.target_create(
        by=admin,
        period_type=PeriodType.YEAR,
        start=year_start,
        team=company,
        metric=Metric.REVENUE,
        value=value,
        note="公司年度收入目标 · Company revenue target",
    )
    made = 1 + _split_down(admin, year)
    settings = PerformanceSettings.load()
    settings.leaderboard_scope = PerformanceSettings.LeaderboardScope.COMPANY
    settings.save()
    log(f"Performance: a {value} revenue target for {today.year}, split into {made} targets.")
    return {}


# Reviews, 360 feedback and improvement plans

REVIEW_SEED = 20260105

STRENGTHS = [
    "客户关系维护扎实，回访及时。",
    "产品讲解清楚，演示转化率高。",
    "团队协作积极，主动分享线索。",
    "谈判沉稳，大单推进有章法。",
]
IMPROVEMENTS = [
    "商机阶段更新不及时，需每周整理管道。",
    "新客户开拓偏少，需增加陌生拜访。",
    "报价前的需求确认不够充分。",
    "拜访记录过于简略，下一步不清楚。",
]


def _previous_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    start, _end = periods.period_bounds(PeriodType.QUARTER, today)
    return periods.period_bounds(PeriodType.QUARTER, start - dt.timedelta(days=1))


def _levels(rng, cycle, base: int) -> dict[str, int]:
    return {
        criterion.kind: max(1, min(5, base + rng.choice([-1, 0, 0, 1])))
        for criterion in cycle.criteria.all()
    }


def _feedback(rng, manager, review) -> None:
    """Self, three peers of the region and a customer answer on one review."""
    cycle = review.cycle
    reviewee = review.reviewee
    raters = [(RaterKind.SELF, reviewee)]
    peers = User.objects.filter(
        team__path__startswith=cycle.team.path, role=Role.REP, is_active=True
    ).exclude(pk=reviewee.pk)
    raters += [(RaterKind.PEER, peer) for peer in peers.order_by("pk")[:3]]
    for kind, rater in raters:
        feedback = services.feedback_invite(by=manager, review=review, rater_kind=kind, rater=rater)
        services.feedback_answer(
            by=rater,
            feedback=feedback,
            answers=_levels(rng, cycle, 4),
            comment=rng.choice(["乐于帮忙。", "客户跟进很细致。", "希望多分享经验。", ""]),
        )
    contact = Contact.objects.filter(account__owner=reviewee).order_by("pk").first()
    if contact is not None:
        feedback = services.feedback_invite(
            by=manager, review=review, rater_kind=RaterKind.CUSTOMER, contact=contact
        )
        services.feedback_answer(
            by=None, feedback=feedback, answers=_levels(rng, cycle, 4), comment="响应很快，专业。"
        )


def _plan(manager, review, today: dt.date) -> None:
    plan = services.plan_create(
        by=manager,
        review=review,
        goals="两个月内把赢单率提高到 30%，每周至少 10 次有效拜访。",
        start=today - dt.timedelta(days=20),
        end=today + dt.timedelta(days=40),
        status=ImprovementPlan.Status.ACTIVE,
    )
    account = Account.objects.filter(owner=review.reviewee).order_by("pk").first()
    services.plan_add_action(
        by=manager,
        plan=plan,
        description="与主管一起拜访重点客户，复盘需求确认",
        owner=review.reviewee,
        due=today + dt.timedelta(days=7),
        account=account,
    )
    action = services.plan_add_action(
        by=manager,
        plan=plan,
        description="学习产品报价指南并完成测验",
        owner=review.reviewee,
        due=today - dt.timedelta(days=5),
    )
    services.action_set_done(by=review.reviewee, action=action)
    services.plan_add_action(
        by=manager,
        plan=plan,
        description="每周五整理一次商机阶段",
        owner=review.reviewee,
        due=today + dt.timedelta(days=14),
    )
    services.plan_check_in(
        by=manager,
        plan=plan,
        date=today - dt.timedelta(days=6),
        note="拜访量已达标，报价前确认仍需加强。",
    )


def seed_reviews(log) -> dict:
    """East's review cycle of last quarter completed (submitted and mostly acknowledged,
    with 360 feedback and one improvement plan), this quarter's cycle open, and four months
    of expenses for every rep."""
    if ReviewCycle.objects.exists():
        log("Performance: review cycles already exist; not adding demo reviews.")
        return {}
    east_mgr = User.objects.filter(username="east_mgr").select_related("team").first()
    if east_mgr is None or east_mgr.team is None:
        log("Performance: no demo organisation found; seed the teams first.")
        return {}
    rng = random.Random(REVIEW_SEED)
    today = periods.today()
    _seed_expenses(rng, today)

    start, end = _previous_quarter(today)
    last = services.cycle_create(
        by=east_mgr,
        name=f"华东 {periods.period_label(PeriodType.QUARTER, start, end)} 季度考核",
        kind="quarterly",
        start=start,
        end=end,
        team=east_mgr.team,
    )
    services.cycle_open(by=east_mgr, cycle=last)
    reviews = list(last.reviews.select_related("reviewee", "reviewer", "cycle").order_by("pk"))
    for review in reviews:
        if review.reviewee.username.endswith("_rep1"):
            _feedback(rng, east_mgr, review)
    for review in reviews:
        services.review_submit(
            by=review.reviewer or east_mgr,
            review=review,
            criteria_scores=_levels(rng, last, rng.choice([3, 3, 4, 4, 5])),
            strengths=rng.choice(STRENGTHS),
            improvements=rng.choice(IMPROVEMENTS),
        )
    for review in reviews[:-2]:
        services.review_acknowledge(
            by=review.reviewee, review=review, comment="认可，会按改进点执行。"
        )
    services.cycle_close(by=east_mgr, cycle=last)
    lowest = (
        Review.objects.filter(cycle=last, reviewee__role=Role.REP)
        .select_related("reviewee", "reviewer", "cycle")
        .order_by("overall_score", "pk")
        .first()
    )
    if lowest is not None:
        _plan(lowest.reviewer or east_mgr, lowest, today)

    current_start, current_end = periods.period_bounds(PeriodType.QUARTER, today)
    current_label = periods.period_label(PeriodType.QUARTER, current_start, current_end)
    current = services.cycle_create(
        by=east_mgr,
        name=f"华东 {current_label} 季度考核",
        kind="quarterly",
        start=current_start,
        end=current_end,
        team=east_mgr.team,
    )
    services.cycle_open(by=east_mgr, cycle=current)
    log(
        f"Performance: {ReviewCycle.objects.count()} review cycles, "
        f"{Review.objects.count()} reviews, {Expense.objects.count()} expenses."
    )
    return {}


# Expenses

EXPENSE_AMOUNTS = {
    Expense.Category.TRAVEL: (200, 2500),
    Expense.Category.HOSPITALITY: (300, 3000),
    Expense.Category.GIFTS: (100, 800),
    Expense.Category.MARKETING: (500, 5000),
    Expense.Category.OTHER: (50, 400),
}
EXPENSE_NOTES = {
    Expense.Category.TRAVEL: "客户拜访差旅",
    Expense.Category.HOSPITALITY: "客户招待",
    Expense.Category.GIFTS: "节日礼品",
    Expense.Category.MARKETING: "行业展会物料",
    Expense.Category.OTHER: "办公杂费",
}


def _seed_expenses(rng, today: dt.date) -> None:
    """About two expenses a month for every rep over the last four months: approved by their
    manager (a few rejected), the last ten days' still waiting."""
    rows = []
    first = (today.replace(day=1) - dt.timedelta(days=100)).replace(day=1)
    reps = User.objects.filter(role=Role.REP, is_active=True, team__isnull=False)
    for rep in reps.select_related("team").order_by("pk"):
        approver = manager_of(rep)
        accounts = list(Account.objects.filter(owner=rep).values_list("pk", flat=True)[:10])
        day = first
        while day <= today:
            category = rng.choice(list(EXPENSE_AMOUNTS))
            low, high = EXPENSE_AMOUNTS[category]
            status = Expense.Status.APPROVED
            if (today - day).days < 10:
                status = Expense.Status.SUBMITTED
            elif rng.random() < 0.06:
                status = Expense.Status.REJECTED
            rows.append(
                Expense(
                    user=rep,
                    date=day,
                    category=category,
                    amount=Decimal(rng.randint(low, high)),
                    account_id=rng.choice(accounts) if accounts and rng.random() < 0.7 else None,
                    note=EXPENSE_NOTES[category],
                    status=status,
                    decided_by=approver if status != Expense.Status.SUBMITTED else None,
                    rejection_reason="缺少发票" if status == Expense.Status.REJECTED else "",
                )
            )
            day += dt.timedelta(days=rng.randint(6, 14))
    Expense.objects.bulk_create(rows)
