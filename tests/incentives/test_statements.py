"""Statements computed by hand, to the cent: tiers marginal and retroactive, threshold, cap,
product rates, split deals, margin, bonuses; idempotent recompute."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from incentives import services
from incentives.models import DealCost, Statement
from tests.incentives.factories import Q1, bonus, plan, revenue_target, rule, won_deal
from tests.pipeline.factories import ProductCategoryFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

D = Decimal


def compute(user, period=Q1):
    return services.statement_compute(user=user, period=period)


def amounts(statement):
    return [line.amount for line in statement.lines.all()]


def test_marginal_tiers_pay_each_slice_at_its_rate(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tier_mode="marginal")
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "1250000", dt.date(2026, 2, 10), name="Big one")

    statement = compute(rep)

    # 800,000 x 3% + 200,000 x 5% + 250,000 x 8%
    assert amounts(statement) == [D("24000.00"), D("10000.00"), D("20000.00")]
    assert statement.commission_total == D("54000.00") == statement.total
    assert statement.attainment == D("125.00")
    explanations = [line.explanation for line in statement.lines.all()]
    assert explanations[2] == "Big one: 250,000 at 8% (tier above 100%, marginal)"
    assert explanations[1] == "Big one: 200,000 at 5% (tier 80–100%, marginal)"


def test_marginal_tiers_carry_over_between_deals_in_close_order(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tier_mode="marginal")
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "900000", dt.date(2026, 1, 10))
    second = won_deal(rep, "350000", dt.date(2026, 3, 1))

    statement = compute(rep)

    # First deal: 800,000 x 3% + 100,000 x 5%; second: 100,000 x 5% + 250,000 x 8%.
    assert amounts(statement) == [D("24000"), D("5000"), D("5000"), D("20000")]
    assert [line.deal_id for line in statement.lines.all()][2:] == [second.pk, second.pk]
    assert statement.total == D("54000.00")


def test_retroactive_tier_pays_everything_at_the_reached_rate(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tier_mode="retroactive")
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "1250000", dt.date(2026, 2, 10), name="Big one")

    statement = compute(rep)

    assert statement.total == D("100000.00")
    line = statement.lines.get()
    assert line.explanation == "Big one: 1,250,000 at 8% (tier above 100%, retroactive)"
    assert (line.basis, line.rate) == (D("1250000.00"), D("8.000"))


def test_cap_limits_the_rule_per_period(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tier_mode="retroactive", cap=D("80000"))
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "1000000", dt.date(2026, 1, 10))
    won_deal(rep, "250000", dt.date(2026, 2, 10))

    statement = compute(rep)

    # 1,000,000 x 8% = 80,000 fills the cap; the second deal's 20,000 is capped to 0.
    assert amounts(statement) == [D("80000.00"), D("0.00")]
    assert statement.total == D("80000.00")
    assert "capped at 80,000" in statement.lines.all()[1].explanation


def test_below_threshold_nothing_is_paid(org):
    rep = org.rep_a
    rule(plan(users=[rep]), threshold_percent=D("50"))
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "450000", dt.date(2026, 2, 10), name="Small")

    statement = compute(rep)

    assert statement.total == D("0.00")
    assert statement.attainment == D("45.00")
    line = statement.lines.get()
    assert line.explanation == (
        "Small: 450,000, nothing paid: attainment 45% is below the 50% threshold"
    )


def test_product_rule_takes_its_category_and_the_general_rule_the_rest(org):
    rep = org.rep_a
    software = ProductCategoryFactory(code="software")
    the_plan = plan(users=[rep])
    rule(the_plan, tiers=[], base_rate=D("2"))
    rule(the_plan, name="Software", tiers=[], base_rate=D("10"), product_category=software)
    won_deal(rep, "100000", dt.date(2026, 1, 5))
    won_deal(rep, "33333.33", dt.date(2026, 1, 6), product_category=software)

    statement = compute(rep)

    # 100,000 x 2% = 2,000; 33,333.33 x 10% = 3,333.333 -> 3,333.33
    assert amounts(statement) == [D("2000.00"), D("3333.33")]
    assert statement.total == D("5333.33")


def test_rounding_is_half_up_per_line(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tiers=[], base_rate=D("2.5"))
    won_deal(rep, "100.10", dt.date(2026, 1, 5))  # 2.5025 -> 2.50
    won_deal(rep, "100.30", dt.date(2026, 1, 6))  # 2.5075 -> 2.51
    won_deal(rep, "0.20", dt.date(2026, 1, 7))  # 0.005 -> 0.01 (half up, not to even)

    statement = compute(rep)

    assert amounts(statement) == [D("2.50"), D("2.51"), D("0.01")]
    assert statement.total == D("5.02")


def test_split_deal_credits_each_person_their_share(org):
    rule(plan(users=[org.rep_a, org.rep_a1]), tiers=[], base_rate=D("5"))
    deal = won_deal(org.rep_a, "200000", dt.date(2026, 2, 1), name="Shared")
    services.deal_credits_set(by=org.sup_a, deal=deal, shares=[(org.rep_a, 60), (org.rep_a1, 40)])

    mine, theirs = compute(org.rep_a), compute(org.rep_a1)

    assert mine.credited_revenue == D("120000.00") and mine.total == D("6000.00")
    assert theirs.credited_revenue == D("80000.00") and theirs.total == D("4000.00")
    assert "(your 60% share)" in mine.lines.get().explanation


def test_split_shares_must_sum_to_100(org):
    deal = won_deal(org.rep_a, "200000", dt.date(2026, 2, 1))
    with pytest.raises(ValidationError) as error:
        services.deal_credits_set(
            by=org.sup_a, deal=deal, shares=[(org.rep_a, 60), (org.rep_a1, 30)]
        )
    assert "shares" in error.value.message_dict
    assert not deal.credits.exists()


def test_margin_basis_uses_the_recorded_cost_and_says_when_there_is_none(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tiers=[], base_rate=D("10"), basis="margin")
    with_cost = won_deal(rep, "100000", dt.date(2026, 1, 5), name="Costed")
    DealCost.objects.create(deal=with_cost, cost=D("60000"))
    won_deal(rep, "50000", dt.date(2026, 1, 6), name="No cost")

    statement = compute(rep)

    # (100,000 - 60,000) x 10% = 4,000; no cost -> nothing.
    assert amounts(statement) == [D("4000.00"), D("0.00")]
    assert "no cost recorded" in statement.lines.all()[1].explanation


def test_without_a_target_the_base_rate_pays(org):
    rep = org.rep_a
    rule(plan(users=[rep]), base_rate=D("4"), threshold_percent=D("50"))
    won_deal(rep, "10000", dt.date(2026, 1, 5))

    statement = compute(rep)

    assert statement.total == D("400.00")
    assert statement.attainment is None


def test_bonuses_target_new_customer_large_deal_long_service(org):
    rep = org.rep_a
    rep.hire_date = dt.date(2021, 3, 15)
    rep.save()
    the_plan = plan(users=[rep])
    rule(the_plan, tiers=[], base_rate=D("0"))
    bonus(the_plan, kind="target_reached", attainment_percent=D("100"), amount=D("5000"))
    bonus(the_plan, kind="new_customer", amount=D("800"))
    bonus(the_plan, kind="large_deal", min_deal_amount=D("500000"), percent=D("1"))
    bonus(the_plan, kind="long_service", amount=D("2000"), min_years=5)
    revenue_target(1_000_000, user=rep)
    first = won_deal(rep, "700000", dt.date(2026, 1, 10))
    won_deal(rep, "400000", dt.date(2026, 2, 10), account=first.account)

    statement = compute(rep)

    bonuses = {line.explanation: line.amount for line in statement.lines.filter(kind="bonus")}
    # 1,100,000 of 1,000,000: 110% >= 100% -> 5,000; one new account -> 800;
    # (700,000 - 500,000) x 1% = 2,000; 5 years on 2026-03-15 -> 2,000.
    assert sorted(bonuses.values()) == [D("800"), D("2000"), D("2000"), D("5000")]
    assert statement.bonus_total == D("9800.00")
    assert any("5 years of service on 2026-03-15" in text for text in bonuses)


def test_team_bonus_only_when_the_team_target_is_met(org):
    members = [org.rep_b, org.sup_b]
    the_plan = plan(teams=[org.east_b])
    rule(the_plan, tiers=[], base_rate=D("0"))
    bonus(the_plan, kind="team_target", amount=D("9000"), team_split="contribution")
    revenue_target(500_000, team=org.east_b)
    won_deal(org.rep_b, "300000", dt.date(2026, 1, 10))
    won_deal(org.sup_b, "150000", dt.date(2026, 1, 11))

    assert [compute(user).bonus_total for user in members] == [D("0"), D("0")]

    won_deal(org.rep_b, "50000", dt.date(2026, 1, 12))
    # 500,000 met: 9,000 x 350,000 / 500,000 = 6,300 and 9,000 x 150,000 / 500,000 = 2,700.
    assert [compute(user).bonus_total for user in members] == [D("6300.00"), D("2700.00")]


def test_team_bonus_split_equally(org):
    the_plan = plan(teams=[org.east_b])
    bonus(the_plan, kind="team_target", amount=D("10000"), team_split="equal")
    revenue_target(100, team=org.east_b)
    won_deal(org.rep_b, "100", dt.date(2026, 1, 10))
    # Three people share 10,000: 3,333.333 -> 3,333.33 each.
    org.rep_b2 = type(org.rep_b).objects.create(username="rep_b2", team=org.east_b)

    assert compute(org.rep_b).bonus_total == D("3333.33")


def test_recompute_is_idempotent(org):
    rep = org.rep_a
    rule(plan(users=[rep]))
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "1250000", dt.date(2026, 2, 10))

    first = compute(rep)
    before = list(first.lines.values_list("id", "source_key", "amount", "explanation"))
    second = compute(rep)
    after = list(second.lines.values_list("id", "source_key", "amount", "explanation"))

    assert first.pk == second.pk
    assert before == after
    assert Statement.objects.count() == 1


def test_draft_follows_the_deals(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tiers=[], base_rate=D("10"))
    deal = won_deal(rep, "1000", dt.date(2026, 2, 10))
    assert compute(rep).total == D("100.00")

    type(deal).objects.filter(pk=deal.pk).update(status="lost", lost_reason="price")

    statement = compute(rep)
    assert statement.total == D("0.00")
    assert not statement.lines.exists()


def test_most_specific_plan_wins(org):
    by_level = plan(levels=[org.levels.senior], name="Level")
    by_team = plan(teams=[org.east], name="East")
    nearer_team = plan(teams=[org.east_a], name="East A")
    by_user = plan(users=[org.rep_a], name="Personal")
    from incentives.selectors import plan_for

    day = Q1[0]
    assert plan_for(org.rep_a, on=day) == by_user
    assert plan_for(org.rep_a1, on=day) == nearer_team  # east_a1 is below east_a
    assert plan_for(org.rep_east, on=day) == by_team
    assert plan_for(org.rep_b, on=day) == by_team  # east_b is below east
    assert plan_for(org.rep_north, on=day) is None  # junior, north: nothing names them
    org.rep_north.ladder_level = org.levels.senior
    org.rep_north.save()
    assert plan_for(org.rep_north, on=day) == by_level


def test_overlapping_plans_for_the_same_person_are_refused(org):
    plan(users=[org.rep_a], start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30))
    with pytest.raises(ValidationError) as error:
        plan(users=[org.rep_a], start=dt.date(2026, 6, 1), name="Second")
    assert "users" in error.value.message_dict
    # One that starts after the first ends is fine.
    plan(users=[org.rep_a], start=dt.date(2026, 7, 1), name="Third")


def test_nightly_recompute_in_bulk_gives_the_same_lines_as_one_by_one(org):
    people = [org.rep_a, org.rep_a1, org.rep_b]
    the_plan = plan(users=people)
    rule(the_plan, tier_mode="marginal")
    bonus(the_plan, kind="new_customer", amount=D("300"))
    for index, person in enumerate(people):
        revenue_target(100_000 * (index + 1), user=person)
        won_deal(person, str(90_000 + 10_000 * index), dt.date(2026, 1, 10 + index))
        won_deal(person, "25000", dt.date(2026, 2, 10 + index))
    deal = won_deal(org.rep_a, "40000", dt.date(2026, 3, 3))
    services.deal_credits_set(by=None, deal=deal, shares=[(org.rep_a, 50), (org.rep_b, 50)])

    assert services.statements_recompute(on=dt.date(2026, 2, 15)) == 3
    bulk = {
        statement.user_id: list(
            statement.lines.values_list("id", "source_key", "amount", "explanation")
        )
        for statement in Statement.objects.all()
    }
    totals = dict(Statement.objects.values_list("user_id", "total"))
    for person in people:
        one = compute(person)
        assert one.total == totals[person.pk]
        assert (
            list(one.lines.values_list("id", "source_key", "amount", "explanation"))
            == (bulk[person.pk])
        )
    # rep_a by hand, target 100,000: 90,000 -> 80,000 x 3% + 10,000 x 5%; 25,000 ->
    # 10,000 x 5% + 15,000 x 8%; half of 40,000 -> 20,000 x 8%; three new accounts x 300,
    # the shared one at half.
    assert totals[org.rep_a.pk] == (
        D("2400") + D("500") + D("500") + D("1200") + D("1600") + D("300") * 2 + D("150")
    )
    assert services.statements_recompute(on=dt.date(2026, 2, 15)) == 3
    assert Statement.objects.count() == 3
