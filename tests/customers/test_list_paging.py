"""Filtered lists page without DISTINCT, and the account list API pages over ids first, then
loads the page's rows in the list's order."""

import pytest

from customers import selectors, services
from customers.filtersets import AccountFilterSet
from customers.models import Account, Industry
from tests.customers.factories import AccountFactory, TagFactory


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


def test_list_rows_say_what_the_detail_says(org, token_client):
    """A list row, read as plain values, carries the same figures as the account's detail:
    tags by name, the owner's name (Chinese family name first), pool accounts and, with
    include_deleted, tombstones."""
    org.rep_a.first_name, org.rep_a.last_name = "伟", "张"
    org.rep_a.save()
    owned = AccountFactory(name="Owned", owner=org.rep_a, lead_score=64)
    owned.tags.set([TagFactory(name="zeta"), TagFactory(name="alpha"), TagFactory(name="mid")])
    pooled = AccountFactory(name="Pooled", owner=None, pool_team=org.east_a)
    gone = AccountFactory(name="Gone", owner=org.rep_a)
    services.account_delete(by=org.rep_a, account=gone)
    client = token_client(org.sup_a)

    rows = {row["id"]: row for row in client.get("/api/v1/accounts/").json()["results"]}
    assert set(rows) == {owned.pk, pooled.pk}
    for account in (owned, pooled):
        detail = client.get(f"/api/v1/accounts/{account.pk}/").json()
        row = rows[account.pk]
        assert {key: detail[key] for key in row} == row
    assert [TagFactory._meta.model.objects.get(pk=pk).name for pk in rows[owned.pk]["tags"]] == [
        "alpha",
        "mid",
        "zeta",
    ]
    assert rows[owned.pk]["owner_name"] == "张伟" and not rows[owned.pk]["in_pool"]
    assert rows[pooled.pk]["owner"] is None and rows[pooled.pk]["in_pool"]

    synced = client.get("/api/v1/accounts/?include_deleted=1").json()["results"]
    tombstone = next(row for row in synced if row["id"] == gone.pk)
    assert tombstone["deleted"] is True and set(tombstone) == {
        "id",
        "deleted",
        "deleted_at",
        "updated_at",
    }


def test_pages_answer_last_empty_and_bad_pages(org, token_client):
    for n in range(5):
        AccountFactory(name=f"Company {n}", owner=org.rep_a)
    client = token_client(org.sup_a)

    last = client.get("/api/v1/accounts/?page_size=2&page=last").json()
    assert last["count"] == 5 and len(last["results"]) == 1 and last["next"] is None
    empty = client.get("/api/v1/accounts/?q=nothing-like-this").json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}
    for page in ("9", "0", "x"):
        assert client.get(f"/api/v1/accounts/?page_size=2&page={page}").status_code == 404


def test_list_rows_leave_out_accounts_out_of_sight(org):
    mine = AccountFactory(name="Mine", owner=org.rep_a)
    sibling = AccountFactory(name="Sibling's", owner=org.rep_b)

    rows = selectors.account_rows(viewer=org.rep_a, keys=[sibling.pk, mine.pk])

    assert [row["name"] for row in rows] == ["Mine"]
    both = selectors.account_rows(viewer=org.east_mgr, keys=[sibling.pk, mine.pk])
    assert [row["name"] for row in both] == ["Sibling's", "Mine"]
