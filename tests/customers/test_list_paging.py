"""Filtered lists page without DISTINCT, and the account list API pages over ids first, then
loads the page's rows in the list's order."""

import pytest

from customers.filtersets import AccountFilterSet
from customers.models import Account, Industry
from tests.customers.factories import AccountFactory


def test_choice_filters_do_not_add_distinct(org):
    industry = Industry.objects.first()
    filters = {
        "industry": [industry.pk],
        "region": [],
        "status": ["lead", "customer"],
        "tier": ["A"],
        "source": ["import"],
        "size_band": ["200"],
    }
    qs = AccountFilterSet(filters, queryset=Account.objects.visible_to(org.east_mgr)).qs
    assert "DISTINCT" not in str(qs.query).upper()


@pytest.mark.parametrize("ordering", ["", "name", "-lead_score"])
def test_api_pages_keep_the_list_order(org, token_client, ordering):
    for n in range(7):
        AccountFactory(name=f"Company {n:02d}", owner=org.rep_a, lead_score=(n * 37) % 100)
    AccountFactory(name="Hidden", owner=org.rep_north)
    client = token_client(org.sup_a)
    query = f"&ordering={ordering}" if ordering else ""
    expected = list(
        Account.objects.filter(owner=org.rep_a)
        .order_by(*((ordering, "-id") if ordering else ("-updated_at", "-id")))
        .values_list("name", flat=True)
    )

    pages = [client.get(f"/api/v1/accounts/?page_size=3&page={n}{query}").json() for n in (1, 2, 3)]

    assert [page["count"] for page in pages] == [7, 7, 7]
    assert [row["name"] for page in pages for row in page["results"]] == expected
    assert client.get(f"/api/v1/accounts/?page_size=3&page=4{query}").status_code == 404
