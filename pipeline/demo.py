"""The demo company's pipeline: product categories, competitors and about 900 deals over the
last 18 months on the demo accounts, each with a stage history a sales team would recognise.

Each deal walks the default pipeline from lead discovery: it spends some days in a stage
(fast, normal or stuck deals), then advances (now and then skipping needs analysis or going
back a step), is lost (with a reason and often a competitor) or, if its next step lies in
the future, is still open in that stage. Demos in the south region have converted poorly
since a rival's price cut about five months ago, a bottleneck the funnel flags. The last
three months of funnel snapshots and this quarter's forecast snapshots are then computed by
the real rollups, from the stage history, so the dashboard has history on first start.

Deterministic (a fixed random seed) and safe to run twice: nothing is added when deals
already exist. Rows are bulk-inserted.
"""

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from customers.models import Account, Contact
from pipeline import selectors, services
from pipeline.models import Competitor, Deal, ForecastCategory, Pipeline, ProductCategory
from pipeline.models import StageChange as Change
from teams.models import Role

SEED = 20261129
DEALS = 900
HISTORY_DAYS = 548
FUNNEL_SNAPSHOT_DAYS = 90
# Open deals older than this are closed as lost: nobody keeps a deal open for a year.
MAX_OPEN_DAYS = 200
MIN_AMOUNT, MAX_AMOUNT = 20_000, 2_000_000

# The region whose demos stopped converting, since how many days ago, and how well.
BOTTLENECK_REGION = "south"
BOTTLENECK_SINCE_DAYS = 165

CATEGORIES = [
    ("crm-suite", "CRM suite", "CRM 套件"),
    ("analytics", "Sales analytics", "销售数据分析"),
    ("cloud-hosting", "Cloud hosting", "云托管服务"),
    ("implementation", "Implementation services", "实施服务"),
    ("training", "Training and support", "培训与支持"),
]
COMPETITORS = [
    ("Salesforce", "Salesforce", "https://www.salesforce.com"),
    ("Xiaoshouyi", "销售易", "https://www.xiaoshouyi.com"),
    ("Fxiaoke", "纷享销客", "https://www.fxiaoke.com"),
    ("Kingdee", "金蝶", "https://www.kingdee.com"),
    ("Yonyou", "用友", "https://www.yonyou.com"),
    ("HubSpot", "HubSpot", "https://www.hubspot.com"),
]
# Median days in each open stage, and how a deal leaves it: (advance, lost); the rest goes
# back one stage.
DWELL = {"lead_discovery": 6, "needs_analysis": 9, "demo": 10, "proposal_negotiation": 14}
EXITS = {
    "lead_discovery": (0.72, 0.28),
    "needs_analysis": (0.72, 0.24),
    "demo": (0.66, 0.29),
    "proposal_negotiation": (0.58, 0.38),
}
BOTTLENECK_EXITS = (0.15, 0.82)
PACES = [(0.35, 20), (1.0, 65), (3.5, 15)]
SKIP_NEEDS_ANALYSIS = 0.07
LOST_REASONS = [
    (Deal.LostReason.PRICE, 25),
    (Deal.LostReason.PRODUCT_FIT, 12),
    (Deal.LostReason.COMPETITOR, 25),
    (Deal.LostReason.TIMING, 15),
    (Deal.LostReason.NO_DECISION, 15),
    (Deal.LostReason.OTHER, 8),
]
LOST_NOTES = [
    "",
    "",
    "客户预算被砍，明年再议。",
    "Chose the cheaper local vendor.",
    "竞品报价低了三成。",
    "Project put on hold after a reorganisation.",
    "决策人离职，项目搁置。",
]


def _categories() -> list[ProductCategory]:
    return [
        ProductCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "order": order}
        )[0]
        for order, (code, name, name_zh) in enumerate(CATEGORIES, start=1)
    ]


def _competitors() -> list[Competitor]:
    return [
        Competitor.objects.get_or_create(
            name=name, defaults={"name_zh": name_zh, "website": website}
        )[0]
        for name, name_zh, website in COMPETITORS
    ]


def _working_time(rng: random.Random, moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` moved to a working hour of its local day."""
    day = moment.astimezone(tz).date()
    return datetime.combine(day, time(rng.randint(9, 17), rng.choice([0, 15, 30, 45])), tz)


def _days_between(start: datetime, end: datetime) -> Decimal:
    """Days from `start` to `end` as a stage change records them (two decimals)."""
    seconds = Decimal(max((end - start).total_seconds(), 0))
    return (seconds / 86400).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _amount(rng: random.Random) -> Decimal:
    value = math.exp(rng.uniform(math.log(MIN_AMOUNT), math.log(MAX_AMOUNT)))
    return Decimal(min(MAX_AMOUNT, max(MIN_AMOUNT, round(value, -3))))


def _month_day(rng: random.Random, today: date, months_ahead: int) -> date:
    """A day in the month `months_ahead` after today's (not before today)."""
    month = today.month - 1 + months_ahead
    first = date(today.year + month // 12, month % 12 + 1, 1)
    _start, last = selectors.period_bounds("month", first)
    first = max(first, today)
    return first + timedelta(days=rng.randint(0, (last - first).days))


class _Walk:
    """One deal's way through the pipeline: [(stage, entered at)], its end and outcome."""

    def __init__(self, stages: dict, region: str, created: datetime):
        self.stages = stages
        self.region = region
        self.steps = [(stages["lead_discovery"], created)]
        self.outcome = Deal.Status.OPEN

    def run(self, rng: random.Random, now: datetime, tz: ZoneInfo) -> None:
        pace = rng.choices([p for p, _w in PACES], weights=[w for _p, w in PACES])[0]
        created = self.steps[0][1]
        order = ["lead_discovery", "needs_analysis", "demo", "proposal_negotiation"]
        while True:
            stage, entered = self.steps[-1]
            dwell = DWELL[stage.code] * pace * rng.lognormvariate(0, 0.35)
            leaving = _working_time(rng, entered + timedelta(days=dwell), tz)
            if leaving <= entered:
                leaving = entered + timedelta(hours=rng.randint(1, 4))
            if leaving > now:
                if (now - created).days <= MAX_OPEN_DAYS:
                    return
                # Long forgotten: closed as lost some time after it stalled.
                leaving = entered + (now - entered) * rng.uniform(0.3, 0.9)
                self.close(self.stages["lost"], leaving)
                return
            advance, lost = EXITS[stage.code]
            since = (now - leaving).days
            if (
                stage.code == "demo"
                and self.region == BOTTLENECK_REGION
                and since < BOTTLENECK_SINCE_DAYS
            ):
                advance, lost = BOTTLENECK_EXITS
            draw = rng.random()
            position = order.index(stage.code)
            if draw < advance:
                if stage.code == "proposal_negotiation":
                    self.close(self.stages["contract_signed"], leaving)
                    return
                step = (
                    2
                    if stage.code == "lead_discovery" and rng.random() < SKIP_NEEDS_ANALYSIS
                    else 1
                )
                self.steps.append((self.stages[order[position + step]], leaving))
            elif draw < advance + lost or position == 0:
                self.close(self.stages["lost"], leaving)
                return
            else:
                self.steps.append((self.stages[order[position - 1]], leaving))

    def close(self, stage, at: datetime) -> None:
        self.steps.append((stage, at))
        self.outcome = Deal.Status.WON if stage.is_won else Deal.Status.LOST


def seed(log) -> dict:
    if Deal.all_objects.exists():
        log("Pipeline: deals already exist; not adding demo deals.")
        return {}
    categories = _categories()
    competitors = _competitors()
    accounts = list(
        Account.objects.filter(owner__role=Role.REP).select_related("owner").order_by("pk")
    )
    if not accounts:
        log("Pipeline: no demo accounts found; seed the customers first.")
        return {}
    rng = random.Random(SEED)
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    # Histories run up to the start of today, so the company looks the same whatever the
    # time of day it is seeded.
    midnight = selectors.local_start(today)
    pipeline = Pipeline.objects.get(is_default=True)
    stages = {stage.code: stage for stage in pipeline.stages.all()}
    primary = dict(
        Contact.objects.filter(is_primary=True).values_list("account_id", "pk").order_by("pk")
    )

    deals: list[Deal] = []
    walks: list[_Walk] = []
    deal_competitors: list[list[Competitor]] = []
    for number in range(DEALS):
        account = rng.choice(accounts)
        owner = account.owner
        region = owner.username.split("_", 1)[0]
        # More deals lately: the team has grown.
        age = HISTORY_DAYS * rng.random() ** 1.3
        created = _working_time(rng, midnight - timedelta(days=age), tz)
        if created > midnight:
            created = midnight - timedelta(hours=rng.randint(2, 20))
        walk = _Walk(stages, region, created)
        walk.run(rng, midnight, tz)
        stage, entered = walk.steps[-1]
        category = rng.choice(categories)
        chinese = not account.name.isascii()
        rivals = rng.sample(competitors, rng.choice([0, 0, 1, 1, 1, 2]))
        deal = Deal(
            name=(
                f"{account.name} · {category.name_zh}"
                if chinese
                else f"{account.name} – {category.name}"
            ),
            account=account,
            contact_id=primary.get(account.pk),
            pipeline=pipeline,
            stage=stage,
            amount=_amount(rng),
            product_category=category,
            owner=owner,
            source=account.source,
            status=walk.outcome,
            forecast_category=stage.forecast_category,
            stage_entered_at=entered,
            confirmed_checklist=list(
                dict.fromkeys(item for step, _at in walk.steps for item in step.checklist)
            ),
            external_id=f"demo-deal-{number + 1}",
        )
        if walk.outcome == Deal.Status.OPEN:
            months_ahead = {
                "lead_discovery": rng.choice([1, 2, 2, 3]),
                "needs_analysis": rng.choice([1, 1, 2]),
                "demo": rng.choice([0, 1, 1]),
                "proposal_negotiation": rng.choice([0, 0, 0, 1]),
            }[stage.code]
            deal.expected_close = _month_day(rng, today, months_ahead)
            if stage.sla_days:
                deal.stage_due_at = entered + timedelta(days=stage.sla_days)
            draw = rng.random()
            if stage.code == "demo" and draw < 0.12:
                deal.forecast_category = ForecastCategory.COMMIT
            elif stage.code == "proposal_negotiation" and draw < 0.12:
                deal.forecast_category = ForecastCategory.BEST_CASE
            elif draw > 0.97:
                deal.forecast_category = ForecastCategory.OMITTED
            if rng.random() < 0.06:
                deal.probability_override = rng.choice([20, 40, 60, 80, 90])
        else:
            deal.closed_at = timezone.localdate(entered)
            deal.expected_close = deal.closed_at + timedelta(days=rng.randint(-10, 20))
        if walk.outcome == Deal.Status.LOST:
            reasons = [reason for reason, _w in LOST_REASONS]
            weights = [w for _r, w in LOST_REASONS]
            if region == BOTTLENECK_REGION and walk.steps[-2][0].code == "demo":
                weights[reasons.index(Deal.LostReason.COMPETITOR)] *= 3
            deal.lost_reason = rng.choices(reasons, weights=weights)[0]
            deal.lost_note = rng.choice(LOST_NOTES)
            if deal.lost_reason == Deal.LostReason.COMPETITOR and not rivals:
                rivals = [rng.choice(competitors)]
        deals.append(deal)
        walks.append(walk)
        deal_competitors.append(rivals)

    Deal.objects.bulk_create(deals, batch_size=500)
    # The timestamps follow each deal's history (bulk_create stamps them with now).
    for deal, walk in zip(deals, walks, strict=True):
        deal.created_at = walk.steps[0][1]
        deal.updated_at = walk.steps[-1][1]
    Deal.objects.bulk_update(deals, ["created_at", "updated_at"], batch_size=500)

    changes = []
    for deal, walk in zip(deals, walks, strict=True):
        previous = None
        for stage, at in walk.steps:
            if previous is None:
                kind, days = Change.Kind.CREATED, None
            else:
                kind = (
                    Change.Kind.WON
                    if stage.is_won
                    else Change.Kind.LOST
                    if stage.is_lost
                    else Change.Kind.MOVE
                )
                days = _days_between(previous[1], at)
            changes.append(
                Change(
                    deal_id=deal.pk,
                    kind=kind,
                    from_stage=previous[0] if previous else None,
                    to_stage=stage,
                    changed_at=at,
                    changed_by_id=deal.owner_id,
                    days_in_previous_stage=days,
                )
            )
            previous = (stage, at)
    Change.objects.bulk_create(changes, batch_size=1000)
    through = Deal.competitors.through
    through.objects.bulk_create(
        [
            through(deal_id=deal.pk, competitor_id=rival.pk)
            for deal, rivals in zip(deals, deal_competitors, strict=True)
            for rival in rivals
        ],
        batch_size=1000,
    )

    funnel_rows = 0
    for back in range(FUNNEL_SNAPSHOT_DAYS, 0, -1):
        day = today - timedelta(days=back)
        end = selectors.local_start(day + timedelta(days=1))
        funnel_rows += services.funnel_rollup(day=day, now=end, from_history=True)
    forecast_rows = 0
    for day in _forecast_days(today):
        forecast_rows += services.forecast_rollup(today=day, from_history=day < today)
    open_count = sum(1 for deal in deals if deal.status == Deal.Status.OPEN)
    log(
        f"Pipeline: {len(deals)} deals ({open_count} open), {len(changes)} stage changes, "
        f"{funnel_rows} funnel and {forecast_rows} forecast snapshot rows."
    )
    return {}


def _forecast_days(today: date) -> list[date]:
    """Every day of this quarter so far (the forecast over the period), and the first days
    of the last six months and two quarters (forecast accuracy of ended periods)."""
    quarter_start, _end = selectors.period_bounds("quarter", today)
    days = {quarter_start + timedelta(days=n) for n in range((today - quarter_start).days + 1)}
    first = today.replace(day=1)
    for _month in range(6):
        first = (first - timedelta(days=1)).replace(day=1)
        days.add(first)
    start = quarter_start
    for _quarter in range(2):
        start, _end = selectors.period_bounds("quarter", start - timedelta(days=1))
        days.add(start)
    return sorted(days)
