"""The pipeline REST API for each role: visibility on lists, details, history and reports;
moves with entry criteria; reopening; optimistic locking by version (409) and If-Match
(412); configuration writes for admins only; constant query counts."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pipeline import services
from pipeline.models import Deal, Stage
from tests.customers.factories import AccountFactory, ContactFactory
from tests.pipeline.factories import (
    CompetitorFactory,
    DealFactory,
    ProductCategoryFactory,
    default_stages,
)
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def client_as(user):
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def data(org):
    d = SimpleNamespace(org=org, stages=default_stages())
    d.mine = DealFactory(account=AccountFactory(owner=org.rep_a), name="Mine")
    d.below = DealFactory(account=AccountFactory(owner=org.rep_a1), name="Below")
    d.sibling = DealFactory(account=AccountFactory(owner=org.rep_b), name="Sibling")
    d.north = DealFactory(account=AccountFactory(owner=org.rep_north), name="North")
    return d


@pytest.mark.parametrize(
    "who, expected",
    [
        ("rep_a", {"mine"}),
        ("rep_b", {"sibling"}),
        ("sup_a", {"mine", "below"}),
        ("east_mgr", {"mine", "below", "sibling"}),
        ("admin", {"mine", "below", "sibling", "north"}),
    ],
)
def test_deal_list_and_detail_follow_the_visibility_rule(data, who, expected):
    client = client_as(getattr(data.org, who))
    assert ids(client.get("/api/v1/deals/")) == {getattr(data, name).pk for name in expected}
    for name in ("mine", "below", "sibling", "north"):
        deal = getattr(data, name)
        status = 200 if name in expected else 404
        assert client.get(f"/api/v1/deals/{deal.pk}/").status_code == status
        assert client.get(f"/api/v1/deals/{deal.pk}/history/").status_code == status
        move = client.post(
            f"/api/v1/deals/{deal.pk}/move/", {"stage": data.stages["lost"].pk}, format="json"
        )
        assert move.status_code == (400 if name in expected else 404)


def test_filters(data):
    client = client_as(data.org.east_mgr)
    category, rival = ProductCategoryFactory(), CompetitorFactory()
    Deal.objects.filter(pk=data.mine.pk).update(
        amount=Decimal("500000"), product_category=category, expected_close="2026-12-15"
    )
    data.mine.competitors.add(rival)
    assert ids(client.get("/api/v1/deals/", {"min_amount": 400000})) == {data.mine.pk}
    assert ids(client.get("/api/v1/deals/", {"product_category": category.pk})) == {data.mine.pk}
    assert ids(client.get("/api/v1/deals/", {"competitor": rival.pk})) == {data.mine.pk}
    assert ids(client.get("/api/v1/deals/", {"expected_close_after": "2026-12-01"})) == {
        data.mine.pk
    }
    assert ids(client.get("/api/v1/deals/", {"team": data.org.east_a.pk})) == {
        data.mine.pk,
        data.below.pk,
    }
    assert ids(client.get("/api/v1/deals/", {"owner": data.org.rep_b.pk})) == {data.sibling.pk}
    assert ids(client.get("/api/v1/deals/", {"q": "Sibl"})) == {data.sibling.pk}
    assert ids(client.get("/api/v1/deals/", {"status": "open"})) == {
        data.mine.pk,
        data.below.pk,
        data.sibling.pk,
    }
    Deal.objects.filter(pk=data.below.pk).update(stage_due_at=timezone.now() - timedelta(days=1))
    assert ids(client.get("/api/v1/deals/", {"over_sla": "true"})) == {data.below.pk}
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert ids(client.get("/api/v1/deals/", {"updated_after": later})) == set()
    # A team outside the visible set is refused, never widening the list.
    response = client.get("/api/v1/deals/", {"team": data.org.north.pk})
    assert response.status_code == 400


def test_create_through_the_api(data):
    client = client_as(data.org.rep_a)
    account = AccountFactory(owner=data.org.rep_a)
    response = client.post(
        "/api/v1/deals/", {"name": "New", "account": account.pk, "amount": "1200.50"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == data.org.rep_a.pk and body["version"] == 1
    assert body["stage"] == data.stages["lead_discovery"].pk
    assert response["ETag"] == f'"deal-{body["id"]}-v1"'
    hidden = AccountFactory(owner=data.org.rep_b)
    response = client.post(
        "/api/v1/deals/", {"name": "Theirs", "account": hidden.pk}, format="json"
    )
    assert response.status_code == 400 and "account" in response.json()


def test_move_lists_missing_criteria_then_accepts_them(data):
    client = client_as(data.org.rep_a)
    url = f"/api/v1/deals/{data.mine.pk}/move/"
    demo = data.stages["demo"]
    response = client.post(url, {"stage": demo.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"contact", "product_category", "checklist"}
    assert response.json()["checklist"] == ["Budget confirmed"]
    contact = ContactFactory(account=data.mine.account)
    response = client.post(
        url,
        {
            "stage": demo.pk,
            "contact": contact.pk,
            "product_category": ProductCategoryFactory().pk,
            "checklist": ["Budget confirmed"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == demo.pk and response.json()["version"] == 2
    history = client.get(f"/api/v1/deals/{data.mine.pk}/history/").json()
    assert [(row["kind"], row["to_stage"]) for row in history] == [
        ("created", data.stages["lead_discovery"].pk),
        ("move", demo.pk),
    ]
    assert history[1]["days_in_previous_stage"] == "0.00"


def test_win_then_reopen(data):
    client = client_as(data.org.rep_a)
    url = f"/api/v1/deals/{data.mine.pk}/"
    won = data.stages["contract_signed"]
    assert client.post(f"{url}move/", {"stage": won.pk}, format="json").status_code == 400
    response = client.post(
        f"{url}move/", {"stage": won.pk, "closed_at": "2026-11-20"}, format="json"
    )
    assert response.json()["status"] == "won"
    again = client.post(f"{url}move/", {"stage": data.stages["demo"].pk}, format="json")
    assert again.status_code == 400
    response = client.post(f"{url}reopen/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "open" and response.json()["closed_at"] is None


def test_two_clients_with_one_version_one_wins_and_the_other_gets_409(data):
    url = f"/api/v1/deals/{data.mine.pk}/"
    first, second = client_as(data.org.rep_a), client_as(data.org.sup_a)
    version = first.get(url).json()["version"]
    ok = first.patch(url, {"name": "Renamed", "version": version}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    stale = second.patch(url, {"amount": "1.00", "version": version}, format="json")
    assert stale.status_code == 409 and stale.json()["version"] == version + 1
    deal = Deal.objects.get(pk=data.mine.pk)
    assert (deal.name, deal.amount, deal.version) == ("Renamed", Decimal("100000.00"), 2)


def test_if_match_with_an_old_etag_is_412_and_writes_nothing(data):
    url = f"/api/v1/deals/{data.mine.pk}/"
    client = client_as(data.org.rep_a)
    etag = client.get(url)["ETag"]
    assert client.patch(url, {"name": "One"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    response = client.patch(url, {"name": "Two"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    move = client.post(
        f"{url}move/",
        {"stage": data.stages["lost"].pk, "lost_reason": "price"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert move.status_code == 412
    deal = Deal.objects.get(pk=data.mine.pk)
    assert (deal.name, deal.status) == ("One", "open")


def test_patch_cannot_change_the_stage_or_account(data):
    client = client_as(data.org.rep_a)
    url = f"/api/v1/deals/{data.mine.pk}/"
    response = client.patch(url, {"stage": data.stages["demo"].pk}, format="json")
    assert response.status_code == 400 and "stage" in response.json()


def test_delete_is_soft_and_hides_the_deal(data):
    client = client_as(data.org.rep_a)
    assert client.delete(f"/api/v1/deals/{data.mine.pk}/").status_code == 204
    assert client.get(f"/api/v1/deals/{data.mine.pk}/").status_code == 404
    assert Deal.all_objects.get(pk=data.mine.pk).deleted_at is not None


def test_configuration_is_read_by_all_and_written_by_admins(data):
    rep, admin = client_as(data.org.rep_a), client_as(data.org.admin)
    assert rep.get("/api/v1/pipelines/").status_code == 200
    stages = rep.get("/api/v1/stages/").json()
    assert [row["name"] for row in stages][:2] == ["Lead discovery", "Needs analysis"]
    demo = data.stages["demo"]
    patch = {"sla_days": 5}
    assert rep.patch(f"/api/v1/stages/{demo.pk}/", patch, format="json").status_code == 403
    assert admin.patch(f"/api/v1/stages/{demo.pk}/", patch, format="json").status_code == 200
    assert Stage.objects.get(pk=demo.pk).sla_days == 5
    bad = admin.patch(f"/api/v1/stages/{demo.pk}/", {"required_fields": ["colour"]}, format="json")
    assert bad.status_code == 400
    assert rep.get("/api/v1/assignment-rules/").status_code == 403
    assert admin.get("/api/v1/assignment-rules/").status_code == 200
    created = admin.post(
        "/api/v1/assignment-rules/",
        {"name": "Web leads", "action": "round_robin", "team": data.org.east_a.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    missing_team = admin.post(
        "/api/v1/assignment-rules/", {"name": "Broken", "action": "round_robin"}, format="json"
    )
    assert missing_team.status_code == 400 and "team" in missing_team.json()
    assert rep.post("/api/v1/competitors/", {"name": "Acme"}, format="json").status_code == 403
    assert admin.post("/api/v1/competitors/", {"name": "Acme"}, format="json").status_code == 201
    assert (
        admin.post("/api/v1/product-categories/", {"code": "crm", "name": "CRM"}, format="json")
    ).status_code == 201


# Reports


def test_reports_answer_for_the_visible_scope_and_404_beyond(data):
    rep, sup = client_as(data.org.rep_a), client_as(data.org.sup_a)
    mine = rep.get("/api/v1/reports/funnel/")
    assert mine.status_code == 200, mine.content
    lead = next(row for row in mine.json()["stages"] if row["order"] == 10)
    assert lead["in_stage_count"] == 1
    assert (
        rep.get(
            "/api/v1/reports/funnel/", {"scope": "team", "team": data.org.east_a.pk}
        ).status_code
        == 404
    )
    assert (
        rep.get(
            "/api/v1/reports/forecast/", {"scope": "rep", "user": data.org.rep_b.pk}
        ).status_code
        == 404
    )
    assert rep.get("/api/v1/reports/funnel/", {"scope": "team"}).status_code == 400
    team = sup.get("/api/v1/reports/funnel/", {"scope": "team", "team": data.org.east_a.pk})
    lead = next(row for row in team.json()["stages"] if row["order"] == 10)
    assert lead["in_stage_count"] == 2  # mine and below, never the sibling's
    everything = sup.get("/api/v1/reports/funnel/", {"scope": "all"})
    lead = next(row for row in everything.json()["stages"] if row["order"] == 10)
    assert lead["in_stage_count"] == 2
    forecast = sup.get("/api/v1/reports/forecast/", {"scope": "all", "period": "quarter"})
    assert forecast.status_code == 200
    assert forecast.json()["target"] is None and forecast.json()["accuracy"] is None


def test_query_counts_do_not_grow_with_deals(org):
    client = client_as(org.sup_a)
    account = AccountFactory(owner=org.rep_a)
    rival = CompetitorFactory()

    def add(n):
        for _ in range(n):
            deal = DealFactory(account=account, product_category=ProductCategoryFactory())
            deal.competitors.add(rival)

    assert_constant_queries(add, lambda: client.get("/api/v1/deals/"))


def test_report_query_counts_do_not_grow_with_deals(org):
    client = client_as(org.sup_a)
    stages = default_stages()
    account = AccountFactory(owner=org.rep_a)

    def add(n):
        for index in range(n):
            deal = DealFactory(account=account, owner=[org.rep_a, org.rep_a1][index % 2])
            services.deal_move(
                by=None,
                deal=deal,
                stage=stages["lost"],
                lost_reason="price",
                closed_at=timezone.localdate(),
            )

    team = {"scope": "team", "team": org.east_a.pk}
    assert_constant_queries(add, lambda: client.get("/api/v1/reports/funnel/", team))
    assert_constant_queries(add, lambda: client.get("/api/v1/reports/forecast/", team))


def test_sync_clients_see_deletions_as_tombstones(data):
    client = client_as(data.org.rep_a)
    before = timezone.now().isoformat()
    client.delete(f"/api/v1/deals/{data.mine.pk}/")
    response = client.get("/api/v1/deals/", {"include_deleted": "1", "updated_after": before})
    (row,) = response.json()["results"]
    assert row["id"] == data.mine.pk and row["deleted"] is True
    assert ids(client.get("/api/v1/deals/")) == set()


def test_the_default_pipeline_cannot_be_deleted_and_one_in_use_is_switched_off(data):
    admin = client_as(data.org.admin)
    default = data.stages["demo"].pipeline
    assert admin.delete(f"/api/v1/pipelines/{default.pk}/").status_code == 400
    assert Deal.objects.filter(pipeline=default).exists()
    rival = CompetitorFactory()
    data.mine.competitors.add(rival)
    assert admin.delete(f"/api/v1/competitors/{rival.pk}/").status_code == 204
    rival.refresh_from_db()
    assert rival.active is False and list(data.mine.competitors.all()) == [rival]
    unused = CompetitorFactory()
    assert admin.delete(f"/api/v1/competitors/{unused.pk}/").status_code == 204
    assert not type(unused).objects.filter(pk=unused.pk).exists()
