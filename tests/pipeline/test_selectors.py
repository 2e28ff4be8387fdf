"""Reads the pages build on: the board, my deals by stage, closing this month, stale deals,
over-SLA leads and the snapshot trends, each limited to what the viewer may see."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Account
from pipeline import selectors, services
from pipeline.models import Deal, ForecastSnapshot, Pipeline
from tests.customers.factories import AccountFactory
from tests.pipeline.factories import DealFactory, default_stages
from tests.utils import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(org):
    stages = default_stages()
    today = timezone.localdate()
    mine = DealFactory(account=AccountFactory(owner=org.rep_a), expected_close=today)
    below = DealFactory(
        account=AccountFactory(owner=org.rep_a1), amount=Decimal("50000"), expected_close=today
    )
    sibling = DealFactory(account=AccountFactory(owner=org.rep_b), expected_close=today)
    lost = DealFactory(account=AccountFactory(owner=org.rep_a))
    services.deal_move(by=None, deal=lost, stage=stages["lost"], lost_reason="price")
    return {"mine": mine, "below": below, "sibling": sibling, "lost": lost, "stages": stages}


def test_the_board_has_open_columns_with_totals_of_visible_deals(org, deals):
    pipeline = Pipeline.objects.get(is_default=True)
    with count_queries() as ctx:
        columns = selectors.board(viewer=org.sup_a, pipeline=pipeline)
    assert len(ctx) <= 6
    assert [column["stage"].code for column in columns] == [
        "lead_discovery",
        "needs_analysis",
        "demo",
        "proposal_negotiation",
    ]
    first = columns[0]
    assert (first["count"], first["amount"]) == (2, Decimal("150000.00"))
    assert {deal.pk for deal in first["deals"]} == {deals["mine"].pk, deals["below"].pk}
    mine = selectors.deals_by_stage(viewer=org.sup_a, pipeline=pipeline, owner=org.rep_a)
    assert (mine[0]["count"], mine[0]["amount"]) == (1, Decimal("100000.00"))


def test_closing_this_month_and_stale_deals(org, deals):
    start, end = selectors.period_bounds("month", timezone.localdate())
    closing = selectors.deals_closing(viewer=org.rep_a, start=start, end=end)
    assert [deal.pk for deal in closing] == [deals["mine"].pk]
    Deal.objects.filter(pk__in=[deals["below"].pk, deals["sibling"].pk]).update(
        stage_due_at=timezone.now() - timedelta(days=1)
    )
    assert [deal.pk for deal in selectors.stale_deals(viewer=org.sup_a)] == [deals["below"].pk]


def test_over_sla_leads_are_the_visible_ones(org, deals):
    now = timezone.now()
    lead = AccountFactory(owner=org.rep_a, status=Account.Status.LEAD)
    other = AccountFactory(owner=org.rep_b, status=Account.Status.LEAD)
    Account.objects.filter(pk__in=[lead.pk, other.pk]).update(created_at=now - timedelta(hours=30))
    Deal.objects.filter(pk__in=[deals["mine"].pk, deals["sibling"].pk]).update(
        created_at=now - timedelta(hours=30)
    )
    overdue = selectors.over_sla_leads(viewer=org.sup_a, now=now)
    assert [account.pk for account in overdue["leads"]] == [lead.pk]
    assert [deal.pk for deal in overdue["deals"]] == [deals["mine"].pk]


def test_snapshot_trends_sum_the_scope(org, deals):
    today = timezone.localdate()
    services.funnel_rollup(day=today)
    services.forecast_rollup(today=today)
    scope = selectors.resolve_scope(viewer=org.sup_a, kind="team", team_id=org.east_a.pk)
    pipeline = Pipeline.objects.get(is_default=True)
    trend = list(
        selectors.funnel_trend(
            viewer=org.sup_a, pipeline=pipeline, start=today, end=today, scope=scope
        )
    )
    lead_row = next(row for row in trend if row["stage_id"] == deals["stages"]["lead_discovery"].pk)
    # In stage: mine and below; entered today: those two and the deal lost since.
    assert (lead_row["in_stage_count"], lead_row["entered"], lead_row["lost"]) == (2, 3, 1)
    forecast = list(selectors.forecast_trend(viewer=org.sup_a, scope=scope))
    assert len(forecast) == 1 and forecast[0]["taken_on"] == today
    assert forecast[0]["pipeline"] == Decimal("150000.00")
    assert ForecastSnapshot.objects.filter(owner=org.rep_b).exists()
