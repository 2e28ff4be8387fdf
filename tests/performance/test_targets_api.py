"""The targets API and the attainment and leaderboard reports: visibility (a rep sees only
their own targets, a manager the subtree, 404 otherwise), writes, decomposition with
hand-edit protection, bad input as 400 with field messages, and constant query counts."""

import datetime as dt
from decimal import Decimal as D

import pytest

from performance.models import Target
from tests.factories import RepFactory
from tests.performance.factories import target, won_deal
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

MAY = dt.date(2026, 5, 1)


@pytest.fixture
def targets(org):
    return {
        "rep_a": target(org.head, user=org.rep_a, period_type="month", start=MAY),
        "rep_a1x": target(org.head, user=org.rep_a1x, period_type="month", start=MAY),
        "rep_b": target(org.head, user=org.rep_b, period_type="month", start=MAY),
        "rep_north": target(org.head, user=org.rep_north, period_type="month", start=MAY),
        "east_a": target(org.head, team=org.east_a, period_type="quarter", start=MAY),
        "east": target(org.head, team=org.east, period_type="year", start=MAY),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_rep_sees_only_their_own_targets(org, targets, token_client):
    client = token_client(org.rep_a)
    assert ids(client.get("/api/v1/targets/")) == {targets["rep_a"].pk}
    for other in ("rep_b", "east_a", "east"):
        assert client.get(f"/api/v1/targets/{targets[other].pk}/").status_code == 404


def test_a_manager_sees_the_subtree(org, targets, token_client):
    client = token_client(org.sup_a)
    assert ids(client.get("/api/v1/targets/")) == {
        targets["rep_a"].pk,
        targets["rep_a1x"].pk,
        targets["east_a"].pk,
    }
    assert client.get(f"/api/v1/targets/{targets['rep_b'].pk}/").status_code == 404
    assert client.get(f"/api/v1/targets/{targets['east'].pk}/").status_code == 404
    assert len(ids(token_client(org.admin).get("/api/v1/targets/"))) == 6


def test_filters(org, targets, token_client):
    client = token_client(org.east_mgr)
    assert ids(client.get("/api/v1/targets/", {"scope": "team"})) == {
        targets["east_a"].pk,
        targets["east"].pk,
    }
    assert ids(client.get("/api/v1/targets/", {"period_type": "year"})) == {targets["east"].pk}
    assert ids(client.get("/api/v1/targets/", {"user": org.rep_b.pk})) == {targets["rep_b"].pk}
    assert ids(client.get("/api/v1/targets/", {"on": "2026-06-15"})) == {
        targets["east_a"].pk,
        targets["east"].pk,
    }
    assert client.get("/api/v1/targets/", {"user": org.rep_north.pk}).status_code == 400
    assert client.get("/api/v1/targets/", {"metric": "profit"}).status_code == 400


def test_create_update_and_delete(org, token_client):
    client = token_client(org.sup_a)
    response = client.post(
        "/api/v1/targets/",
        {
            "period_type": "quarter",
            "start": "2026-05-20",
            "user": org.rep_a.pk,
            "metric": "won_deals",
            "value": "12",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["start"], body["end"], body["hand_edited"]) == ("2026-04-01", "2026-06-30", False)
    created = Target.objects.get(pk=body["id"])
    assert created.created_by == org.sup_a
    response = client.patch(f"/api/v1/targets/{created.pk}/", {"value": "15"}, format="json")
    assert response.status_code == 200
    assert response.json()["hand_edited"] is True and response.json()["difference"] is None
    response = client.patch(f"/api/v1/targets/{created.pk}/", {"metric": "revenue"}, format="json")
    assert response.status_code == 400 and "metric" in response.json()
    assert client.delete(f"/api/v1/targets/{created.pk}/").status_code == 204
    assert not Target.objects.filter(pk=created.pk).exists()


def test_reps_read_but_do_not_write(org, targets, token_client):
    client = token_client(org.rep_a)
    mine = targets["rep_a"]
    assert (
        client.patch(f"/api/v1/targets/{mine.pk}/", {"value": "1"}, format="json").status_code
        == 403
    )
    response = client.post(
        "/api/v1/targets/",
        {
            "period_type": "month",
            "start": "2026-05-01",
            "user": org.rep_a.pk,
            "metric": "revenue",
            "value": "1",
        },
        format="json",
    )
    assert response.status_code == 400 and "user" in response.json()
    assert Target.objects.get(pk=mine.pk).value == D("1000.00")


def test_bad_input_is_400_with_field_messages_and_changes_nothing(org, token_client):
    client = token_client(org.sup_a)
    before = Target.objects.count()
    cases = [
        (
            {
                "period_type": "month",
                "start": "2026-05-01",
                "user": org.rep_north.pk,
                "metric": "revenue",
                "value": "1",
            },
            "user",
        ),  # out of sight
        (
            {
                "period_type": "month",
                "start": "2026-05-01",
                "user": org.rep_a.pk,
                "metric": "revenue",
                "value": "-1",
            },
            "value",
        ),
        (
            {
                "period_type": "decade",
                "start": "2026-05-01",
                "user": org.rep_a.pk,
                "metric": "revenue",
                "value": "1",
            },
            "period_type",
        ),
        (
            {
                "period_type": "month",
                "start": "soon",
                "user": org.rep_a.pk,
                "metric": "revenue",
                "value": "1",
            },
            "start",
        ),
        (
            {"period_type": "month", "start": "2026-05-01", "metric": "revenue", "value": "1"},
            "user",
        ),
    ]
    for body, field in cases:
        response = client.post("/api/v1/targets/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), (field, response.json())
    assert Target.objects.count() == before


def test_decompose_endpoint_with_hand_edit_protection(org, token_client):
    client = token_client(org.east_mgr)
    quarter = target(org.head, team=org.east_b, period_type="quarter", start=MAY, value=D("90"))
    RepFactory(username="rep_b2", team=org.east_b)
    url = f"/api/v1/targets/{quarter.pk}/decompose/"
    response = client.post(url, {"split": "team"}, format="json")
    assert response.status_code == 200, response.content
    people = response.json()
    assert sorted(row["value"] for row in people) == ["45.00", "45.00"]
    first = people[0]["id"]
    response = client.patch(f"/api/v1/targets/{first}/", {"value": "50"}, format="json")
    assert response.json()["difference"] == {
        "parent": quarter.pk,
        "parent_value": "90.00",
        "children_total": "95.00",
        "difference": "5.00",
    }
    response = client.post(url, {"split": "team"}, format="json")
    assert response.status_code == 400 and "overwrite" in response.json()
    assert Target.objects.get(pk=first).value == D("50.00")
    response = client.post(url, {"split": "team", "overwrite": True}, format="json")
    assert response.status_code == 200
    assert Target.objects.get(pk=first).value == D("45.00")
    for body, field in (
        ({"mode": "random"}, "mode"),
        ({"mode": "manual"}, "weights"),
        ({"mode": "manual", "weights": {"2026-04-01": 1}}, "weights"),
        ({"mode": "manual", "weights": {"2026-04-01": -1}}, "weights"),
        ({"split": "sideways"}, "split"),
    ):
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    response = client.post(
        url,
        {"mode": "manual", "weights": {"2026-04-01": 1, "2026-05-01": 1, "2026-06-01": 1}},
        format="json",
    )
    assert [row["value"] for row in response.json()] == ["30.00", "30.00", "30.00"]
    other = target(org.head, team=org.north, period_type="quarter", start=MAY)
    assert (
        client.post(f"/api/v1/targets/{other.pk}/decompose/", {}, format="json").status_code == 404
    )


def test_copy_last_year_endpoint(org, token_client):
    client = token_client(org.sup_a)
    target(org.head, user=org.rep_a, period_type="month", start=dt.date(2025, 5, 1), value=D("7"))
    this = target(org.head, user=org.rep_a, period_type="month", start=MAY, value=D("1"))
    response = client.post(f"/api/v1/targets/{this.pk}/copy-last-year/", {}, format="json")
    assert response.status_code == 200 and response.json()["value"] == "7.00"
    lonely = target(org.head, user=org.rep_a1, period_type="month", start=MAY)
    response = client.post(f"/api/v1/targets/{lonely.pk}/copy-last-year/", {}, format="json")
    assert response.status_code == 400 and "start" in response.json()


def test_attainment_report(org, token_client):
    won_deal(org.rep_a, 5000, dt.date(2026, 5, 6))
    target(org.head, user=org.rep_a, period_type="month", start=MAY, value=D("19000"))
    target(org.head, team=org.east_a, period_type="month", start=MAY, value=D("30000"))
    client = token_client(org.sup_a)
    response = client.get(
        "/api/v1/reports/attainment/",
        {
            "scope": "team",
            "team": org.east_a.pk,
            "metric": "revenue",
            "period": "month",
            "on": "2026-05-12",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["actual"], body["target"], body["expected"]) == ("5000.00", "30000.00", "9473.68")
    assert (body["working_days"], body["elapsed_working_days"]) == (19, 6)
    assert body["rows"][0] == {
        "kind": "user",
        "id": org.rep_a.pk,
        "name": str(org.rep_a),
        "actual": "5000.00",
        "target": "19000.00",
        "percent": "26.3",
        "expected": "6000.00",
        "pace_percent": "83.3",
        "behind": True,
    }
    rep = token_client(org.rep_a)
    assert (
        rep.get("/api/v1/reports/attainment/", {"scope": "team", "team": org.east_a.pk}).status_code
        == 404
    )
    assert (
        rep.get("/api/v1/reports/attainment/", {"scope": "rep", "user": org.rep_b.pk}).status_code
        == 404
    )
    response = rep.get("/api/v1/reports/attainment/", {"metric": "profit", "period": "decade"})
    assert response.status_code == 400 and {"metric", "period"} <= set(response.json())
    mine = rep.get("/api/v1/reports/attainment/", {"on": "2026-05-12"}).json()
    assert mine["target"] == "19000.00" and mine["rows"] == []


def test_leaderboard_report(org, token_client):
    won_deal(org.rep_a, 5000, dt.date(2026, 5, 6))
    won_deal(org.rep_a1, 6000, dt.date(2026, 5, 11))
    response = token_client(org.sup_a).get(
        "/api/v1/reports/leaderboard/", {"metric": "revenue", "period": "month", "on": "2026-05-12"}
    )
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert [(r["user"]["id"], r["rank"], r["rank_change"]) for r in rows[:2]] == [
        (org.rep_a1.pk, 1, 0),
        (org.rep_a.pk, 2, -1),
    ]
    assert {r["user"]["id"] for r in rows} <= {
        org.sup_a.pk,
        org.rep_a.pk,
        org.lead_a1.pk,
        org.rep_a1.pk,
        org.lead_a1x.pk,
        org.rep_a1x.pk,
    }
    bad = token_client(org.sup_a).get("/api/v1/reports/leaderboard/", {"on": "yesterday"})
    assert bad.status_code == 400 and "on" in bad.json()


def test_target_list_queries_do_not_grow(org, token_client):
    client = token_client(org.east_mgr)
    made = []

    def add(count):
        for _n in range(count):
            start = dt.date(2020, 1, 1) + dt.timedelta(weeks=len(made))
            made.append(target(org.head, user=org.rep_a, period_type="week", start=start))

    assert_constant_queries(add, lambda: client.get("/api/v1/targets/"))


def test_leaderboard_and_attainment_queries_do_not_grow(org, token_client):
    client = token_client(org.east_mgr)
    people = []

    def add(count):
        for _n in range(count):
            person = RepFactory(team=org.east_b)
            people.append(person)
            won_deal(person, 100, dt.date(2026, 5, 6))
            target(org.head, user=person, period_type="month", start=MAY)

    query = {"on": "2026-05-12"}
    assert_constant_queries(add, lambda: client.get("/api/v1/reports/leaderboard/", query))
    team = {"scope": "team", "team": org.east_b.pk, **query}
    assert_constant_queries(
        lambda count: add(count), lambda: client.get("/api/v1/reports/attainment/", team)
    )
