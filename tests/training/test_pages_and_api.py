"""Pages and endpoints: who sees what (a rep their own, a manager their subtree, 404 for the
rest), bad input answering 400 without changing anything, and lists costing the same number
of queries for 5 rows as for 50."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import RepFactory
from tests.training.factories import ArticleFactory, CourseFactory, EnrollmentFactory
from tests.utils import assert_constant_queries
from training import services
from training.models import DevelopmentPlan, Enrollment, LadderCriteria, Mentorship

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(org):
    course = CourseFactory(title="Demo skills")
    today = timezone.localdate()
    return {
        "course": course,
        "mine": EnrollmentFactory(user=org.rep_a, course=course, due=today),
        "sibling": EnrollmentFactory(user=org.rep_b, course=course, due=today),
        "plan": services.development_plan_create(
            by=org.sup_b, user=org.rep_b, track="specialist", goals="Grow"
        ),
        "mentorship": services.mentorship_create(
            by=org.sup_b,
            mentor=org.sup_b,
            mentee=org.rep_b,
            start=today,
            goals="Demos",
        ),
    }


PAGES = [
    "/training/",
    "/training/courses/",
    "/training/calendar/",
    "/training/calendar/?scope=team&month=2026-02",
    "/training/mentorships/",
    "/training/plans/",
    "/knowledge/",
    "/knowledge/new/",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_open_for_a_rep_and_a_manager(org, records, client_for, path):
    for user in (org.rep_a, org.east_mgr):
        assert client_for(user).get(path).status_code == 200


def test_manager_pages_are_not_found_for_a_rep(org, records, client_for):
    for path in ("/training/team/", "/training/readiness/"):
        assert client_for(org.rep_a).get(path).status_code == 404
        assert client_for(org.sup_a).get(path).status_code == 200


def test_a_rep_sees_only_their_own_enrollments_plans_and_mentorships(
    org, records, token_client, client_for
):
    rep = token_client(org.rep_a)
    ids = {row["id"] for row in rep.get("/api/v1/enrollments/").json()["results"]}
    assert ids == {records["mine"].pk}
    sibling = records["sibling"]
    assert rep.get(f"/api/v1/enrollments/{sibling.pk}/").status_code == 404
    assert rep.post(f"/api/v1/enrollments/{sibling.pk}/start/").status_code == 404
    assert rep.get(f"/api/v1/development-plans/{records['plan'].pk}/").status_code == 404
    assert rep.get(f"/api/v1/mentorships/{records['mentorship'].pk}/").status_code == 404
    assert rep.get("/api/v1/development-plans/").json()["count"] == 0
    page = client_for(org.rep_a)
    assert page.get(f"/training/plans/{records['plan'].pk}/").status_code == 404
    assert page.get(f"/training/mentorships/{records['mentorship'].pk}/").status_code == 404
    assert page.post(f"/training/enrollments/{sibling.pk}/complete/").status_code == 404
    assert page.get(f"/training/recommendations/?user={org.rep_b.pk}").status_code == 404
    sibling.refresh_from_db()
    assert sibling.status == Enrollment.Status.ASSIGNED


def test_a_manager_sees_their_subtree(org, records, token_client, client_for):
    east = token_client(org.east_mgr)
    ids = {row["id"] for row in east.get("/api/v1/enrollments/").json()["results"]}
    assert ids == {records["mine"].pk, records["sibling"].pk}
    assert east.get(f"/api/v1/development-plans/{records['plan'].pk}/").status_code == 200
    north = token_client(org.north_mgr)
    assert north.get("/api/v1/enrollments/").json()["count"] == 0
    assert north.get(f"/api/v1/mentorships/{records['mentorship'].pk}/").status_code == 404
    page = client_for(org.sup_b).get(
        f"/training/plans/{records['plan'].pk}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200 and b"Reviewed this cycle" in page.content
    team = client_for(org.sup_a).get("/training/team/").content.decode()
    assert f'data-user="{org.rep_a.pk}"' in team and f'data-user="{org.rep_b.pk}"' not in team


def test_enrolling_through_the_api(org, records, token_client):
    course = records["course"]
    manager = token_client(org.sup_a)
    response = manager.post(
        "/api/v1/enrollments/",
        {"course": course.pk, "users": [org.rep_a.pk, org.rep_a1.pk]},
        format="json",
    )
    assert response.status_code == 201
    assert [row["user"] for row in response.json()["created"]] == [org.rep_a1.pk]
    assert response.json()["skipped_users"] == [org.rep_a.pk]
    # Someone outside the subtree is not a valid choice; nothing is created.
    before = Enrollment.objects.count()
    outside = manager.post(
        "/api/v1/enrollments/", {"course": course.pk, "users": [org.rep_b.pk]}, format="json"
    )
    assert outside.status_code == 400 and "users" in outside.json()
    assert manager.post("/api/v1/enrollments/", {"course": 0}).status_code == 400
    assert Enrollment.objects.count() == before
    mine = token_client(org.rep_north).post("/api/v1/enrollments/", {"course": course.pk})
    assert mine.status_code == 201 and mine.json()["created"][0]["source"] == "self"


def test_completing_through_the_api_validates_the_score(org, records, token_client):
    enrollment = records["mine"]
    enrollment.course.pass_score = 60
    enrollment.course.save()
    rep = token_client(org.rep_a)
    url = f"/api/v1/enrollments/{enrollment.pk}/complete/"
    assert rep.post(url, {"score": 150}).status_code == 400
    assert rep.post(url, {}).status_code == 400
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ASSIGNED
    done = rep.post(url, {"score": 61})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert done.json()["passed"] is True


def test_bad_input_for_plans_mentorships_and_courses(org, records, token_client):
    manager = token_client(org.sup_a)
    bad_plan = manager.post(
        "/api/v1/development-plans/", {"user": org.rep_a.pk, "track": "astronaut", "goals": ""}
    )
    assert bad_plan.status_code == 400 and {"track", "goals"} <= set(bad_plan.json())
    self_mentor = manager.post(
        "/api/v1/mentorships/",
        {"mentor": org.rep_a.pk, "mentee": org.rep_a.pk, "start": "2026-01-05", "goals": "x"},
    )
    assert self_mentor.status_code == 400
    assert not DevelopmentPlan.objects.filter(user=org.rep_a).exists()
    assert Mentorship.objects.count() == 1
    assert manager.post("/api/v1/courses/", {"title": "x"}).status_code == 403
    admin = token_client(org.admin)
    assert admin.post("/api/v1/courses/", {"title": "x", "format": "lecture"}).status_code == 400
    created = admin.post(
        "/api/v1/courses/",
        {
            "title": "Negotiation",
            "category": "selling_skills",
            "format": "role_play",
            "duration_hours": "6",
            "criteria": ["selling_skills"],
            "required_for_levels": [org.levels.senior.pk],
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["criteria"] == ["selling_skills"]
    assert created.json()["required_for_levels"] == [org.levels.senior.pk]


def test_ladder_level_criteria_extend_the_ladder_levels(org, token_client):
    url = f"/api/v1/ladder-levels/{org.levels.senior.pk}/criteria/"
    assert token_client(org.rep_a).get(url).json()["min_months_at_level"] == 0
    assert token_client(org.sup_a).put(url, {"min_months_at_level": 6}).status_code == 403
    admin = token_client(org.admin)
    assert admin.put(url, {"attainment_quarters": 0}).status_code == 400
    saved = admin.put(url, {"min_months_at_level": 6, "min_average_attainment": "80"})
    assert saved.status_code == 200
    criteria = LadderCriteria.objects.get(level=org.levels.senior)
    assert (criteria.min_months_at_level, criteria.min_average_attainment) == (6, Decimal("80"))
    assert token_client(org.rep_a).get("/api/v1/ladder-levels/999/criteria/").status_code == 404


def test_the_readiness_report(org, token_client):
    LadderCriteria.objects.create(level=org.levels.senior, min_months_at_level=1)
    data = token_client(org.sup_a).get("/api/v1/reports/promotion-readiness/").json()
    by_user = {row["user"]: row for row in data}
    assert set(by_user) == {org.rep_a1.pk, org.rep_a1x.pk}  # juniors under sup_a
    assert by_user[org.rep_a1.pk]["criteria"][0]["code"] == "months_at_level"
    assert (
        token_client(org.sup_a).get("/api/v1/reports/promotion-readiness/?team=abc").status_code
        == 400
    )
    assert (
        token_client(org.sup_a)
        .get(f"/api/v1/reports/promotion-readiness/?team={org.north.pk}")
        .status_code
        == 404
    )


def test_a_manager_assigns_from_the_team_page(org, records, client_for):
    client = client_for(org.sup_a)
    empty = client.post("/training/team/", {"course": records["course"].pk})
    assert empty.status_code == 400
    response = client.post(
        "/training/team/",
        {"course": records["course"].pk, "users": [org.rep_a1.pk, org.rep_a1x.pk]},
    )
    assert response.status_code == 302
    assert Enrollment.objects.filter(course=records["course"]).count() == 4
    outside = client.post(
        "/training/team/", {"course": records["course"].pk, "users": [org.rep_b.pk]}
    )
    assert outside.status_code == 400
    assert Enrollment.objects.filter(course=records["course"]).count() == 4


# Query counts


def _people(org, team):
    def add(count):
        for _index in range(count):
            rep = RepFactory(team=team)
            EnrollmentFactory(user=rep, course=CourseFactory())

    return add


def test_enrollment_list_endpoint_queries_are_constant(org, token_client):
    client = token_client(org.east_mgr)
    assert_constant_queries(_people(org, org.east_a), lambda: client.get("/api/v1/enrollments/"))


def test_course_list_endpoint_and_page_queries_are_constant(org, token_client, client_for):
    api = token_client(org.rep_a)
    page = client_for(org.rep_a)

    def add(count):
        for _index in range(count):
            CourseFactory(criteria=["teamwork"], required_for_levels=[org.levels.senior])

    assert_constant_queries(add, lambda: api.get("/api/v1/courses/"))
    assert_constant_queries(add, lambda: page.get("/training/courses/"))


def test_team_and_readiness_pages_queries_are_constant(org, client_for):
    LadderCriteria.objects.create(
        level=org.levels.senior,
        min_months_at_level=1,
        min_average_attainment=Decimal("50"),
        min_review_score=Decimal("50"),
        min_won_deals=1,
    )
    client = client_for(org.east_mgr)

    def add(count):
        for _index in range(count):
            rep = RepFactory(team=org.east_b, ladder_level=org.levels.junior)
            EnrollmentFactory(user=rep, course=CourseFactory())

    assert_constant_queries(add, lambda: client.get("/training/team/"))
    assert_constant_queries(add, lambda: client.get("/training/readiness/"))
    assert_constant_queries(add, lambda: client.get("/api/v1/reports/promotion-readiness/"))


def test_knowledge_base_lists_queries_are_constant(org, token_client, client_for):
    api = token_client(org.rep_a)
    page = client_for(org.rep_a)

    def add(count):
        for index in range(count):
            ArticleFactory(author=org.rep_b if index % 2 else org.rep_a, body="关于华为的案例")

    assert_constant_queries(add, lambda: api.get("/api/v1/articles/?search=华为"))
    assert_constant_queries(add, lambda: page.get("/knowledge/?search=华为"))


def test_mentorship_and_plan_lists_queries_are_constant(org, token_client, client_for):
    api = token_client(org.east_mgr)
    page = client_for(org.east_mgr)
    today = timezone.localdate()

    def add(count):
        for _index in range(count):
            rep = RepFactory(team=org.east_a)
            services.mentorship_create(
                by=org.east_mgr, mentor=org.rep_a, mentee=rep, start=today, goals="Demos"
            )
            plan = services.development_plan_create(
                by=org.east_mgr, user=rep, track="management", goals="Lead"
            )
            services.development_action_add(
                by=org.east_mgr,
                plan=plan,
                kind="stretch",
                description="Run the weekly review",
                due=today + dt.timedelta(days=7),
            )

    assert_constant_queries(add, lambda: api.get("/api/v1/mentorships/"))
    assert_constant_queries(add, lambda: api.get("/api/v1/development-plans/"))
    assert_constant_queries(add, lambda: page.get("/training/mentorships/"))
    assert_constant_queries(add, lambda: page.get("/training/plans/"))


def test_my_learning_and_calendar_queries_are_constant(org, client_for):
    client = client_for(org.rep_a)
    today = timezone.localdate()

    def add(count):
        for index in range(count):
            EnrollmentFactory(
                user=org.rep_a,
                course=CourseFactory(),
                due=today.replace(day=1) + dt.timedelta(days=index % 27),
                status=("assigned", "in_progress", "completed")[index % 3],
            )

    assert_constant_queries(add, lambda: client.get("/training/"))
    assert_constant_queries(add, lambda: client.get("/training/calendar/"))


def test_rep_home_shows_my_courses_due_and_what_is_recommended(org, records, client_for):
    page = client_for(org.rep_a).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "My courses due" in page and "Demo skills" in page
    assert "Recommended for you" in page
