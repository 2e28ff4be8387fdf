"""Setting and decomposing targets: exact sums at every level (awkward remainders and weeks
straddling two months included), the new-rep ramp, seasonality weights, hand-edit
protection, the difference against the parent and copying last year's targets.

Working days used below (China's calendar, from chinese_calendar):
- April 2026: 21 working days; 6 April (Monday) is the Qingming holiday. Its weeks inside the
  month: 1–5 April (3 working days), 6–12 (4), 13–19 (5), 20–26 (5), 27–30 (4).
- March 2026 ends with the week of 30 March, cut to 30–31 March (2 working days).
- May 2026: 19 working days; 1, 4 and 5 May are the Labour Day holiday and Saturday 9 May
  is a make-up working day. Weeks: 1–3 May (0), 4–10 (4), 11–17 (5), 18–24 (5), 25–31 (5).
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from performance import services
from performance.models import PerformanceSettings, Target
from tests.factories import RepFactory
from tests.performance.factories import target, won_deal

pytestmark = pytest.mark.django_db


def values(targets):
    return [t.value for t in targets]


def test_allocate_sums_exactly_with_the_remainder_on_the_last_share():
    assert services.allocate(D("100.00"), [D(1)] * 3) == [D("33.33"), D("33.33"), D("33.34")]
    assert services.allocate(D("100.00"), [D(1)] * 6)[-1] == D("16.70")
    assert services.allocate(D("10"), [D(1)] * 4, D("1")) == [2, 2, 2, 4]
    assert services.allocate(D("0.05"), [D(1), D(1), D(1)]) == [D("0.01"), D("0.01"), D("0.03")]
    shares = services.allocate(D("999999.99"), [D(7), D(3), D("0.5"), D(11)])
    assert sum(shares) == D("999999.99")


def test_a_year_splits_into_quarters_months_and_weeks_summing_exactly_at_every_level(org):
    year = target(
        org.head,
        team=org.east,
        period_type="year",
        start=dt.date(2026, 1, 1),
        value=D("1000000.01"),
    )
    quarters = services.target_decompose(by=org.head, target=year)
    assert [q.start for q in quarters] == [dt.date(2026, m, 1) for m in (1, 4, 7, 10)]
    assert values(quarters) == [D("250000.00")] * 3 + [D("250000.01")]
    assert all(q.period_type == "quarter" and q.team == org.east for q in quarters)
    for quarter in quarters:
        months = services.target_decompose(by=org.head, target=quarter)
        assert len(months) == 3 and sum(values(months)) == quarter.value
        for month in months:
            weeks = services.target_decompose(by=org.head, target=month)
            assert sum(values(weeks)) == month.value
            assert weeks[0].start == month.start and weeks[-1].end == month.end
    assert Target.objects.filter(period_type="week").count() == sum(
        len(services.split_children(m, "time")) for m in Target.objects.filter(period_type="month")
    )


def test_a_week_straddling_two_months_is_split_by_working_days(org):
    march = target(
        org.head, team=org.east, period_type="month", start=dt.date(2026, 3, 1), value=D("2200")
    )
    april = target(
        org.head, team=org.east, period_type="month", start=dt.date(2026, 4, 1), value=D("2100")
    )
    march_weeks = services.target_decompose(by=org.head, target=march)
    april_weeks = services.target_decompose(by=org.head, target=april)
    # The ISO week of 30 March: two days in March, five in April.
    assert (march_weeks[-1].start, march_weeks[-1].end) == (
        dt.date(2026, 3, 30),
        dt.date(2026, 3, 31),
    )
    assert (april_weeks[0].start, april_weeks[0].end) == (dt.date(2026, 4, 1), dt.date(2026, 4, 5))
    # March 2026 has 22 working days: 2200 / 22 = 100 a day.
    assert march_weeks[-1].value == D("200.00")
    assert values(april_weeks) == [D("300.00"), D("400.00"), D("500.00"), D("500.00"), D("400.00")]


def test_a_week_of_holidays_gets_nothing_and_a_make_up_saturday_counts(org):
    may = target(
        org.head, user=org.rep_east, period_type="month", start=dt.date(2026, 5, 1), value=D("1900")
    )
    weeks = services.target_decompose(by=org.east_mgr, target=may)
    assert values(weeks) == [D("0.00"), D("400.00"), D("500.00"), D("500.00"), D("500.00")]


def test_counted_metrics_split_into_whole_units(org):
    year = target(
        org.head,
        user=org.rep_east,
        metric="won_deals",
        period_type="year",
        start=dt.date(2026, 1, 1),
        value=D("10"),
    )
    assert values(services.target_decompose(by=org.head, target=year)) == [2, 2, 2, 4]


def test_a_team_target_splits_over_its_people_and_sub_teams_but_not_its_manager(org):
    quarter = target(
        org.head, team=org.east, period_type="quarter", start=dt.date(2026, 4, 1), value=D("90000")
    )
    children = services.target_decompose(by=org.east_mgr, target=quarter, split="team")
    assert [(c.user, c.team) for c in children] == [
        (org.rep_east, None),
        (None, org.east_a),
        (None, org.east_b),
    ]
    assert values(children) == [D("30000.00")] * 3
    assert all(c.period_type == "quarter" and c.start == quarter.start for c in children)


def test_a_new_rep_ramps_up_and_the_rest_goes_to_the_team(org):
    PerformanceSettings.objects.update_or_create(pk=1, defaults={"ramp_percentages": [25, 50, 75]})
    team = org.east_b
    RepFactory(username="rep_b2", team=team)
    RepFactory(username="rep_b3", team=team)
    RepFactory(username="rep_b_new", team=team, hire_date=dt.date(2026, 5, 20))
    may = target(
        org.head, team=team, period_type="month", start=dt.date(2026, 5, 1), value=D("1000")
    )
    children = services.target_decompose(by=org.head, target=may, split="team")
    by_name = {c.user.username: c.value for c in children}
    # Full shares 250 each; the new rep's first month is 25 % (62.50) and the 187.50 left
    # goes to the three others in proportion (62.50 each).
    assert by_name == {
        "rep_b": D("312.50"),
        "rep_b2": D("312.50"),
        "rep_b3": D("312.50"),
        "rep_b_new": D("62.50"),
    }
    # Over a quarter the ramp is the mean of its months: 25, 50 and 75 % → 50 %.
    quarter = target(
        org.head, team=team, period_type="quarter", start=dt.date(2026, 7, 1), value=D("1000")
    )
    assert services.ramp_factor(dt.date(2026, 7, 3), quarter.start, quarter.end, [25, 50, 75]) == D(
        "0.5"
    )
    assert services.ramp_factor(dt.date(2026, 8, 3), quarter.start, quarter.end, [25, 50, 75]) == D(
        "0.25"
    )  # (0 + 25 + 50) / 3


def test_seasonal_weights_follow_last_years_actuals(org):
    for month, amount in ((2, 1000), (5, 2000), (8, 3000), (11, 4000)):
        won_deal(org.rep_a, amount, dt.date(2025, month, 10))
    won_deal(org.rep_a, 99999, dt.date(2024, 2, 10))  # two years back: not counted
    year = target(
        org.head, user=org.rep_a, period_type="year", start=dt.date(2026, 1, 1), value=D("50000")
    )
    quarters = services.target_decompose(by=org.head, target=year, mode="seasonal")
    assert values(quarters) == [D("5000.00"), D("10000.00"), D("15000.00"), D("20000.00")]


def test_seasonal_team_split_weighs_people_and_sub_teams_by_last_year(org):
    won_deal(org.rep_east, 1000, dt.date(2025, 6, 1))
    won_deal(org.rep_a1x, 2000, dt.date(2025, 6, 2))  # deep in east_a's subtree
    won_deal(org.rep_b, 1000, dt.date(2025, 6, 3))
    june = target(
        org.head, team=org.east, period_type="month", start=dt.date(2026, 6, 1), value=D("400")
    )
    children = services.target_decompose(by=org.head, target=june, split="team", mode="seasonal")
    assert values(children) == [D("100.00"), D("200.00"), D("100.00")]


def test_seasonal_without_last_year_data_is_refused(org):
    year = target(org.head, user=org.rep_a, period_type="year", start=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError) as error:
        services.target_decompose(by=org.head, target=year, mode="seasonal")
    assert "mode" in error.value.message_dict
    assert not year.children.exists()


def test_manual_weights_and_their_errors(org):
    year = target(
        org.head, user=org.rep_a, period_type="year", start=dt.date(2026, 1, 1), value=D("100")
    )
    weights = {"2026-01-01": 1, "2026-04-01": 1, "2026-07-01": 1, "2026-10-01": 0}
    quarters = services.target_decompose(by=org.head, target=year, mode="manual", weights=weights)
    assert values(quarters) == [D("33.33"), D("33.33"), D("33.34"), D("0.00")]
    for bad in (
        {"2026-01-01": 1},
        {**weights, "2026-01-01": -1},
        dict.fromkeys(weights, 0),
        {**weights, "2026-04-01": "x"},
    ):
        with pytest.raises(ValidationError) as error:
            services.target_decompose(
                by=org.head, target=year, mode="manual", weights=bad, overwrite=True
            )
        assert "weights" in error.value.message_dict
    assert values(year.children.order_by("start")) == values(quarters)


def test_hand_edits_are_kept_unless_overwrite_is_asked(org):
    year = target(
        org.head, user=org.rep_a, period_type="year", start=dt.date(2026, 1, 1), value=D("4000")
    )
    quarters = services.target_decompose(by=org.head, target=year)
    months = services.target_decompose(by=org.head, target=quarters[1])
    result = services.target_update(by=org.head, target=months[0], value=D("500"))
    assert result["target"].hand_edited
    assert result["difference"] == {
        "parent": quarters[1].pk,
        "parent_value": D("1000.00"),
        "children_total": D("1166.67"),
        "difference": D("166.67"),
    }
    with pytest.raises(ValidationError) as error:
        services.target_decompose(by=org.head, target=year)
    message = error.value.message_dict["overwrite"][0]
    assert "2026" in message and str(org.rep_a) in message
    assert Target.objects.get(pk=months[0].pk).value == D("500.00")
    # Overwriting re-splits the quarters, and the months below them follow, exactly.
    services.target_decompose(
        by=org.head,
        target=year,
        mode="manual",
        overwrite=True,
        weights={"2026-01-01": 1, "2026-04-01": 2, "2026-07-01": 1, "2026-10-01": 0},
    )
    q2 = Target.objects.get(pk=quarters[1].pk)
    assert q2.value == D("2000.00")
    assert sum(values(q2.children.all())) == D("2000.00")
    assert not Target.objects.filter(hand_edited=True).exists()


def test_copy_from_last_year_rebuilds_the_splits_with_last_years_shares(org):
    last = target(
        org.head, team=org.east_b, period_type="quarter", start=dt.date(2025, 4, 1), value=D("3000")
    )
    rep_b2 = RepFactory(username="rep_b2", team=org.east_b)
    people = services.target_decompose(
        by=org.head,
        target=last,
        split="team",
        mode="manual",
        weights={f"user:{org.rep_b.pk}": 2, f"user:{rep_b2.pk}": 1},
    )
    services.target_decompose(
        by=org.head,
        target=people[0],
        mode="manual",
        weights={"2025-04-01": 1, "2025-05-01": 0, "2025-06-01": 1},
    )
    this = target(
        org.head, team=org.east_b, period_type="quarter", start=dt.date(2026, 4, 1), value=D("1")
    )
    services.target_copy_from_last_year(by=org.head, target=this)
    this.refresh_from_db()
    assert this.value == D("3000.00")
    copied = {c.user.username: c for c in services.split_children(this, "team")}
    assert copied["rep_b"].value == D("2000.00") and copied["rep_b2"].value == D("1000.00")
    assert values(copied["rep_b"].children.order_by("start")) == [
        D("1000.00"),
        D("0.00"),
        D("1000.00"),
    ]
    # Once edited by hand, copying again needs overwrite.
    services.target_update(by=org.head, target=copied["rep_b2"], value=D("5"))
    with pytest.raises(ValidationError):
        services.target_copy_from_last_year(by=org.head, target=this)
    services.target_copy_from_last_year(by=org.head, target=this, overwrite=True)
    assert Target.objects.get(pk=copied["rep_b2"].pk).value == D("1000.00")


def test_copy_without_last_year_target_says_so(org):
    this = target(org.head, team=org.east_b, period_type="quarter", start=dt.date(2026, 4, 1))
    with pytest.raises(ValidationError) as error:
        services.target_copy_from_last_year(by=org.head, target=this)
    assert "start" in error.value.message_dict


def test_who_may_set_targets(org):
    day = dt.date(2026, 4, 1)
    target(org.east_mgr, user=org.rep_a1x, period_type="month", start=day)
    target(org.east_mgr, team=org.east_a, period_type="month", start=day)
    target(org.admin, user=org.east_mgr, period_type="month", start=day)
    for by, scope in (
        (org.rep_a, {"user": org.rep_a}),
        (org.east_mgr, {"user": org.east_mgr}),
        (org.east_mgr, {"user": org.rep_north}),
        (org.sup_a, {"team": org.east_b}),
    ):
        with pytest.raises(ValidationError):
            target(by, period_type="quarter", start=day, **scope)
    mine = Target.objects.get(user=org.east_mgr)
    with pytest.raises(PermissionDenied):
        services.target_update(by=org.east_mgr, target=mine, value=D("1"))
    with pytest.raises(PermissionDenied):
        services.target_delete(by=org.rep_a1x, target=Target.objects.get(user=org.rep_a1x))


def test_bad_targets_are_refused_and_nothing_is_saved(org):
    day = dt.date(2026, 4, 1)
    target(org.head, user=org.rep_a, period_type="month", start=day)
    cases = [
        ({"user": org.rep_a, "period_type": "month", "start": day}, "start"),  # duplicate
        ({"user": org.rep_a, "team": org.east, "period_type": "month", "start": day}, "user"),
        ({"user": org.rep_a, "period_type": "fortnight", "start": day}, "period_type"),
        ({"user": org.rep_a, "period_type": "month", "start": day, "value": D("-1")}, "value"),
        ({"user": org.rep_a, "period_type": "month", "start": day, "metric": "x"}, "metric"),
        (
            {"user": org.rep_a, "period_type": "week", "start": day, "end": dt.date(2026, 4, 9)},
            "start",
        ),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as error:
            target(org.head, **fields)
        assert field in error.value.message_dict, (fields, error.value.message_dict)
    assert Target.objects.count() == 1


def test_a_month_or_week_target_starts_on_its_first_day_whatever_day_is_given(org):
    created = target(org.head, user=org.rep_a, period_type="month", start=dt.date(2026, 2, 17))
    assert (created.start, created.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    week = target(org.head, user=org.rep_a, period_type="week", start=dt.date(2026, 2, 18))
    assert (week.start, week.end) == (dt.date(2026, 2, 16), dt.date(2026, 2, 22))
