"""Contests ranked live and their winners recorded, awards granted once at period end or by
a manager, kudos on the team wall with the recipient told."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incentives import selectors, services
from incentives.models import Award, Contest, Kudos, RecognitionSettings
from teams.models import Notification
from tests.incentives.factories import won_deal
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

D = Decimal
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def contest(org, **fields):
    fields.setdefault("name", "Spring push")
    fields.setdefault("start", dt.date(2026, 3, 1))
    fields.setdefault("end", dt.date(2026, 3, 31))
    fields.setdefault("prizes", "A weekend in Sanya")
    people = fields.pop("participants", [org.rep_a, org.rep_a1, org.rep_a1x])
    return services.contest_create(by=org.sup_a, participants=people, metric="revenue", **fields)


def test_contest_ranking_is_live_and_winners_become_awards_once(org):
    spring = contest(org)
    won_deal(org.rep_a1, "500", dt.date(2026, 3, 5))
    won_deal(org.rep_a, "300", dt.date(2026, 3, 6))
    won_deal(org.rep_a, "200", dt.date(2026, 3, 7))
    won_deal(org.rep_a, "999", dt.date(2026, 4, 1))  # after the contest

    ranking = selectors.contest_ranking(spring, on=dt.date(2026, 3, 6))
    assert [(row["user"].username, row["value"], row["rank"]) for row in ranking] == [
        ("rep_a1", D("500.00"), 1),
        ("rep_a", D("300.00"), 2),
        ("rep_a1x", D("0"), 3),
    ]
    final = selectors.contest_ranking(spring)
    assert [(row["user"].username, row["rank"]) for row in final][:2] == [
        ("rep_a", 1),
        ("rep_a1", 1),
    ]

    assert services.awards_grant(on=dt.date(2026, 4, 2)) >= 2
    winners = Award.objects.filter(contest=spring)
    assert sorted(winners.values_list("user__username", flat=True)) == ["rep_a", "rep_a1"]
    assert Contest.objects.get(pk=spring.pk).finalized_at is not None
    assert services.awards_grant(on=dt.date(2026, 4, 2)) == 0


def test_contest_needs_a_manager_and_visible_participants(org):
    with pytest.raises(PermissionDenied):
        services.contest_create(
            by=org.rep_a,
            participants=[org.rep_a],
            name="x",
            start=dt.date(2026, 1, 1),
            end=dt.date(2026, 1, 31),
        )
    with pytest.raises(ValidationError) as error:
        contest(org, participants=[org.rep_b])
    assert "participants" in error.value.message_dict
    with pytest.raises(ValidationError):
        contest(org, end=dt.date(2026, 2, 1))


def test_period_awards_top_seller_champion_long_service(org):
    won_deal(org.rep_b, "9000", dt.date(2026, 3, 10))
    won_deal(org.rep_north, "5000", dt.date(2026, 2, 10))
    won_deal(org.rep_north, "5000", dt.date(2026, 1, 10))
    org.rep_east.hire_date = dt.date(2021, 4, 1)
    org.rep_east.save()
    RecognitionSettings.objects.update_or_create(pk=1, defaults={"long_service_years": 5})

    services.awards_grant(on=dt.date(2026, 4, 1))

    kinds = dict(Award.objects.values_list("kind", "user__username"))
    assert kinds["top_seller_month"] == "rep_b"  # March
    assert kinds["top_seller_quarter"] == "rep_north"  # 10,000 in Q1
    assert kinds["long_service"] == "rep_east"
    assert kinds["new_customer_champion"] == "rep_north"  # two new accounts won in Q1
    assert Notification.objects.filter(recipient=org.rep_b, kind="award").exists()
    count = Award.objects.count()
    services.awards_grant(on=dt.date(2026, 4, 3))
    assert Award.objects.count() == count


def test_manager_grants_awards_by_hand(org):
    award = services.award_grant(
        by=org.sup_a, user=org.rep_a, kind="teamwork", title="Helped the whole squad"
    )
    assert award.granted_by == org.sup_a
    with pytest.raises(PermissionDenied):
        services.award_grant(by=org.rep_a, user=org.rep_a1, kind="teamwork", title="x")
    with pytest.raises(ValidationError):
        services.award_grant(by=org.sup_a, user=org.rep_b, kind="teamwork", title="x")
    with pytest.raises(ValidationError):
        services.award_grant(by=org.sup_a, user=org.rep_a, kind="teamwork", title=" ")


def test_kudos_tell_the_recipient_and_show_on_the_team_wall(org):
    services.kudos_give(by=org.rep_b, recipient=org.rep_a, message="Thanks for the demo!")
    assert Notification.objects.filter(recipient=org.rep_a, kind="kudos").exists()
    with pytest.raises(ValidationError):
        services.kudos_give(by=org.rep_a, recipient=org.rep_a, message="Me!")
    with pytest.raises(ValidationError):
        services.kudos_give(by=org.rep_a, recipient=org.rep_b, message="")
    assert selectors.kudos_list(viewer=org.sup_a).count() == 1  # their subtree
    assert selectors.kudos_list(viewer=org.rep_b).count() == 1  # they gave it
    assert selectors.kudos_list(viewer=org.rep_a).count() == 1  # theirs
    assert selectors.kudos_list(viewer=org.rep_north).count() == 0


def test_recognition_pages(org, client_for):
    spring = contest(org)
    rep = client_for(org.rep_a)
    page = rep.get(reverse("incentives:recognition"), **EN)
    assert page.status_code == 200 and "Grant an award" not in page.content.decode()
    sent = rep.post(
        reverse("incentives:recognition"),
        {"action": "kudos", "recipient": org.rep_a1.pk, "message": "Great call"},
    )
    assert sent.status_code == 302 and Kudos.objects.count() == 1
    refused = rep.post(
        reverse("incentives:recognition"),
        {"action": "award", "user": org.rep_a1.pk, "kind": "teamwork", "title": "x"},
    )
    assert refused.status_code == 403
    manager = client_for(org.sup_a)
    granted = manager.post(
        reverse("incentives:recognition"),
        {"action": "award", "user": org.rep_a1.pk, "kind": "teamwork", "title": "Team player"},
    )
    assert granted.status_code == 302 and Award.objects.filter(granted_by=org.sup_a).exists()
    detail = rep.get(reverse("incentives:contest_detail", args=[spring.pk]), **EN)
    assert detail.status_code == 200 and str(org.rep_a1x) in detail.content.decode()
    assert (
        client_for(org.rep_b)
        .get(reverse("incentives:contest_detail", args=[spring.pk]))
        .status_code
        == 404
    )
    made = manager.post(
        reverse("incentives:contest_list"),
        {
            "name": "April",
            "metric": "won_deals",
            "start": "2026-04-01",
            "end": "2026-04-30",
            "participants": [org.rep_a.pk, org.rep_a1.pk],
        },
    )
    assert made.status_code == 302
    assert rep.post(reverse("incentives:contest_list"), {"name": "x"}).status_code == 403


def test_recognition_api(org, token_client):
    spring = contest(org)
    rep = token_client(org.rep_a)
    assert rep.get(f"/api/v1/contests/{spring.pk}/ranking/").status_code == 200
    assert token_client(org.rep_b).get(f"/api/v1/contests/{spring.pk}/").status_code == 404
    assert rep.post("/api/v1/contests/", {"name": "x"}).status_code in (400, 403)
    bad = token_client(org.sup_a).post(
        "/api/v1/contests/",
        {"name": "x", "start": "2026-05-01", "end": "2026-04-01", "participants": [org.rep_a.pk]},
    )
    assert bad.status_code == 400 and "end" in bad.json()
    kudos = rep.post("/api/v1/kudos/", {"recipient": org.rep_b.pk, "message": "Thanks"})
    assert kudos.status_code == 201 and kudos.json()["sender"] == org.rep_a.pk
    empty = rep.post("/api/v1/kudos/", {"recipient": org.rep_b.pk, "message": ""})
    assert empty.status_code == 400 and "message" in empty.json()
    award = token_client(org.sup_a).post(
        "/api/v1/awards/", {"user": org.rep_a.pk, "kind": "teamwork", "title": "Team player"}
    )
    assert award.status_code == 201
    outside = token_client(org.sup_a).post(
        "/api/v1/awards/", {"user": org.rep_b.pk, "kind": "teamwork", "title": "x"}
    )
    assert outside.status_code == 400 and "user" in outside.json()
    assert rep.get("/api/v1/awards/").json()["count"] == 1


def test_recognition_lists_query_counts_are_constant(org, client_for, token_client):
    def add(count):
        for _index in range(count):
            Kudos.objects.create(sender=org.rep_a1, recipient=org.rep_a, message="Thanks")
            Award.objects.create(user=org.rep_a, kind="teamwork", title="t", granted_by=org.sup_a)

    web = client_for(org.sup_a)
    assert_constant_queries(add, lambda: web.get(reverse("incentives:recognition")))
    api = token_client(org.sup_a)
    assert_constant_queries(add, lambda: api.get("/api/v1/kudos/"))
    assert_constant_queries(add, lambda: api.get("/api/v1/awards/"))

    def add_contests(count):
        for index in range(count):
            services.contest_create(
                by=org.sup_a,
                participants=[org.rep_a, org.rep_a1],
                name=f"c{index}",
                start=dt.date(2026, 1, 1),
                end=dt.date(2026, 1, 31),
            )

    assert_constant_queries(add_contests, lambda: api.get("/api/v1/contests/"))
    assert_constant_queries(add_contests, lambda: web.get(reverse("incentives:contest_list")))
