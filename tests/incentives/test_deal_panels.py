"""The deal page's panels from the apps above the pipeline: what an open deal would pay its
owner if won this period, and sharing a closed deal as a case."""

from decimal import Decimal

import pytest
from django.utils import timezone

from incentives import selectors
from pipeline import services
from pipeline.selectors import period_bounds
from tests.incentives.factories import plan, revenue_target, rule
from tests.pipeline.factories import DealFactory, default_stages

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def this_quarter():
    return period_bounds("quarter", timezone.localdate())


def panel(html: str, name: str) -> str:
    start = html.index(f'<section class="card {name}">')
    return html[start : html.index("</section>", start)]


def test_an_open_deal_shows_what_it_would_pay_its_owner(org, client_for, this_quarter):
    rule(plan(users=[org.rep_a], start=this_quarter[0]), base_rate=Decimal("3"))
    revenue_target("1000000", user=org.rep_a, period=this_quarter)
    deal = DealFactory(owner=org.rep_a, amount=Decimal("100000"))

    for viewer in (org.rep_a, org.sup_a):
        html = client_for(viewer).get(f"/deals/{deal.pk}/", **EN).content.decode()
        estimate = panel(html, "deal-estimate-panel")
        # 100,000 is 10% of the target: the 0-80% tier pays 3%.
        assert "3,000.00 CNY" in estimate
        assert "Attainment 0.0% now, 10.0% if won." in estimate
    assert selectors.commission_estimate(deal=deal, user=org.rep_a)["amount"] == Decimal("3000.00")


def test_an_owner_without_a_plan_is_told_so(org, client_for):
    deal = DealFactory(owner=org.rep_a, amount=Decimal("100000"))
    html = client_for(org.rep_a).get(f"/deals/{deal.pk}/", **EN).content.decode()
    assert "has no commission plan in effect." in panel(html, "deal-estimate-panel")


def test_a_closed_deal_offers_sharing_as_a_case_instead(org, client_for):
    deal = DealFactory(owner=org.rep_a, amount=Decimal("100000"))
    browser = client_for(org.rep_a)
    assert "deal-case-panel" not in browser.get(f"/deals/{deal.pk}/", **EN).content.decode()

    services.deal_move(by=None, deal=deal, stage=default_stages()["lost"], lost_reason="price")

    html = browser.get(f"/deals/{deal.pk}/", **EN).content.decode()
    assert "deal-estimate-panel" not in html
    assert f'action="/knowledge/from-deal/{deal.pk}/"' in panel(html, "deal-case-panel")
