"""The demo company's incentives: a tiered plan for reps and one for supervisors and
managers, bonus rules, a few split deals, last quarter's statements approved and paid and
this quarter's drafts, with one open dispute. Seeds once; a second run leaves it alone."""

import datetime as dt
from decimal import Decimal

from incentives import services
from incentives.models import BonusRule, CommissionPlan, CommissionRule, Statement
from performance import periods
from pipeline.models import Deal
from teams.models import LadderLevel, Role, User
from teams.selectors import manager_of

D = Decimal
REP_TIERS = [
    {"from_percent": D("0"), "to_percent": D("80"), "rate": D("3")},
    {"from_percent": D("80"), "to_percent": D("100"), "rate": D("5")},
    {"from_percent": D("100"), "to_percent": None, "rate": D("8")},
]
LEAD_TIERS = [
    {"from_percent": D("0"), "to_percent": D("100"), "rate": D("1.5")},
    {"from_percent": D("100"), "to_percent": None, "rate": D("3")},
]


def _plans(start: dt.date) -> int:
    levels = {level.code: level for level in LadderLevel.objects.all()}
    reps = services.commission_plan_save(
        by=None,
        plan=CommissionPlan(name="销售代表提成方案 Reps", effective_from=start, period="quarter"),
        ladder_levels=[
            levels[code]
            for code in ("junior_rep", "intermediate_rep", "senior_rep")
            if code in levels
        ],
    )
    services.commission_rule_save(
        by=None,
        rule=CommissionRule(
            plan=reps,
            name="Won revenue, marginal tiers",
            tier_mode="marginal",
            base_rate=D("3"),
            threshold_percent=D("50"),
        ),
        tiers=REP_TIERS,
    )
    for bonus in (
        BonusRule(
            plan=reps,
            name="目标达成奖 Target reached",
            kind="target_reached",
            attainment_percent=D("120"),
            amount=D("5000"),
        ),
        BonusRule(plan=reps, name="新客户奖 New customer", kind="new_customer", amount=D("500")),
        BonusRule(
            plan=reps,
            name="大单奖 Large deal",
            kind="large_deal",
            min_deal_amount=D("500000"),
            percent=D("1"),
        ),
        BonusRule(
            plan=reps,
            name="资深销售代表 Long service",
            kind="long_service",
            amount=D("3000"),
            min_years=5,
        ),
    ):
        services.bonus_rule_save(by=None, bonus=bonus)
    leads = services.commission_plan_save(
        by=None,
        plan=CommissionPlan(
            name="主管经理提成方案 Supervisors", effective_from=start, period="quarter"
        ),
        ladder_levels=[levels[code] for code in ("supervisor", "manager") if code in levels],
    )
    services.commission_rule_save(
        by=None,
        rule=CommissionRule(
            plan=leads,
            name="Won revenue, retroactive tiers",
            tier_mode="retroactive",
            base_rate=D("1.5"),
            cap=D("120000"),
        ),
        tiers=LEAD_TIERS,
    )
    services.bonus_rule_save(
        by=None,
        bonus=BonusRule(
            plan=leads,
            name="团队目标奖 Team target",
            kind="team_target",
            amount=D("20000"),
            team_split="contribution",
        ),
    )
    return 2


def _split_some_deals(quarter: periods.Period) -> int:
    """A few of this quarter's wins were worked by two reps of the same squad."""
    deals = (
        Deal.objects.filter(
            status=Deal.Status.WON, closed_at__gte=quarter[0], closed_at__lte=quarter[1]
        )
        .select_related("owner")
        .order_by("pk")[:40:10]
    )
    split = 0
    for deal in deals:
        partner = (
            User.objects.filter(team_id=deal.owner.team_id, role=Role.REP, is_active=True)
            .exclude(pk=deal.owner_id)
            .order_by("pk")
            .first()
        )
        if partner is not None:
            services.deal_credits_set(
                by=None, deal=deal, shares=[(deal.owner, D("70")), (partner, D("30"))]
            )
            split += 1
    return split


def seed(log) -> dict:
    if CommissionPlan.objects.exists():
        log("Incentives: already seeded.")
        return {}
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    today = periods.today()
    this_quarter = periods.period_bounds("quarter", today)
    last_quarter = periods.period_bounds("quarter", this_quarter[0] - dt.timedelta(days=1))
    _plans(dt.date(last_quarter[0].year - 1, 1, 1))
    split = _split_some_deals(this_quarter)

    paid = 0
    people = User.objects.filter(is_active=True).select_related("team").order_by("pk")
    for person in people:
        statement = services.statement_compute(user=person, period=last_quarter)
        if statement.plan_id is None:
            statement.delete()
            continue
        approver = manager_of(person) or admin
        services.statement_approve(by=approver, statement=statement)
        if admin is not None:
            services.statement_mark_paid(by=admin, statement=statement)
            paid += 1
    drafts = services.statements_recompute(on=today)

    rep = User.objects.filter(username="east_rep1").first()
    first = Statement.objects.filter(user=rep, start=last_quarter[0]).first() if rep else None
    line = first.lines.first() if first else None
    if line is not None:
        services.dispute_raise(
            by=rep, line=line, comment="这笔单子合同金额后来调高了，提成是否按新金额计算？"
        )
    recognition = _recognition(today)
    log(
        f"Incentives: 2 plans, {split} split deals, {paid} statements paid for last quarter, "
        f"{drafts} drafts this quarter, {recognition}."
    )
    return {}


KUDOS = [
    ("east_rep2", "east_rep1", "谢谢你帮我准备客户演示，客户当场就决定试用了！"),
    ("north_rep1", "east_rep3", "Thanks for sharing the pricing playbook, it closed my deal."),
    ("south_sup1", "south_rep2", "连续三周跟进到位，客户点名表扬。"),
    ("east_sup1", "east_rep2", "Great teamwork on the 华东 tender."),
]


def _recognition(today: dt.date) -> str:
    """A running contest for the east region this month, the awards due so far (top sellers
    of last month and quarter, long service), a manager's teamwork award and some kudos."""
    people = {user.username: user for user in User.objects.filter(is_active=True)}
    manager = people.get("east_mgr")
    contests = 0
    if manager is not None:
        month = periods.period_bounds("month", today)
        reps = User.objects.filter(team__path__startswith=manager.team.path, role=Role.REP)
        services.contest_create(
            by=manager,
            participants=list(reps),
            name="华东冲刺月 East sprint",
            metric="revenue",
            start=month[0],
            end=month[1],
            prizes="第一名：三亚双人游；第二名：5,000 元购物卡",
        )
        contests = 1
    awards = services.awards_grant(on=today)
    supervisor, rep = people.get("east_sup1"), people.get("east_rep2")
    if supervisor is not None and rep is not None:
        services.award_grant(
            by=supervisor,
            user=rep,
            kind="teamwork",
            title="最佳协作奖 Teamwork",
            note="帮助两位新同事完成首单。",
        )
        awards += 1
    kudos = 0
    for sender, recipient, message in KUDOS:
        if sender in people and recipient in people:
            services.kudos_give(by=people[sender], recipient=people[recipient], message=message)
            kudos += 1
    return f"{contests} contest, {awards} awards, {kudos} kudos"
