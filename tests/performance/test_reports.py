"""Actuals, attainment and pace, leaderboards and the target against the forecast, against
scenarios computed by hand.

May 2026 has 19 working days: 1, 4 and 5 May are the Labour Day holiday and Saturday 9 May
is a make-up working day. As of Tuesday 12 May, 6 have gone by (6, 7, 8, 9, 11, 12).
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from performance import selectors
from performance.models import CompanyDayOff, PerformanceSettings
from pipeline.selectors import Scope
from tests.customers.factories import AccountFactory, IndustryFactory
from tests.performance.factories import interaction, local, target, won_deal
from tests.pipeline.factories import ProductCategoryFactory

pytestmark = pytest.mark.django_db

MAY = dt.date(2026, 5, 1)
ON = dt.date(2026, 5, 12)


@pytest.fixture
def may(org):
    """In east_a (sup_a): rep_a directly, rep_a1 and rep_a1x in the sub-team east_a1.

    won deals   rep_a    3,000 on 6 May, 2,000 on 11 May, 10,000 on 13 May (after `ON`)
                rep_a1   4,000 on 7 May
                rep_a1x    500 on 4 May, 1,000 on 8 May
                rep_a      900 on 30 April (the month before)
    targets     east_a 30,000; rep_a 19,000; east_a1 11,000 (May)
    """
    won_deal(org.rep_a, 3000, dt.date(2026, 5, 6))
    won_deal(org.rep_a, 2000, dt.date(2026, 5, 11))
    won_deal(org.rep_a, 10000, dt.date(2026, 5, 13))
    won_deal(org.rep_a, 900, dt.date(2026, 4, 30))
    won_deal(org.rep_a1, 4000, dt.date(2026, 5, 7))
    won_deal(org.rep_a1x, 500, dt.date(2026, 5, 4))
    won_deal(org.rep_a1x, 1000, dt.date(2026, 5, 8))
    target(org.head, team=org.east_a, period_type="month", start=MAY, value=D("30000"))
    target(org.head, user=org.rep_a, period_type="month", start=MAY, value=D("19000"))
    target(org.head, team=org.east_a1, period_type="month", start=MAY, value=D("11000"))
    return org


def rep_a_may(org, on):
    return selectors.attainment(
        viewer=org.rep_a,
        scope=Scope("me", user=org.rep_a),
        metric="revenue",
        period_type="month",
        on=on,
    )


def test_attainment_and_pace_of_one_rep_counted_in_working_days(may):
    result = rep_a_may(may, ON)
    assert (result["working_days"], result["elapsed_working_days"]) == (19, 6)
    assert result["actual"] == D("5000.00")
    assert result["target"] == D("19000.00")
    assert result["percent"] == D("26.3")
    assert result["expected"] == D("6000.00")  # 19,000 × 6 / 19
    assert result["pace_percent"] == D("83.3")
    assert result["behind"] is True


def test_a_company_day_off_changes_the_pace(may):
    CompanyDayOff.objects.create(date=dt.date(2026, 5, 11), name="Outing")
    result = rep_a_may(may, ON)
    assert (result["working_days"], result["elapsed_working_days"]) == (18, 5)
    assert result["expected"] == D("5277.78")  # 19,000 × 5 / 18
    assert result["pace_percent"] == D("94.7")
    PerformanceSettings.objects.update_or_create(pk=1, defaults={"behind_pace_percent": 90})
    again = rep_a_may(may, ON)
    assert again["behind"] is False


def test_before_and_after_the_period(may):
    before = rep_a_may(may, dt.date(2026, 5, 1))  # a holiday: no working day gone by yet
    assert before["expected"] == D("0.00") and before["behind"] is False
    after = rep_a_may(may, dt.date(2026, 5, 31))
    assert after["actual"] == D("15000.00") and after["expected"] == D("19000.00")


def test_team_attainment_lists_sub_teams_and_people_furthest_behind_first(may):
    result = selectors.attainment(
        viewer=may.sup_a,
        scope=Scope("team", team=may.east_a),
        metric="revenue",
        period_type="month",
        on=ON,
    )
    # The whole subtree: 5,000 + 4,000 + 1,500.
    assert result["actual"] == D("10500.00")
    assert result["expected"] == D("9473.68")  # 30,000 × 6 / 19
    assert result["pace_percent"] == D("110.8")
    assert result["behind"] is False
    rows = [
        (row["kind"], row["name"], row["actual"], row["pace_percent"]) for row in result["rows"]
    ]
    assert rows == [
        ("user", str(may.rep_a), D("5000.00"), D("83.3")),
        ("team", "East A1", D("5500.00"), D("158.3")),  # 11,000 × 6 / 19 = 3,473.68
    ]
    assert result["rows"][0]["behind"] and not result["rows"][1]["behind"]


def test_other_metrics_count_what_happened_in_the_period(may):
    rep = may.rep_b
    old_customer = AccountFactory(owner=rep)
    won_deal(rep, 100, dt.date(2026, 3, 1), account=old_customer)
    won_deal(rep, 100, dt.date(2026, 5, 6), account=old_customer)  # not a new customer
    fresh = AccountFactory(owner=rep)
    won_deal(rep, 100, dt.date(2026, 5, 7), account=fresh)
    won_deal(rep, 100, dt.date(2026, 5, 8), account=fresh)  # same new customer again
    interaction(rep, local(dt.date(2026, 5, 1), hour=0))  # just after midnight in Shanghai
    interaction(rep, local(dt.date(2026, 4, 30), hour=23))
    interaction(rep, local(dt.date(2026, 5, 31), hour=23))

    def actual(metric):
        return selectors.actuals_by_user(
            metric=metric, start=MAY, end=dt.date(2026, 5, 31), users=[rep.pk]
        ).get(rep.pk)

    assert actual("won_deals") == 3
    assert actual("new_customers") == 1
    assert actual("interactions") == 2
    assert actual("revenue") == D("300.00")


def test_segment_targets_count_only_their_segment(may):
    rep = may.rep_b
    category = ProductCategoryFactory()
    industry = IndustryFactory()
    won_deal(rep, 700, dt.date(2026, 5, 6), product_category=category)
    won_deal(rep, 300, dt.date(2026, 5, 6), account=AccountFactory(owner=rep, industry=industry))
    by_category = target(
        may.head, user=rep, period_type="month", start=MAY, product_category=category
    )
    by_industry = target(may.head, user=rep, period_type="month", start=MAY, industry=industry)
    assert selectors.target_actual(by_category) == D("700.00")
    assert selectors.target_actual(by_industry) == D("300.00")


def test_leaderboard_ranks_ties_and_rank_change_since_last_week(may):
    board = selectors.leaderboard(viewer=may.sup_a, metric="revenue", period_type="month", on=ON)
    rows = sorted(
        (r["user"].username, r["rank"], r["previous_rank"], r["rank_change"]) for r in board["rows"]
    )
    # A week earlier (through 5 May) only rep_a1x had won anything (500).
    assert rows == [
        ("lead_a1", 4, 2, -2),
        ("lead_a1x", 4, 2, -2),
        ("rep_a", 1, 2, 1),
        ("rep_a1", 2, 2, 0),
        ("rep_a1x", 3, 1, -2),
        ("sup_a", 4, 2, -2),
    ]
    assert [r["rank"] for r in board["rows"]] == [1, 2, 3, 4, 4, 4]
    assert board["rows"][0]["target"] == D("19000.00")
    assert board["rows"][0]["percent"] == D("26.3")


def test_leaderboard_follows_the_visibility_setting(may):
    mine = selectors.leaderboard(viewer=may.rep_north, metric="revenue", period_type="month", on=ON)
    assert [r["user"] for r in mine["rows"]] == [may.rep_north]
    PerformanceSettings.objects.update_or_create(pk=1, defaults={"leaderboard_scope": "company"})
    everyone = selectors.leaderboard(
        viewer=may.rep_north, metric="revenue", period_type="month", on=ON
    )
    names = [r["user"].username for r in everyone["rows"]]
    assert names[0] == "rep_a" and "rep_north" in names and "admin" not in names
    assert everyone["scope"] == "company"


def test_forecast_against_target(may):
    result = selectors.forecast_against_target(
        may.sup_a, Scope("team", team=may.east_a), "month", ON
    )
    assert result["target"] == D("30000.00")
    assert result["closed_won"] == D("20500.00")  # the whole month's wins in the subtree
    assert result["won_percent"] == D("68.3")
    mine = selectors.forecast_against_target(may.rep_a, Scope("me", user=may.rep_a), "month", ON)
    assert mine["target"] == D("19000.00")
    nothing = selectors.forecast_against_target(
        may.rep_b, Scope("me", user=may.rep_b), "quarter", ON
    )
    assert nothing["target"] is None and nothing["won_percent"] is None


def test_my_targets_shows_month_and_quarter(may):
    rows = selectors.my_targets(viewer=may.rep_a, on=ON)
    assert [(r["period_type"], r["metric"]) for r in rows] == [
        ("month", "revenue"),
        ("quarter", "revenue"),
    ]
    assert rows[0]["target"] == D("19000.00") and rows[1]["target"] is None
