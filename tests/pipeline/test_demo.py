"""`seed_demo` adds the demo pipeline: about 900 deals over 18 months whose stage histories
hold together, a bottleneck the funnel flags, and snapshots so the dashboard has history."""

import io
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from pipeline import selectors
from pipeline.models import (
    Competitor,
    Deal,
    ForecastSnapshot,
    FunnelSnapshot,
    Pipeline,
    ProductCategory,
    StageChange,
)
from teams.models import Role, User

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def days_between(start, end) -> Decimal:
    return (Decimal((end - start).total_seconds()) / 86400).quantize(Decimal("0.01"), ROUND_HALF_UP)


def check_histories(deals: dict, now) -> dict:
    """Checks every deal's history step by step; returns {deal id: [(stage id, at)]}."""
    steps: dict[int, list] = defaultdict(list)
    changes = StageChange.objects.select_related("from_stage", "to_stage").order_by(
        "deal_id", "changed_at", "id"
    )
    for change in changes:
        history = steps[change.deal_id]
        if not history:
            assert change.kind == StageChange.Kind.CREATED
            assert change.from_stage is None and change.to_stage.code == "lead_discovery"
            assert change.days_in_previous_stage is None
            assert change.changed_at == deals[change.deal_id].created_at
        else:
            previous_stage, previous_at = history[-1]
            assert change.from_stage_id == previous_stage, change
            assert change.changed_at > previous_at
            assert change.days_in_previous_stage == days_between(previous_at, change.changed_at)
            expected_kind = (
                StageChange.Kind.WON
                if change.to_stage.is_won
                else StageChange.Kind.LOST
                if change.to_stage.is_lost
                else StageChange.Kind.MOVE
            )
            assert change.kind == expected_kind
        assert change.changed_at <= now
        history.append((change.to_stage_id, change.changed_at))
    assert set(steps) == set(deals)
    for deal_id, history in steps.items():
        deal = deals[deal_id]
        assert history[-1] == (deal.stage_id, deal.stage_entered_at), deal
    return steps


def test_seed_demo_adds_a_believable_pipeline_once():
    output = seed()
    assert "900 deals" in output
    now = timezone.now()
    today = timezone.localdate()
    deals = {deal.pk: deal for deal in Deal.objects.select_related("stage", "owner")}
    assert len(deals) == 900

    # Bilingual categories and competitors, all in use.
    assert ProductCategory.objects.exclude(name_zh="").count() >= 4
    assert Competitor.objects.exclude(name_zh="").count() >= 4
    assert not ProductCategory.objects.filter(deals__isnull=True).exists()
    assert not Competitor.objects.filter(deals__isnull=True).exists()

    # Spread over the last 18 months, amounts in range, owned by the demo reps.
    months = {(deal.created_at.year, deal.created_at.month) for deal in deals.values()}
    assert len(months) >= 18
    assert min(deal.created_at for deal in deals.values()) > now - timedelta(days=550)
    for deal in deals.values():
        assert isinstance(deal.amount, Decimal)
        assert Decimal("20000") <= deal.amount <= Decimal("2000000")
        assert deal.owner.role == Role.REP and deal.account.owner_id == deal.owner_id
        assert deal.contact.account_id == deal.account_id
        deal.full_clean()

    # Every history chains from lead discovery to the deal's stage, with its days.
    steps = check_histories(deals, now)
    assert any(len(history) >= 6 for history in steps.values())

    # Won and lost deals closed on the day of their last move, lost ones with a reason.
    by_status = Counter(deal.status for deal in deals.values())
    assert by_status[Deal.Status.WON] > 100 and by_status[Deal.Status.LOST] > 100
    reasons = Counter()
    for deal in deals.values():
        if deal.status == Deal.Status.OPEN:
            continue
        assert deal.closed_at == timezone.localdate(deal.stage_entered_at)
        assert deal.stage.is_won == (deal.status == Deal.Status.WON)
        if deal.status == Deal.Status.LOST:
            reasons[deal.lost_reason] += 1
    assert set(reasons) == set(Deal.LostReason.values)
    assert not (
        Deal.objects.filter(lost_reason=Deal.LostReason.COMPETITOR)
        .filter(competitors__isnull=True)
        .exists()
    )

    # Open deals in every open stage, expected to close this month or soon; a few stuck.
    open_deals = [deal for deal in deals.values() if deal.status == Deal.Status.OPEN]
    assert {deal.stage.code for deal in open_deals} == {
        "lead_discovery",
        "needs_analysis",
        "demo",
        "proposal_negotiation",
    }
    this_month = selectors.period_bounds("month", today)
    assert any(this_month[0] <= deal.expected_close <= this_month[1] for deal in open_deals)
    assert all(today <= deal.expected_close <= today + timedelta(days=125) for deal in open_deals)
    for deal in open_deals:
        assert deal.stage_due_at == deal.stage_entered_at + timedelta(days=deal.stage.sla_days)
    over_sla = [deal for deal in open_deals if deal.stage_due_at <= now]
    assert 3 <= len(over_sla) <= len(open_deals) // 4

    # South's demos stopped converting: the funnel flags the stage for the south team, and
    # at that stage mostly south reps compared with the whole company (a few reps elsewhere
    # have a bad run on a handful of demos too).
    admin = User.objects.get(username="admin")
    pipeline = Pipeline.objects.get(is_default=True)
    start = today - timedelta(days=119)
    demo_rows = {}
    for region in ("east", "north", "south"):
        team = User.objects.get(username=f"{region}_mgr").team
        report = selectors.funnel(
            viewer=admin,
            pipeline=pipeline,
            start=start,
            end=today,
            scope=selectors.Scope("team", team=team),
        )
        demo_rows[region] = next(row for row in report["stages"] if row["name"] == "产品演示")
    assert demo_rows["south"]["bottleneck"]
    for region in ("east", "north"):
        assert demo_rows["south"]["conversion"] <= demo_rows[region]["conversion"] - 25
    company = selectors.funnel(
        viewer=admin, pipeline=pipeline, start=start, end=today, scope=selectors.Scope("all")
    )
    demo_stage = next(row["stage"] for row in company["stages"] if row["name"] == "产品演示")
    flagged = {
        rep["user"]
        for rep in company["reps"]
        for stage in rep["stages"]
        if stage["stage"] == demo_stage and stage["bottleneck"]
    }
    south_reps = set(
        User.objects.filter(username__startswith="south_rep").values_list("pk", flat=True)
    )
    assert len(flagged & south_reps) >= 4
    assert len(flagged & south_reps) > len(flagged - south_reps)

    # Funnel snapshots for each of the last 90 days, as things stood that day.
    days = set(FunnelSnapshot.objects.values_list("day", flat=True))
    assert days == {today - timedelta(days=back) for back in range(1, 91)}
    day = today - timedelta(days=30)
    end_of_day = selectors.local_start(day + timedelta(days=1))
    in_stage = Counter()
    for history in steps.values():
        then = [stage for stage, at in history if at <= end_of_day]
        if then:
            in_stage[then[-1]] += 1
    stored = FunnelSnapshot.objects.filter(day=day)
    live = selectors.funnel(
        viewer=admin, pipeline=pipeline, start=day, end=day, scope=selectors.Scope("all")
    )
    for row in live["stages"]:
        if row["is_won"]:
            continue
        rows = stored.filter(stage_id=row["stage"])
        assert sum(r.in_stage_count for r in rows) == in_stage[row["stage"]]
        assert sum(r.entered for r in rows) == row["entered"]
        assert sum(r.advanced for r in rows) == row["advanced"]
        assert sum(r.lost for r in rows) == row["lost"]
    trend = list(
        selectors.funnel_trend(
            viewer=admin,
            pipeline=pipeline,
            start=today - timedelta(days=90),
            end=today,
            scope=selectors.Scope("all"),
        )
    )
    assert len({row["day"] for row in trend}) == 90

    # Forecast snapshots for every day of this quarter, and at the start of last month.
    quarter_start, _end = selectors.period_bounds("quarter", today)
    taken = set(
        ForecastSnapshot.objects.filter(period_kind="quarter", period_start=quarter_start)
        .values_list("taken_on", flat=True)
        .distinct()
    )
    assert taken == {
        quarter_start + timedelta(days=n) for n in range((today - quarter_start).days + 1)
    }
    last_month = this_month[0] - timedelta(days=1)
    accuracy = selectors.forecast_accuracy(
        viewer=admin, scope=selectors.Scope("all"), period="month", on=last_month
    )
    assert accuracy["snapshot_taken_on"] == last_month.replace(day=1)
    assert accuracy["actual_won"] > 0

    # Seeding again adds nothing, with or without --if-empty.
    counts = (
        Deal.all_objects.count(),
        StageChange.objects.count(),
        FunnelSnapshot.objects.count(),
        ForecastSnapshot.objects.count(),
    )
    assert "not seeding" in seed("--if-empty")
    assert "deals already exist" in seed()
    assert (
        Deal.all_objects.count(),
        StageChange.objects.count(),
        FunnelSnapshot.objects.count(),
        ForecastSnapshot.objects.count(),
    ) == counts
