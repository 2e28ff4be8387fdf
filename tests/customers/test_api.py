"""The customers REST API for each role: visibility on list, detail, search and pool; writes
within the visible set; clear 400s that write nothing; tombstones; constant query counts."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers import services
from customers.models import Account, AccountEvent, Contact, FollowUp, Industry, Interaction
from tests.customers.factories import (
    AccountFactory,
    ContactFactory,
    FollowUpFactory,
    IndustryFactory,
    InteractionFactory,
    LeadScoringRuleFactory,
    RegionFactory,
    TagFactory,
)
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def client_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def data(org):
    d = SimpleNamespace(org=org)
    d.mine = AccountFactory(owner=org.rep_a, name="华为技术", phone="0755-28780808")
    d.sibling = AccountFactory(owner=org.rep_b, name="华为终端")
    d.below = AccountFactory(owner=org.rep_a1, name="Below Co")
    d.north = AccountFactory(owner=org.rep_north, name="North Co")
    d.pool_a = AccountFactory(owner=None, pool_team=org.east_a, name="Pool A")
    d.pool_b = AccountFactory(owner=None, pool_team=org.east_b, name="Pool B")
    d.sibling_contact = ContactFactory(account=d.sibling, name="Sibling Person")
    d.mine_contact = ContactFactory(account=d.mine, name="张伟")
    d.sibling_interaction = InteractionFactory(account=d.sibling)
    d.sibling_followup = FollowUpFactory(account=d.sibling)
    d.mine_followup = FollowUpFactory(account=d.mine)
    return d


# Visibility


@pytest.mark.parametrize(
    "who, expected",
    [
        ("rep_a", {"mine", "pool_a"}),
        ("rep_b", {"sibling", "pool_b"}),
        ("sup_a", {"mine", "below", "pool_a"}),
        ("east_mgr", {"mine", "sibling", "below", "pool_a", "pool_b"}),
        ("admin", {"mine", "sibling", "below", "north", "pool_a", "pool_b"}),
    ],
)
def test_account_list_follows_the_visibility_rule(data, who, expected):
    client = client_as(getattr(data.org, who))
    assert ids(client.get("/api/v1/accounts/")) == {getattr(data, name).pk for name in expected}


def test_rep_never_sees_a_sibling_account_anywhere(data):
    client = client_as(data.org.rep_a)
    assert client.get(f"/api/v1/accounts/{data.sibling.pk}/").status_code == 404
    assert client.get(f"/api/v1/accounts/{data.sibling.pk}/timeline/").status_code == 404
    assert client.get(f"/api/v1/accounts/{data.sibling.pk}/score/").status_code == 404
    assert ids(client.get("/api/v1/accounts/", {"q": "华为"})) == {data.mine.pk}
    assert ids(client.get("/api/v1/accounts/", {"q": "hwzd"})) == set()
    assert ids(client.get("/api/v1/pool/")) == {data.pool_a.pk}
    assert data.sibling_contact.pk not in ids(client.get("/api/v1/contacts/"))
    assert client.get(f"/api/v1/contacts/{data.sibling_contact.pk}/").status_code == 404
    assert ids(client.get("/api/v1/interactions/")) == set()
    assert client.get(f"/api/v1/interactions/{data.sibling_interaction.pk}/").status_code == 404
    assert ids(client.get("/api/v1/follow-ups/")) == {data.mine_followup.pk}
    assert client.get(f"/api/v1/follow-ups/{data.sibling_followup.pk}/").status_code == 404
    assert ids(client.get("/api/v1/contacts/", {"account": data.sibling.pk})) == set()
    response = client.get("/api/v1/accounts/duplicates/", {"name": "华为终端有限公司"})
    assert response.json() == []
    claim = client.post(f"/api/v1/accounts/{data.pool_b.pk}/claim/")
    assert claim.status_code == 404
    update = client.patch(f"/api/v1/accounts/{data.sibling.pk}/", {"notes": "x"}, format="json")
    assert update.status_code == 404


def test_manager_sees_the_subtree(data):
    client = client_as(data.org.east_mgr)
    assert client.get(f"/api/v1/accounts/{data.sibling.pk}/").status_code == 200
    assert client.get(f"/api/v1/accounts/{data.north.pk}/").status_code == 404
    assert ids(client.get("/api/v1/pool/")) == {data.pool_a.pk, data.pool_b.pk}
    assert ids(client.get("/api/v1/accounts/", {"team": data.org.east_b.pk})) == {
        data.sibling.pk,
        data.pool_b.pk,
    }


def test_filter_by_invisible_owner_is_refused(data):
    client = client_as(data.org.rep_a)
    response = client.get("/api/v1/accounts/", {"owner": data.org.rep_b.pk})
    assert response.status_code == 400


def test_search_by_pinyin_phone_and_contact(data):
    client = client_as(data.org.rep_a)
    for query in ("hwjs", "huawei", "28780808", "zhangwei"):
        assert ids(client.get("/api/v1/accounts/", {"q": query})) == {data.mine.pk}, query
    assert ids(client.get("/api/v1/contacts/", {"q": "zw"})) == {data.mine_contact.pk}


def test_account_filters(data):
    it = IndustryFactory(code="it-software")
    tag = TagFactory(name="vip")
    Account.objects.filter(pk=data.mine.pk).update(
        industry=it, size_band=500, last_contacted_at=timezone.now() - timedelta(days=40)
    )
    data.below.tags.add(tag)
    client = client_as(data.org.sup_a)
    assert ids(client.get("/api/v1/accounts/", {"industry": it.pk})) == {data.mine.pk}
    assert ids(client.get("/api/v1/accounts/", {"min_size": 200})) == {data.mine.pk}
    assert ids(client.get("/api/v1/accounts/", {"tags": tag.pk})) == {data.below.pk}
    assert ids(client.get("/api/v1/accounts/", {"in_pool": "true"})) == {data.pool_a.pk}
    assert data.mine.pk in ids(client.get("/api/v1/accounts/", {"no_contact_days": 30}))
    recent = client.get("/api/v1/accounts/", {"last_contacted_after": "2000-01-01T00:00:00Z"})
    assert ids(recent) == {data.mine.pk}
    ordered = client.get("/api/v1/accounts/", {"ordering": "name"}).json()["results"]
    assert [row["name"] for row in ordered] == sorted(row["name"] for row in ordered)


# Writes


def test_create_account_defaults_owner_and_refuses_owner_outside_visible_set(data):
    client = client_as(data.org.sup_a)
    created = client.post("/api/v1/accounts/", {"name": "New Co"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == data.org.sup_a.pk
    for_rep = client.post(
        "/api/v1/accounts/", {"name": "Rep Co", "owner": data.org.rep_a1.pk}, format="json"
    )
    assert for_rep.status_code == 201
    outside = client.post(
        "/api/v1/accounts/", {"name": "Other Co", "owner": data.org.rep_b.pk}, format="json"
    )
    assert outside.status_code == 400
    assert "owner" in outside.json()
    assert not Account.objects.filter(name="Other Co").exists()


def test_reassign_outside_visible_set_is_400(data):
    client = client_as(data.org.sup_a)
    response = client.patch(
        f"/api/v1/accounts/{data.mine.pk}/", {"owner": data.org.rep_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert Account.objects.get(pk=data.mine.pk).owner == data.org.rep_a
    ok = client.post(f"/api/v1/accounts/{data.mine.pk}/reassign/", {"to_user": data.org.rep_a1.pk})
    assert ok.status_code == 200
    assert ok.json()["owner"] == data.org.rep_a1.pk


def test_rep_cannot_reassign_or_bulk_reassign(data):
    client = client_as(data.org.rep_a)
    response = client.post(
        "/api/v1/accounts/bulk-reassign/",
        {"accounts": [data.mine.pk], "to_user": data.org.rep_a.pk},
        format="json",
    )
    assert response.status_code == 403


def test_bulk_reassign_and_tag_by_manager(data):
    client = client_as(data.org.east_mgr)
    tag = TagFactory(name="priority")
    body = {"accounts": [data.mine.pk, data.sibling.pk], "tags": [tag.pk]}
    assert client.post("/api/v1/accounts/bulk-tag/", body, format="json").json() == {"changed": 2}
    moved = client.post(
        "/api/v1/accounts/bulk-reassign/",
        {"accounts": [data.mine.pk, data.sibling.pk], "to_user": data.org.rep_east.pk},
        format="json",
    )
    assert moved.json() == {"changed": 2}
    invisible = client.post(
        "/api/v1/accounts/bulk-tag/",
        {"accounts": [data.north.pk], "tags": [tag.pk]},
        format="json",
    )
    assert invisible.status_code == 400


def test_duplicate_external_id_is_400_with_a_clear_message(data):
    client = client_as(data.org.rep_a)
    Account.objects.filter(pk=data.mine.pk).update(external_id="ERP-7")
    response = client.post(
        "/api/v1/accounts/",
        {"name": "Else", "external_id": "ERP-7"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["external_id"] == ["An account with this external id already exists."]
    assert not Account.objects.filter(name="Else").exists()


def test_duplicate_name_offers_the_existing_record(data):
    client = client_as(data.org.rep_a)
    response = client.post("/api/v1/accounts/", {"name": "华为技术有限公司"}, format="json")
    assert response.status_code == 400
    assert [row["id"] for row in response.json()["duplicates"]] == [data.mine.pk]
    forced = client.post(
        "/api/v1/accounts/", {"name": "华为技术有限公司", "allow_duplicate": True}, format="json"
    )
    assert forced.status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Bad", "email": "not-an-email"}, "email"),
        ({"name": "Bad", "phone": "call me maybe"}, "phone"),
        ({"name": "Bad", "industry": 999999}, "industry"),
        ({"name": "Bad", "status": "friend"}, "status"),
        ({"name": ""}, "name"),
        ({}, "name"),
    ],
)
def test_bad_account_input_is_400_and_writes_nothing(data, body, field):
    before = Account.all_objects.count()
    response = client_as(data.org.rep_a).post("/api/v1/accounts/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Account.all_objects.count() == before


def test_inactive_industry_is_refused(data):
    industry = IndustryFactory(active=False)
    response = client_as(data.org.rep_a).post(
        "/api/v1/accounts/", {"name": "X", "industry": industry.pk}, format="json"
    )
    assert response.status_code == 400 and "industry" in response.json()


def test_contact_crud_and_bad_input(data):
    client = client_as(data.org.rep_a)
    bad = client.post(
        "/api/v1/contacts/",
        {"account": data.mine.pk, "name": "A", "email": "nope", "mobile": "x"},
        format="json",
    )
    assert bad.status_code == 400 and {"email", "mobile"} <= set(bad.json())
    on_sibling = client.post(
        "/api/v1/contacts/", {"account": data.sibling.pk, "name": "A"}, format="json"
    )
    assert on_sibling.status_code == 400
    created = client.post(
        "/api/v1/contacts/",
        {"account": data.mine.pk, "name": "李娜", "is_primary": True, "mobile": "13700001111"},
        format="json",
    )
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    assert (
        client.patch(f"/api/v1/contacts/{contact_id}/", {"title": "CTO"}, format="json").json()[
            "title"
        ]
        == "CTO"
    )
    assert client.delete(f"/api/v1/contacts/{contact_id}/").status_code == 204
    assert Contact.all_objects.get(pk=contact_id).deleted_at is not None


def test_interaction_with_next_step_creates_followup(data):
    client = client_as(data.org.rep_a)
    due = (timezone.now() + timedelta(days=1)).isoformat()
    response = client.post(
        "/api/v1/interactions/",
        {
            "account": data.mine.pk,
            "contact": data.mine_contact.pk,
            "kind": "visit",
            "subject": "Site visit",
            "summary": "Met the CTO",
            "next_step": "Send proposal",
            "next_step_due": due,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert interaction.logged_by == data.org.rep_a
    assert FollowUp.objects.filter(interaction=interaction, assignee=data.org.rep_a).exists()
    assert Account.objects.get(pk=data.mine.pk).last_contacted_at is not None
    sibling_contact = client.post(
        "/api/v1/interactions/",
        {"account": data.mine.pk, "contact": data.sibling_contact.pk, "subject": "x"},
        format="json",
    )
    assert sibling_contact.status_code == 400


def test_followup_actions(data):
    client = client_as(data.org.rep_a)
    fid = data.mine_followup.pk
    snoozed = client.post(f"/api/v1/follow-ups/{fid}/snooze/", {"days": 2}, format="json")
    assert snoozed.status_code == 200
    done = client.post(f"/api/v1/follow-ups/{fid}/complete/")
    assert done.json()["status"] == "done"
    again = client.post(f"/api/v1/follow-ups/{fid}/complete/")
    assert again.status_code == 400
    assert client.post(f"/api/v1/follow-ups/{data.sibling_followup.pk}/complete/").status_code == (
        404
    )
    outside = client.post(
        "/api/v1/follow-ups/",
        {
            "account": data.mine.pk,
            "title": "x",
            "due_at": timezone.now().isoformat(),
            "assignee": data.org.rep_b.pk,
        },
        format="json",
    )
    assert outside.status_code == 400 and "assignee" in outside.json()


def test_release_and_claim(data):
    rep = client_as(data.org.rep_a)
    released = rep.post(f"/api/v1/accounts/{data.mine.pk}/release/", {"reason": "not a fit"})
    assert released.status_code == 200
    assert data.mine.pk in ids(client_as(data.org.sup_a).get("/api/v1/pool/"))
    cooling = rep.post(f"/api/v1/accounts/{data.mine.pk}/claim/")
    assert cooling.status_code == 400
    claimed = client_as(data.org.sup_a).post(f"/api/v1/accounts/{data.mine.pk}/claim/")
    assert claimed.status_code == 200
    assert claimed.json()["owner"] == data.org.sup_a.pk
    timeline = client_as(data.org.sup_a).get(f"/api/v1/accounts/{data.mine.pk}/timeline/")
    kinds = [entry["detail"].get("type") for entry in timeline.json() if entry["kind"] == "event"]
    assert "released" in kinds and "claimed" in kinds


def test_the_timeline_describes_each_entry_newest_first(data):
    now = timezone.now()
    interaction = InteractionFactory(
        account=data.mine,
        contact=data.mine_contact,
        kind=Interaction.Kind.VISIT,
        occurred_at=now - timedelta(days=2),
        subject="Site visit",
        summary="Walked the line",
        outcome=Interaction.Outcome.POSITIVE,
        next_step="Send quote",
    )
    data.mine_followup.due_at = now + timedelta(days=1)
    data.mine_followup.note = "Bring samples"
    data.mine_followup.save()
    event = AccountEvent.objects.create(
        account=data.mine, kind=AccountEvent.Kind.REASSIGNED, actor=data.org.sup_a
    )
    event.created_at = now - timedelta(days=1)
    event.detail = {"from": data.org.rep_b.pk, "to": data.org.rep_a.pk}
    event.save()

    response = client_as(data.org.rep_a).get(
        f"/api/v1/accounts/{data.mine.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    rows = response.json()
    assert [(row["kind"], row["id"]) for row in rows] == [
        ("follow_up", data.mine_followup.pk),
        ("event", event.pk),
        ("interaction", interaction.pk),
    ]
    followup, reassigned, visit = rows
    assert followup["title"] == data.mine_followup.title
    assert followup["by"] == data.org.rep_a.pk
    assert followup["by_name"] == data.org.rep_a.display_name
    assert followup["detail"] == {"status": "open", "priority": 2, "note": "Bring samples"}
    assert reassigned["title"] == "Reassigned"
    assert reassigned["by"] == data.org.sup_a.pk
    assert reassigned["by_name"] == data.org.sup_a.display_name
    assert reassigned["detail"] == {
        "type": "reassigned",
        "from": data.org.rep_b.pk,
        "to": data.org.rep_a.pk,
    }
    assert visit["title"] == "Site visit"
    assert visit["by"] == data.org.rep_a.pk
    assert datetime.fromisoformat(visit["at"]) == interaction.occurred_at
    assert visit["detail"] == {
        "type": "visit",
        "outcome": "positive",
        "summary": "Walked the line",
        "next_step": "Send quote",
        "contact_name": data.mine_contact.name,
    }


def test_an_account_without_history_has_an_empty_timeline(data):
    client = client_as(data.org.rep_a)
    assert client.get(f"/api/v1/accounts/{data.pool_a.pk}/timeline/").json() == []
    assert client.get(f"/api/v1/accounts/{data.pool_b.pk}/timeline/").status_code == 404


def test_merge_via_api(data):
    other = AccountFactory(owner=data.org.rep_a1, name="Dup")
    client = client_as(data.org.sup_a)
    response = client.post(
        f"/api/v1/accounts/{data.mine.pk}/merge/", {"merged": other.pk}, format="json"
    )
    assert response.status_code == 200
    assert not Account.objects.filter(pk=other.pk).exists()
    rep = client_as(data.org.rep_a)
    refused = rep.post(
        f"/api/v1/accounts/{data.mine.pk}/merge/", {"merged": data.pool_a.pk}, format="json"
    )
    assert refused.status_code == 403


def test_score_explanation(data):
    response = client_as(data.org.rep_a).get(f"/api/v1/accounts/{data.mine.pk}/score/")
    assert response.status_code == 200
    assert set(response.json()) == {"score", "tier", "results"}


def test_tombstones_with_include_deleted_and_updated_after(data):
    client = client_as(data.org.rep_a)
    since = timezone.now()
    services.account_delete(by=data.org.rep_a, account=data.mine)
    plain = client.get("/api/v1/accounts/", {"updated_after": since.isoformat()})
    assert ids(plain) == set()
    synced = client.get(
        "/api/v1/accounts/", {"updated_after": since.isoformat(), "include_deleted": "1"}
    ).json()["results"]
    assert synced == [
        {
            "id": data.mine.pk,
            "deleted": True,
            "deleted_at": synced[0]["deleted_at"],
            "updated_at": synced[0]["updated_at"],
        }
    ]
    contacts = client.get(
        "/api/v1/contacts/", {"updated_after": since.isoformat(), "include_deleted": "1"}
    ).json()["results"]
    assert [(row["id"], row["deleted"]) for row in contacts] == [(data.mine_contact.pk, True)]
    sibling = client_as(data.org.rep_b).get(
        "/api/v1/accounts/", {"updated_after": since.isoformat(), "include_deleted": "1"}
    )
    assert ids(sibling) == set()


def test_lookups_are_read_by_all_and_written_by_admins(data):
    rep = client_as(data.org.rep_a)
    industries = rep.get("/api/v1/industries/")
    assert industries.status_code == 200
    assert any(row["code"] == "manufacturing" for row in industries.json())
    assert rep.get("/api/v1/regions/").status_code == 200
    assert rep.post("/api/v1/industries/", {"code": "x", "name": "X"}).status_code == 403
    admin = client_as(data.org.admin)
    created = admin.post("/api/v1/industries/", {"code": "mining", "name": "Mining"})
    assert created.status_code == 201
    used = Industry.objects.get(code="manufacturing")
    Account.objects.filter(pk=data.mine.pk).update(industry=used)
    assert admin.delete(f"/api/v1/industries/{used.pk}/").status_code == 204
    used.refresh_from_db()
    assert not used.active


def test_tags_anyone_adds_admin_renames(data):
    rep = client_as(data.org.rep_a)
    created = rep.post("/api/v1/tags/", {"name": "hot", "colour": "#ff0000"})
    assert created.status_code == 201
    assert rep.post("/api/v1/tags/", {"name": "bad", "colour": "red"}).status_code == 400
    tag_id = created.json()["id"]
    assert rep.patch(f"/api/v1/tags/{tag_id}/", {"name": "cold"}).status_code == 403
    assert (
        client_as(data.org.admin).patch(f"/api/v1/tags/{tag_id}/", {"name": "cold"}).json()["name"]
        == "cold"
    )


def test_schema_documents_the_customer_endpoints(data):
    schema = client_as(data.org.rep_a).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/accounts/",
        "/api/v1/accounts/{id}/claim/",
        "/api/v1/accounts/{id}/release/",
        "/api/v1/pool/",
        "/api/v1/follow-ups/{id}/snooze/",
        "/api/v1/industries/",
    ):
        assert path in schema["paths"], path
    parameters = {p["name"] for p in schema["paths"]["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"include_deleted", "updated_after", "q", "no_contact_days"} <= parameters


# Query counts


def _rows_for(org, kind):
    def add(count):
        tags = [TagFactory(name=f"t{n}") for n in range(2)]
        for _ in range(count):
            account = AccountFactory(owner=org.rep_a, tags=tags)
            if kind == "pool":
                Account.objects.filter(pk=account.pk).update(owner=None)
            elif kind == "contacts":
                ContactFactory(account=account)
            elif kind == "interactions":
                InteractionFactory(account=account, contact=ContactFactory(account=account))
            elif kind == "follow-ups":
                FollowUpFactory(account=account)

    return add


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/api/v1/accounts/", "accounts"),
        ("/api/v1/accounts/?include_deleted=1", "accounts"),
        ("/api/v1/pool/", "pool"),
        ("/api/v1/contacts/", "contacts"),
        ("/api/v1/interactions/", "interactions"),
        ("/api/v1/follow-ups/", "follow-ups"),
        ("/api/v1/tags/", "tags"),
    ],
)
@pytest.mark.parametrize("who", ["rep_a", "east_mgr"])
def test_list_query_counts_are_constant(org, path, kind, who):
    client = client_as(getattr(org, who))
    assert_constant_queries(_rows_for(org, kind), lambda: client.get(path))


@pytest.mark.parametrize(
    "path, factory", [("/api/v1/industries/", IndustryFactory), ("/api/v1/regions/", RegionFactory)]
)
def test_lookup_lists_are_constant(org, path, factory):
    client = client_as(org.rep_a)

    def add(count):
        for _ in range(count):
            factory()

    assert_constant_queries(add, lambda: client.get(path))


def test_account_detail_timeline_and_score_queries_are_constant(org):
    client = client_as(org.rep_a)
    account = AccountFactory(owner=org.rep_a)
    LeadScoringRuleFactory(
        field="recent_interactions", operator="each", value="", window_days=30, points=1
    )

    def add(count):
        for _ in range(count):
            contact = ContactFactory(account=account)
            InteractionFactory(account=account, contact=contact)
            FollowUpFactory(account=account, contact=contact)
            account.tags.add(TagFactory())

    for suffix in ("", "timeline/", "score/"):
        account.interactions.all().delete()
        assert_constant_queries(
            add, lambda s=suffix: client.get(f"/api/v1/accounts/{account.pk}/{s}")
        )


def test_picker_search_endpoints(data):
    client = client_as(data.org.rep_a)
    accounts = client.get("/api/v1/accounts/search/", {"q": "hw"})
    assert [row["id"] for row in accounts.json()] == [data.mine.pk]
    contacts = client.get("/api/v1/contacts/search/", {"q": "zhang"})
    assert [row["id"] for row in contacts.json()] == [data.mine_contact.pk]
    assert client.get("/api/v1/contacts/search/", {"q": "sibling"}).json() == []
    assert client.get("/api/v1/accounts/search/").status_code == 400
