"""The funnel and the forecast against small scenarios computed by hand (every figure is
written out below), the nightly rollups against the live figures, and forecast accuracy.

Stages of the default pipeline: L lead discovery (10 %, SLA 14 days), N needs analysis
(25 %, 21), D demo (50 %, 21), P proposal (75 %, 30), W contract signed (won), X lost. Entry
criteria are switched off here; test_services covers them.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pipeline import selectors, services
from pipeline.models import ForecastSnapshot, FunnelSnapshot, Stage
from tests.customers.factories import AccountFactory
from tests.pipeline.factories import default_stages

pytestmark = pytest.mark.django_db


def at(day, hour=12):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def stages(db):
    Stage.objects.update(required_fields=[], checklist=[])
    s = default_stages()
    return {
        "L": s["lead_discovery"],
        "N": s["needs_analysis"],
        "D": s["demo"],
        "P": s["proposal_negotiation"],
        "W": s["contract_signed"],
        "X": s["lost"],
    }


def new_deal(owner, amount, when, stage=None, **fields):
    return services.deal_create(
        by=None,
        name=f"{owner.username} {amount}",
        account=AccountFactory(owner=owner),
        amount=Decimal(amount),
        stage=stage,
        now=when,
        **fields,
    )


def move(deal, stage, when, **fields):
    return services.deal_move(by=None, deal=deal, stage=stage, now=when, **fields)


@pytest.fixture
def funnel_scenario(org, stages):
    """A month two months back (`base` is its first day), in the east_a subtree:

    d1 rep_a   100,000  day 0 created in L; day 2 → N; day 7 → W (won, skips D and P)
    d2 rep_a   200,000  day 1 created in L; day 5 → D (skips N); day 15 → lost
    d3 rep_a1  300,000  day 4 created in L; day 5 → N; still there
    d4 rep_a1   50,000  day 9 created in N; day 10 → L (back); still there
    d5 rep_b    70,000  day 0 created in L (another team: never counted for east_a)
    h1 rep_a    10,000  200 days before: created in L; +1 → N; +2 → D; +3 → lost
    """
    today = timezone.localdate()
    base = (today.replace(day=1) - timedelta(days=40)).replace(day=1)
    day = lambda n: base + timedelta(days=n)  # noqa: E731
    L, N, D, W, X = (stages[k] for k in "LNDWX")  # noqa: N806
    d1 = new_deal(org.rep_a, "100000", at(day(0)))
    move(d1, N, at(day(2)))
    move(d1, W, at(day(7)), closed_at=day(7))
    d2 = new_deal(org.rep_a, "200000", at(day(1)))
    move(d2, D, at(day(5)))
    move(d2, X, at(day(15)), lost_reason="price", closed_at=day(15))
    d3 = new_deal(org.rep_a1, "300000", at(day(4)))
    move(d3, N, at(day(5)))
    d4 = new_deal(org.rep_a1, "50000", at(day(9)), stage=N)
    move(d4, L, at(day(10)))
    new_deal(org.rep_b, "70000", at(day(0)))
    h1 = new_deal(org.rep_a, "10000", at(day(-200)))
    move(h1, N, at(day(-199)))
    move(h1, D, at(day(-198)))
    move(h1, X, at(day(-197)), lost_reason="timing", closed_at=day(-197))
    return base, day(15)


def by_stage(result, stages):
    names = {stage.pk: key for key, stage in stages.items()}
    return {names[row["stage"]]: row for row in result["stages"]}


def test_funnel_for_a_team_every_figure(org, stages, funnel_scenario):
    start, end = funnel_scenario
    scope = selectors.resolve_scope(viewer=org.sup_a, kind="team", team_id=org.east_a.pk)
    result = selectors.funnel(
        viewer=org.sup_a, pipeline=stages["L"].pipeline, start=start, end=end, scope=scope
    )
    rows = by_stage(result, stages)
    assert list(rows) == ["L", "N", "D", "P", "W"]  # the lost stage has no row
    figures = {
        key: (
            row["entered"],
            row["advanced"],
            row["lost"],
            row["conversion"],
            row["average_days"],
            row["median_days"],
        )
        for key, row in rows.items()
    }
    D = Decimal  # noqa: N806
    assert figures == {
        # entered: d1, d2, d3 created + d4 moved back; advanced d1, d2, d3; days 2, 4, 1
        "L": (4, 3, 0, D("75.0"), D("2.33"), D("2.00")),
        # entered: d1, d3 moved in, d2 skipped over, d4 created; advanced d1 (to W) and
        # d2 (skip); left: d1 after 5 days, d4 after 1
        "N": (4, 2, 0, D("50.0"), D("3.00"), D("3.00")),
        # entered: d2, and d1 skipping over; advanced d1 (skip); lost d2 after 10 days
        "D": (2, 1, 1, D("50.0"), D("10.00"), D("10.00")),
        # d1 skipped over it
        "P": (1, 1, 0, D("100.0"), None, None),
        "W": (1, 0, 0, None, None, None),
    }
    now_figures = {
        key: (
            row["in_stage_count"],
            row["in_stage_amount"],
            row["weighted_amount"],
            row["over_sla"],
        )
        for key, row in rows.items()
    }
    assert now_figures == {
        "L": (1, D("50000.00"), D("5000.00"), 1),  # d4 since day 10, SLA 14 days
        "N": (1, D("300000.00"), D("75000.00"), 1),  # d3 since day 5, SLA 21 days
        "D": (0, D("0.00"), D("0.00"), 0),
        "P": (0, D("0.00"), D("0.00"), 0),
        "W": (0, D("0.00"), D("0.00"), 0),
    }
    # Trailing four quarters: h1 went L → N → D → lost, so L and N converted 100 %, D 0 %.
    assert {key: row["history_conversion"] for key, row in rows.items()} == {
        "L": D("100.0"),
        "N": D("100.0"),
        "D": D("0.0"),
        "P": None,
        "W": None,
    }
    assert {key: row["bottleneck"] for key, row in rows.items()} == {
        "L": True,  # 75 ≤ 100 − 10
        "N": True,  # 50 ≤ 100 − 10
        "D": False,  # 50 > 0 − 10
        "P": False,  # no history
        "W": False,
    }
    assert (result["won"], result["lost"], result["win_rate"]) == (1, 1, D("50.0"))
    # d1 spent 2 days in L and 5 in N before it was won.
    assert result["average_sales_cycle_days"] == D("7.00")

    reps = {row["user"]: {r["stage"]: r for r in row["stages"]} for row in result["reps"]}
    assert set(reps) == {org.rep_a.pk, org.rep_a1.pk}
    L, N, Dm, P = (stages[k].pk for k in "LNDP")  # noqa: N806

    def rep(user, stage):
        row = reps[user.pk][stage]
        return (row["entered"], row["advanced"], row["conversion"], row["bottleneck"])

    assert rep(org.rep_a, L) == (2, 2, D("100.0"), False)
    assert rep(org.rep_a, N) == (2, 2, D("100.0"), False)
    assert rep(org.rep_a, Dm) == (2, 1, D("50.0"), False)  # 50 > 50 − 10
    assert rep(org.rep_a, P) == (1, 1, D("100.0"), False)
    assert rep(org.rep_a1, L) == (2, 1, D("50.0"), True)  # 50 ≤ 75 − 10
    assert rep(org.rep_a1, N) == (2, 0, D("0.0"), True)  # 0 ≤ 50 − 10
    assert rep(org.rep_a1, Dm) == (0, 0, None, False)


def test_funnel_for_me_counts_only_my_deals(org, stages, funnel_scenario):
    start, end = funnel_scenario
    scope = selectors.resolve_scope(viewer=org.rep_a1, kind="me")
    result = selectors.funnel(
        viewer=org.rep_a1, pipeline=stages["L"].pipeline, start=start, end=end, scope=scope
    )
    rows = by_stage(result, stages)
    assert (rows["L"]["entered"], rows["L"]["advanced"]) == (2, 1)
    assert (rows["N"]["entered"], rows["N"]["advanced"]) == (2, 0)
    assert result["won"] == 0 and result["win_rate"] is None and result["reps"] == []


def test_a_rep_cannot_ask_for_a_team_or_someone_they_cannot_see(org, stages):
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.resolve_scope(viewer=org.rep_a, kind="team", team_id=org.east_a.pk)
    with pytest.raises(Http404):
        selectors.resolve_scope(viewer=org.sup_a, kind="team", team_id=org.east_b.pk)
    with pytest.raises(Http404):
        selectors.resolve_scope(viewer=org.sup_a, kind="rep", user_id=org.rep_b.pk)
    assert selectors.resolve_scope(viewer=org.east_mgr, kind="team", team_id=org.east_a1.pk)


def test_the_nightly_funnel_rollup_equals_the_live_funnel_and_reruns_alike(
    org, stages, funnel_scenario
):
    start, _end = funnel_scenario
    day = start + timedelta(days=5)  # d2 L → D, d3 L → N
    now = timezone.now()
    assert services.funnel_rollup(day=day, now=now) > 0
    snapshot = list(FunnelSnapshot.objects.filter(day=day).order_by("owner", "stage").values())
    for owner in (org.rep_a, org.rep_a1, org.rep_b):
        live = selectors.funnel(
            viewer=org.admin,
            pipeline=stages["L"].pipeline,
            start=day,
            end=day,
            scope=selectors.Scope("rep", user=owner),
            now=now,
        )
        rows = {row["stage_id"]: row for row in snapshot if row["owner_id"] == owner.pk}
        for stage_row in live["stages"]:
            stored = rows.get(stage_row["stage"])
            expected = (
                stage_row["in_stage_count"],
                stage_row["in_stage_amount"],
                stage_row["weighted_amount"],
                stage_row["over_sla"],
                stage_row["entered"],
                stage_row["advanced"],
                stage_row["lost"],
            )
            if stored is None:
                assert expected == (0, 0, 0, 0, 0, 0, 0), (owner, stage_row)
                continue
            assert (
                stored["in_stage_count"],
                stored["in_stage_amount"],
                stored["weighted_amount"],
                stored["over_sla_count"],
                stored["entered"],
                stored["advanced"],
                stored["lost"],
            ) == expected
            assert stored["team_id"] == owner.team_id
    # On that day: rep_a's d2 left L after 4 days for D (skipping N); rep_a1's d3 left L
    # after 1 day for N.
    rep_a = {row["stage_id"]: row for row in snapshot if row["owner_id"] == org.rep_a.pk}
    assert rep_a[stages["L"].pk]["days_in_stage_total"] == Decimal("4.00")
    assert (rep_a[stages["N"].pk]["entered"], rep_a[stages["N"].pk]["advanced"]) == (1, 1)

    services.funnel_rollup(day=day, now=now)
    again = list(FunnelSnapshot.objects.filter(day=day).order_by("owner", "stage").values())
    assert again == snapshot


@pytest.fixture
def forecast_scenario(org, stages):
    """This month, for rep_a (rep_b's deal is another team's):

    w1     80,000  created in L, won today                      → closed won
    lost1  30,000  created in L, → N, lost today                 (history only)
    o1    100,000  in N, commit, expected this month            25 %
    o2    200,000  in D, best case (the stage's), this month    50 %
    o3     40,000  in L, pipeline, override 20 %, this month
    o4        999  in L, omitted                                 → nowhere
    o5    500,000  in D, expected in two months                  → outside the period
    b1    900,000  rep_b, in D, commit, this month               → outside east_a
    """
    today = timezone.localdate()
    L, N, D, W, X = (stages[k] for k in "LNDWX")  # noqa: N806
    earlier = timezone.now() - timedelta(days=3)
    w1 = new_deal(org.rep_a, "80000", earlier)
    move(w1, W, timezone.now(), closed_at=today)
    lost1 = new_deal(org.rep_a, "30000", earlier)
    move(lost1, N, earlier + timedelta(days=1))
    move(lost1, X, timezone.now(), lost_reason="competitor")
    o1 = new_deal(org.rep_a, "100000", earlier, expected_close=today)
    move(o1, N, earlier)
    services.deal_update(by=None, deal=o1, forecast_category="commit")
    o2 = new_deal(org.rep_a, "200000", earlier, expected_close=today)
    move(o2, D, earlier)
    new_deal(org.rep_a, "40000", earlier, expected_close=today, probability_override=20)
    new_deal(org.rep_a, "999", earlier, expected_close=today, forecast_category="omitted")
    o5 = new_deal(org.rep_a, "500000", earlier, expected_close=today + timedelta(days=62))
    move(o5, D, earlier)
    b1 = new_deal(org.rep_b, "900000", earlier, expected_close=today, stage=D)
    services.deal_update(by=None, deal=b1, forecast_category="commit")
    return today


def test_forecast_every_figure(org, stages, forecast_scenario):
    scope = selectors.resolve_scope(viewer=org.sup_a, kind="team", team_id=org.east_a.pk)
    result = selectors.forecast(viewer=org.sup_a, scope=scope, period="month")
    D = Decimal  # noqa: N806
    assert result["start"] == forecast_scenario.replace(day=1)
    assert (
        result["closed_won"],
        result["commit"],
        result["best_case"],
        result["pipeline"],
        result["weighted"],
        result["win_rate_forecast"],
        result["target"],
    ) == (
        D("80000.00"),
        D("100000.00"),
        D("200000.00"),
        D("40000.00"),
        # 100,000 × 25 % + 200,000 × 50 % + 40,000 × 20 %
        D("133000.00"),
        # Rates from w1 and lost1: L 1 of 2 won, N 0 of 1, D no history → its 50 %:
        # 100,000 × 0 + 200,000 × 0.5 + 40,000 × 0.5
        D("120000.00"),
        None,
    )
    assert [(row["stage"], row["rate"]) for row in result["stage_win_rates"]] == [
        (stages["L"].pk, D("50.0")),
        (stages["N"].pk, D("0.0")),
        (stages["W"].pk, D("100.0")),
    ]


def test_the_forecast_rollup_stores_each_owner_and_reruns_alike(org, stages, forecast_scenario):
    services.forecast_rollup(today=forecast_scenario)
    rows = list(ForecastSnapshot.objects.order_by("owner", "period_kind").values())
    mine = [row for row in rows if row["owner_id"] == org.rep_a.pk]
    assert {row["period_kind"] for row in mine} == {"month", "quarter"}
    month = next(row for row in mine if row["period_kind"] == "month")
    assert (
        month["closed_won"],
        month["commit"],
        month["weighted"],
        month["win_rate_forecast"],
    ) == (
        Decimal("80000.00"),
        Decimal("100000.00"),
        Decimal("133000.00"),
        Decimal("120000.00"),
    )
    assert month["team_id"] == org.east_a.pk
    services.forecast_rollup(today=forecast_scenario)
    assert list(ForecastSnapshot.objects.order_by("owner", "period_kind").values()) == rows


def test_forecast_accuracy_after_the_period(org, stages):
    today = timezone.localdate()
    start, end = selectors.period_bounds("month", today.replace(day=1) - timedelta(days=1))
    ForecastSnapshot.objects.create(
        taken_on=start,
        owner=org.rep_a,
        team=org.east_a,
        period_kind="month",
        period_start=start,
        period_end=end,
        commit=Decimal("60000"),
        weighted=Decimal("90000"),
        win_rate_forecast=Decimal("100000"),
    )
    deal = new_deal(org.rep_a, "80000", at(start))
    move(deal, stages["W"], at(start + timedelta(days=3)), closed_at=start + timedelta(days=3))
    scope = selectors.resolve_scope(viewer=org.rep_a, kind="me")
    accuracy = selectors.forecast_accuracy(viewer=org.rep_a, scope=scope, on=start)
    assert accuracy["snapshot_taken_on"] == start
    assert accuracy["actual_won"] == Decimal("80000.00")
    assert accuracy["forecast"]["win_rate_forecast"] == Decimal("100000.00")
    assert accuracy["error_percent"]["win_rate_forecast"] == Decimal("25.0")
    assert accuracy["error_percent"]["commit"] == Decimal("-25.0")
    assert selectors.forecast_accuracy(viewer=org.rep_a, scope=scope) is None
