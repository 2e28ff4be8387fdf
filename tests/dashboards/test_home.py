"""The rep's home: "my deals by stage", "closing this month", target pace, commission and
what the largest deals closing this month would pay."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from incentives.models import Statement
from performance.models import Target
from pipeline import selectors
from salesmgmt.dashboards import views
from tests.incentives.factories import plan, revenue_target, rule
from tests.pipeline.test_reports import move, new_deal
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

URL = reverse("dashboards:home")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def deal_list_url():
    return reverse("pipeline:deal_list")


def section(html: str, name: str) -> str:
    return re.search(rf'<section class="card {name}">.*?</section>', html, re.S).group(0)


def test_my_deals_by_stage_counts_my_open_deals_only(org, stages, client_for):
    earlier = timezone.now() - timedelta(days=2)
    new_deal(org.rep_a, "100000", earlier)
    new_deal(org.rep_a, "50000.50", earlier)
    new_deal(org.rep_a, "30000", earlier, stage=stages["D"])
    won = new_deal(org.rep_a, "999000", earlier)
    move(won, stages["W"], timezone.now(), closed_at=timezone.localdate())
    new_deal(org.rep_a1, "70000", earlier)  # someone else's
    response = client_for(org.rep_a).get(URL, **EN)
    html = section(response.content.decode(), "my-deals-by-stage")
    rows = dict(re.findall(r'<tr data-stage="(\d+)">(.*?)</tr>', html, re.S))
    assert list(rows) == [str(stages[key].pk) for key in "LNDP"]

    def figures(key):
        row = rows[str(stages[key].pk)]
        count = re.search(r'class="num stage-count">(.*?)<', row).group(1)
        amount = re.search(r'class="num stage-amount">(.*?)<', row).group(1)
        return count, amount

    assert figures("L") == ("2", "150,001")
    assert figures("N") == ("0", "0")
    assert figures("D") == ("1", "30,000")
    expected = selectors.deals_by_stage(
        viewer=org.rep_a, pipeline=stages["L"].pipeline, owner=org.rep_a
    )
    assert [(row["stage"], row["count"]) for row in response.context["my_stages"]] == [
        (row["stage"], row["count"]) for row in expected
    ]


def test_a_managers_stage_card_holds_their_own_deals_not_the_teams(org, stages, client_for):
    new_deal(org.rep_a, "100000", timezone.now())
    response = client_for(org.sup_a).get(URL, **EN)
    assert sum(row["count"] for row in response.context["my_stages"]) == 0


def test_stage_rows_link_to_the_deal_list_when_it_exists(org, stages, client_for):
    new_deal(org.rep_a, "100000", timezone.now())
    html = section(client_for(org.rep_a).get(URL, **EN).content.decode(), "my-deals-by-stage")
    url = deal_list_url()
    assert f'href="{url}?owner={org.rep_a.pk}&amp;stage={stages["L"].pk}&amp;status=open"' in html


def test_closing_this_month_lists_my_open_deals_soonest_first_capped(org, stages, client_for):
    today = timezone.localdate()
    month_start, month_end = selectors.period_bounds("month", today)
    earlier = timezone.now() - timedelta(days=1)
    days = [month_end - timedelta(days=n % (month_end - month_start).days) for n in range(10)]
    for number, day in enumerate(days):
        new_deal(org.rep_a, str(1000 + number), earlier, expected_close=day)
    later = new_deal(org.rep_a, "6", earlier, expected_close=month_end + timedelta(days=1))
    sibling = new_deal(org.rep_a1, "7", earlier, expected_close=month_start)
    done = new_deal(org.rep_a, "8", earlier, expected_close=month_start)
    move(done, stages["W"], timezone.now(), closed_at=today)

    response = client_for(org.rep_a).get(URL, **EN)
    shown = [item["deal"] for item in response.context["closing"]]
    assert len(shown) == views.CLOSING_ROWS
    assert [deal.expected_close for deal in shown] == sorted(days)[: views.CLOSING_ROWS]
    assert response.context["closing_more"] is True
    html = section(response.content.decode(), "closing-this-month")
    for deal in shown:
        assert f'href="{selectors.deal_link(deal.pk)}"' in html
        assert deal.name in html
    for hidden in (later, sibling, done):
        assert hidden.name not in html
    assert f"{shown[0].amount:,.0f}" in html
    assert stages["L"].name in html


def test_closing_this_month_when_nothing_closes(org, stages, client_for):
    html = client_for(org.rep_a).get(URL, **EN).content.decode()
    assert "No open deals expected to close this month." in section(html, "closing-this-month")


def test_home_queries_do_not_grow_with_deals(org, stages, client_for):
    client = client_for(org.rep_a)
    today = timezone.localdate()

    def add(count):
        for _number in range(count):
            new_deal(org.rep_a, "1000", timezone.now(), expected_close=today)

    assert_constant_queries(add, lambda: client.get(URL))


def this_month():
    return selectors.period_bounds("month", timezone.localdate())


def test_my_target_pace_shows_my_revenue_target_and_whether_i_am_behind(org, stages, client_for):
    start, end = this_month()
    Target.objects.create(
        user=org.rep_a,
        period_type="month",
        start=start,
        end=end,
        metric="revenue",
        value=Decimal("1000000"),
    )
    won = new_deal(org.rep_a, "1000", timezone.now() - timedelta(days=1))
    move(won, stages["W"], timezone.now(), closed_at=timezone.localdate())

    card = section(client_for(org.rep_a).get(URL, **EN).content.decode(), "my-target-pace")

    assert "This month" in card and "1,000 / 1,000,000" in card
    assert "(0.1%" in card
    assert "No target set; reached so far: 1,000." in card  # the quarter has no target
    assert reverse("performance:my_targets") in card


def test_my_commission_shows_this_periods_statement_and_the_year(org, client_for):
    start, end = this_month()
    previous_end = start - timedelta(days=1)
    previous_start = previous_end.replace(day=1)
    current = Statement.objects.create(
        user=org.rep_a, start=start, end=end, total=Decimal("12345.60"), attainment=Decimal("55")
    )
    Statement.objects.create(
        user=org.rep_a,
        start=previous_start,
        end=previous_end,
        total=Decimal("1000.00"),
        status=Statement.Status.PAID,
    )
    Statement.objects.create(user=org.rep_a1, start=start, end=end, total=Decimal("999999"))

    card = section(client_for(org.rep_a).get(URL, **EN).content.decode(), "my-commission")

    assert "12,345.60 CNY" in card and "Draft" in card and "55.0%" in card
    # Last month counts towards the year unless it was last year's December.
    year = Decimal("13345.60") if previous_start.year == start.year else Decimal("12345.60")
    assert f"{year:,.2f} CNY" in card
    assert reverse("incentives:statement_detail", args=[current.pk]) in card
    assert "999,999" not in card


def test_without_a_statement_my_commission_says_so(org, client_for):
    card = section(client_for(org.rep_a).get(URL, **EN).content.decode(), "my-commission")
    assert "No statement for this period yet." in card


def test_my_commission_estimates_my_largest_deals_closing_this_month(org, stages, client_for):
    start, end = selectors.period_bounds("quarter", timezone.localdate())
    rule(plan(users=[org.rep_a], start=start), base_rate=Decimal("3"))
    revenue_target("10000000", user=org.rep_a, period=(start, end))
    today = timezone.localdate()
    earlier = timezone.now() - timedelta(days=1)
    amounts = ("100000", "300000", "200000", "50000")
    deals = [new_deal(org.rep_a, amount, earlier, expected_close=today) for amount in amounts]
    client = client_for(org.rep_a)

    card = section(client.get(URL, **EN).content.decode(), "my-commission")

    shown = [int(pk) for pk in re.findall(r'<li data-deal="(\d+)"', card)]
    assert shown == [deals[1].pk, deals[2].pk, deals[0].pk]  # the three largest
    assert "+9,000.00 CNY" in card  # 300,000 at 3%

    def add(count):
        for _number in range(count):
            new_deal(org.rep_a, "1000", earlier, expected_close=today)

    assert_constant_queries(add, lambda: client.get(URL))
