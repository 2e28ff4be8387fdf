"""Review cycles and reviews through the API and the pages: each role's flow, visibility
(invisible is 404), bad input (400 with field messages, nothing changes) and constant query
counts on the lists."""

import datetime as dt

import pytest

from performance.models import Review, ReviewCycle
from tests.performance.reviews import AFTER_Q1, all_levels, open_cycle
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

VIEWERS = ["rep_a", "rep_a1", "lead_a1", "sup_a", "sup_b", "east_mgr", "north_mgr", "admin"]


@pytest.fixture
def after_q1(monkeypatch):
    """Pages and endpoints run on a day after 2026 Q1."""
    from performance import periods

    monkeypatch.setattr(periods, "today", lambda: AFTER_Q1)


def test_a_manager_runs_a_cycle_through_the_api(org, token_client, after_q1):
    api = token_client(org.east_mgr)
    body = {"name": "Q1", "kind": "quarterly", "start": "2026-01-01", "end": "2026-03-31"}
    created = api.post("/api/v1/review-cycles/", {**body, "team": org.east_a.pk}, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "draft" and len(data["kpis"]) == 7 and len(data["criteria"]) == 5
    pk = data["id"]
    opened = api.post(f"/api/v1/review-cycles/{pk}/open/")
    assert opened.json()["status"] == "open" and opened.json()["review_count"] == 6
    assert api.post(f"/api/v1/review-cycles/{pk}/fill-kpis/").status_code == 200
    assert Review.objects.filter(cycle_id=pk, kpis_filled_at__isnull=False).count() == 6
    closed = api.post(f"/api/v1/review-cycles/{pk}/close/")
    assert closed.json()["status"] == "closed"
    assert api.post(f"/api/v1/review-cycles/{pk}/open/").status_code == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"team": "north"}, "team"),
        (
            {
                "kpis": [{"kind": "attainment", "weight": 50, "target": "100"}],
                "criteria": [{"kind": "teamwork", "weight": 10}],
            },
            "weights",
        ),
        ({"kind": "weekly"}, "kind"),
        ({"end": "2025-12-01"}, "end"),
        (
            {
                "criteria": [{"kind": "teamwork", "weight": 100}],
                "kpis": [{"kind": "attainment", "weight": 1, "target": "-3"}],
            },
            "kpis",
        ),
    ],
)
def test_bad_cycles_are_400_with_field_messages(org, token_client, change, field):
    body = {
        "name": "Q1",
        "kind": "quarterly",
        "start": "2026-01-01",
        "end": "2026-03-31",
        "team": org.east_a.pk,
    }
    if change.get("team") == "north":
        change = {"team": org.north.pk}
    response = token_client(org.east_mgr).post(
        "/api/v1/review-cycles/", {**body, **change}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ReviewCycle.objects.exists()


def test_a_rep_cannot_make_a_cycle(org, token_client):
    body = {
        "name": "Q1",
        "kind": "quarterly",
        "start": "2026-01-01",
        "end": "2026-03-31",
        "team": org.east_a.pk,
    }
    assert (
        token_client(org.rep_a).post("/api/v1/review-cycles/", body, format="json").status_code
        == 403
    )
    assert not ReviewCycle.objects.exists()


@pytest.mark.parametrize("who", VIEWERS)
def test_reviews_are_visible_to_the_reviewee_and_their_managers_only(
    org, token_client, client_for, who
):
    made = open_cycle(org.east_mgr, org.east)
    viewer = getattr(org, who)
    api, browser = token_client(viewer), client_for(viewer)
    from teams.models import User

    visible = set(User.objects.visible_to(viewer).values_list("pk", flat=True))
    listed = {
        row["reviewee"] for row in api.get("/api/v1/reviews/?page_size=500").json()["results"]
    }
    expected = {
        review.reviewee_id for review in made.reviews.all() if review.reviewee_id in visible
    }
    assert listed == expected
    for review in made.reviews.all():
        status = 200 if review.reviewee_id in visible else 404
        assert api.get(f"/api/v1/reviews/{review.pk}/").status_code == status
        assert browser.get(f"/reviews/{review.pk}/").status_code == status
        if status == 404:
            assert api.post(f"/api/v1/reviews/{review.pk}/acknowledge/").status_code == 404
            assert browser.post(f"/reviews/{review.pk}/score/", {"submit": "1"}).status_code == 404
    cycle_status = (
        200 if who in {"rep_a", "rep_a1", "lead_a1", "sup_a", "sup_b", "east_mgr", "admin"} else 404
    )
    assert api.get(f"/api/v1/review-cycles/{made.pk}/").status_code == cycle_status
    assert browser.get(f"/reviews/cycles/{made.pk}/").status_code == cycle_status


def test_the_review_flow_through_the_api(org, token_client, after_q1):
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a)
    manager, rep = token_client(org.sup_a), token_client(org.rep_a)
    url = f"/api/v1/reviews/{review.pk}/"
    assert (
        rep.post(
            url + "submit/", {"criteria_scores": all_levels(made, 5)}, format="json"
        ).status_code
        == 403
    )
    draft = manager.patch(
        url, {"criteria_scores": {"teamwork": 4}, "strengths": "Calm"}, format="json"
    )
    assert draft.status_code == 200 and draft.json()["criteria_scores"] == {"teamwork": 4}
    missing = manager.post(url + "submit/", {"criteria_scores": {"teamwork": 4}}, format="json")
    assert missing.status_code == 400 and "criteria_scores" in missing.json()
    bad = manager.post(url + "submit/", {"criteria_scores": "high"}, format="json")
    assert bad.status_code == 400 and "criteria_scores" in bad.json()
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT
    submitted = manager.post(
        url + "submit/",
        {"criteria_scores": all_levels(made, 5), "strengths": "Calm"},
        format="json",
    )
    assert submitted.status_code == 200
    data = submitted.json()
    # rep_a has no target, deal or expense: only the criteria (30, all at level 5 = 100) and
    # the counts that are zero (new customers 10, interactions 5) are scored: 3000 / 45.
    assert data["status"] == "submitted" and data["overall_score"] == "66.67"
    assert data["breakdown"]["scored_weight"] == 45
    assert (
        rep.post(url + "acknowledge/", {"comment": "Thanks"}, format="json").json()["status"]
        == "acknowledged"
    )
    assert manager.post(url + "acknowledge/", {}, format="json").status_code == 403


def test_the_review_pages_for_each_role(org, client_for, after_q1):
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a)
    manager, rep = client_for(org.sup_a), client_for(org.rep_a)
    page = manager.get(f"/reviews/{review.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "score-breakdown" in page and 'name="score_teamwork"' in page
    assert 'name="score_teamwork"' not in rep.get(f"/reviews/{review.pk}/").content.decode()
    form = {f"score_{kind}": "3" for kind in all_levels(made, 3)}
    incomplete = manager.post(
        f"/reviews/{review.pk}/score/", {**form, "score_teamwork": "", "submit": "1"}
    )
    assert incomplete.status_code == 400
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT
    saved = manager.post(
        f"/reviews/{review.pk}/score/", {"score_teamwork": "2", "strengths": "Kind"}
    )
    assert saved.status_code == 302
    review.refresh_from_db()
    assert review.criteria_scores == {"teamwork": 2} and review.status == Review.Status.DRAFT
    assert manager.post(f"/reviews/{review.pk}/score/", {**form, "submit": "1"}).status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.SUBMITTED and review.overall_score is not None
    # The rep reads, comments and acknowledges.
    mine = rep.get("/reviews/mine/").content.decode()
    assert f"/reviews/{review.pk}/" in mine
    assert 'name="comment"' in rep.get(f"/reviews/{review.pk}/").content.decode()
    assert rep.post(f"/reviews/{review.pk}/acknowledge/", {"comment": "Fair"}).status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.ACKNOWLEDGED and review.reviewee_comment == "Fair"


def test_the_cycle_pages(org, client_for, after_q1):
    manager = client_for(org.east_mgr)
    assert manager.get("/reviews/cycles/new/").status_code == 200
    assert client_for(org.rep_a).get("/reviews/cycles/new/").status_code == 404
    form = {
        "name": "Q1",
        "kind": "quarterly",
        "start": "2026-01-01",
        "end": "2026-03-31",
        "team": org.east_b.pk,
        "kpi_attainment_weight": "40",
        "kpi_attainment_target": "100",
        "kpi_win_rate_weight": "30",
        "kpi_win_rate_target": "25",
        "criterion_teamwork_weight": "20",
        "criterion_attitude_weight": "5",
    }
    bad = manager.post("/reviews/cycles/new/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 200
    assert "add up to 95; they must add up to 100" in bad.content.decode()
    assert not ReviewCycle.objects.exists()
    response = manager.post("/reviews/cycles/new/", {**form, "criterion_attitude_weight": "10"})
    made = ReviewCycle.objects.get()
    assert response.status_code == 302
    assert sorted(k.kind for k in made.kpis.all()) == ["attainment", "win_rate"]
    assert made.kpis.get(kind="win_rate").target == 25
    manager.post(f"/reviews/cycles/{made.pk}/open/")
    made.refresh_from_db()
    assert made.status == ReviewCycle.Status.OPEN and made.reviews.count() == 2
    # sup_b sees the cycle but does not manage its team's parent: the buttons act for its
    # managers only.
    client_for(org.rep_b).post(f"/reviews/cycles/{made.pk}/close/")
    made.refresh_from_db()
    assert made.status == ReviewCycle.Status.OPEN
    manager.post(f"/reviews/cycles/{made.pk}/close/")
    made.refresh_from_db()
    assert made.status == ReviewCycle.Status.CLOSED


def _add_reviews(org):
    counter = iter(range(1000))

    def add(count):
        for _n in range(count):
            n = next(counter)
            cycle = ReviewCycle.objects.create(
                name=f"M{n}",
                kind="monthly",
                start=dt.date(2020, 1, 1) + dt.timedelta(days=n),
                end=dt.date(2020, 1, 1) + dt.timedelta(days=n),
                team=org.east_a,
            )
            Review.objects.create(cycle=cycle, reviewee=org.rep_a, reviewer=org.sup_a)

    return add


@pytest.mark.parametrize(
    "path",
    [
        "/reviews/",
        "/reviews/mine/",
        "/reviews/cycles/",
        "/api/v1/reviews/",
        "/api/v1/review-cycles/",
    ],
)
def test_review_lists_cost_the_same_queries_for_5_and_50(org, client_for, token_client, path):
    client = token_client(org.sup_a) if path.startswith("/api/") else client_for(org.sup_a)
    if path == "/reviews/mine/":
        client = client_for(org.rep_a)
    assert_constant_queries(_add_reviews(org), lambda: client.get(path))
