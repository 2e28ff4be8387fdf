"""The account's timeline shows the history of its deals, on the page and through the API,
with the deal visibility rule applied on its own."""

import pytest

from pipeline import services
from tests.customers.factories import AccountFactory, ContactFactory
from tests.pipeline.factories import DealFactory, ProductCategoryFactory, default_stages
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def move_to_needs_analysis(deal):
    return services.deal_move(
        by=None,
        deal=deal,
        stage=default_stages()["needs_analysis"],
        values={"contact": deal.contact or ContactFactory(account=deal.account)},
        checklist=["Decision maker identified"],
    )


def test_the_account_page_shows_its_deals_moves(org, client_for):
    account = AccountFactory(owner=org.rep_a)
    deal = DealFactory(account=account, name="Factory <b>retrofit</b>")
    move_to_needs_analysis(deal)

    response = client_for(org.rep_a).get(f"/accounts/{account.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Deal created" in html and "Deal moved" in html
    assert "Factory &lt;b&gt;retrofit&lt;/b&gt;" in html
    assert f'href="{services.selectors.deal_link(deal.pk)}"' in html
    stages = default_stages()
    assert f"{stages['lead_discovery'].name} → {stages['needs_analysis'].name}" in html


def test_a_deal_the_viewer_may_not_see_stays_off_the_timeline(org, token_client):
    account = AccountFactory(owner=org.rep_a)
    DealFactory(account=account, owner=org.rep_a, name="Mine")
    DealFactory(account=account, owner=org.rep_b, name="Sibling's")

    rep_rows = token_client(org.rep_a).get(f"/api/v1/accounts/{account.pk}/timeline/").json()
    manager_rows = token_client(org.east_mgr).get(f"/api/v1/accounts/{account.pk}/timeline/").json()

    assert [row["title"] for row in rep_rows if row["kind"] == "deal"] == ["Mine"]
    assert sorted(row["title"] for row in manager_rows if row["kind"] == "deal") == [
        "Mine",
        "Sibling's",
    ]


def test_the_api_describes_each_deal_entry(org, token_client):
    account = AccountFactory(owner=org.rep_a)
    deal = DealFactory(account=account, owner=org.rep_a)
    move_to_needs_analysis(deal)

    rows = (
        token_client(org.rep_a)
        .get(f"/api/v1/accounts/{account.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )

    moved = next(row for row in rows if row["detail"].get("label") == "Deal moved")
    assert moved["kind"] == "deal"
    assert moved["detail"]["deal"] == deal.pk
    assert moved["detail"]["amount"] == "100000.00"
    assert moved["detail"]["to_stage"] == default_stages()["needs_analysis"].name


def test_the_account_page_queries_do_not_grow_with_deals(org, client_for):
    account = AccountFactory(owner=org.rep_a)
    category = ProductCategoryFactory()
    browser = client_for(org.rep_a)

    def add(n):
        for _ in range(n):
            contact = ContactFactory(account=account)
            deal = DealFactory(account=account, contact=contact, product_category=category)
            move_to_needs_analysis(deal)

    assert_constant_queries(add, lambda: browser.get(f"/accounts/{account.pk}/"))
