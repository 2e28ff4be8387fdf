"""Gap-driven recommendations: a stage conversion 10 points or more under the team's last
quarter, or a review criterion scored 2 or less, recommends the courses tagged for it, with
the reason; a completed course disappears."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from performance import services as performance_services
from performance.models import CriterionKind, ImprovementPlan, Review
from tests.performance.reviews import open_cycle
from tests.pipeline.test_reports import at, move, new_deal
from tests.training.factories import CourseFactory
from training import selectors, services
from training.models import Enrollment

pytestmark = pytest.mark.django_db


def last_quarters_deals(owners_advancing: dict, path: list, last_step):
    """Five deals of each owner last quarter, moved through the stages of `path`; as many
    as the owner's number then move on to `last_step`."""
    start, _end = selectors.last_quarter(timezone.localdate())
    for owner, advancing in owners_advancing.items():
        for index in range(5):
            deal = new_deal(owner, "1000", at(start + dt.timedelta(days=1)))
            for offset, stage in enumerate(path, start=2):
                move(deal, stage, at(start + dt.timedelta(days=offset)))
            if index < advancing:
                move(deal, last_step, at(start + dt.timedelta(days=len(path) + 2)))


@pytest.fixture
def funnel_gap(org, stages):
    """Last quarter in east_b (rep_b and a teammate): demo to proposal.

    rep_b: 5 deals reach the demo, 1 moves on (20%).
    mate:  5 deals reach the demo, 4 move on (80%).
    The team: 10 in, 5 on (50%): rep_b is 30 points under it. Both convert every lead to
    needs analysis and every needs analysis to a demo (100%): no gap there."""
    from tests.factories import RepFactory

    mate = RepFactory(username="mate_b", team=org.east_b)
    last_quarters_deals({org.rep_b: 1, mate: 4}, [stages["N"], stages["D"]], stages["P"])
    return mate


def test_a_weak_stage_recommends_its_courses_with_the_reason(org, stages, funnel_gap):
    demo_course = CourseFactory(title="Running a demo", stages=[stages["D"]])
    CourseFactory(title="Discovery", stages=[stages["N"]])  # no gap at needs analysis
    CourseFactory(title="Retired demo course", stages=[stages["D"]], is_active=False)
    with override("en"):
        rows = selectors.recommendations(user=org.rep_b)
    assert [row["course"] for row in rows] == [demo_course]
    assert rows[0]["reasons"] == [
        "Your Demo to Proposal and negotiation conversion is 20% against the team's 50% last "
        "quarter."
    ]
    assert selectors.recommendations(user=funnel_gap) == []  # the strong teammate


def test_a_completed_course_disappears_and_an_open_one_shows_its_enrollment(
    org, stages, funnel_gap
):
    course = CourseFactory(title="Running a demo", stages=[stages["D"]])
    services.enrollment_assign(by=org.sup_b, course=course, users=[org.rep_b])
    (row,) = selectors.recommendations(user=org.rep_b)
    enrollment = row["enrollment"]
    assert enrollment.status == Enrollment.Status.ASSIGNED
    services.enrollment_complete(by=org.rep_b, enrollment=enrollment)
    assert selectors.recommendations(user=org.rep_b) == []


def test_people_of_sibling_teams_are_each_held_to_their_own_team(org, stages, funnel_gap):
    """East A repeats East B's pattern at needs analysis to demo: rep_a 1 of 5 (20%), a
    teammate 5 of 5 (100%), the team 60%. Asked together, each person is held to their own
    team, and neither team's deals count for the other."""
    from tests.factories import RepFactory

    mate = RepFactory(username="mate_a", team=org.east_a)
    last_quarters_deals({org.rep_a: 1, mate: 5}, [stages["N"]], stages["D"])
    with override("en"):
        gaps = selectors.funnel_gaps_by_user([org.rep_a, org.rep_b, mate, funnel_gap])
    assert [gap["reason"] for gap in gaps[org.rep_a.pk]] == [
        "Your Needs analysis to Demo conversion is 20% against the team's 60% last quarter."
    ]
    assert [gap["reason"] for gap in gaps[org.rep_b.pk]] == [
        "Your Demo to Proposal and negotiation conversion is 20% against the team's 50% last "
        "quarter."
    ]
    assert gaps[mate.pk] == gaps[funnel_gap.pk] == []


def test_too_few_deals_make_no_gap(org, stages):
    start, _end = selectors.last_quarter(timezone.localdate())
    from tests.factories import RepFactory

    mate = RepFactory(username="mate_b", team=org.east_b)
    for owner, advance in ((org.rep_b, False), (mate, True), (mate, True)):
        deal = new_deal(owner, "1000", at(start + dt.timedelta(days=1)), stage=stages["D"])
        if advance:
            move(deal, stages["P"], at(start + dt.timedelta(days=2)))
    CourseFactory(stages=[stages["D"]])
    assert selectors.funnel_gaps(user=org.rep_b) == []  # 1 deal at 0% against 66.7%


def test_a_low_review_criterion_recommends_its_courses(org):
    selling = CourseFactory(title="Consultative selling", criteria=[CriterionKind.SELLING_SKILLS])
    CourseFactory(title="Teamwork", criteria=[CriterionKind.TEAMWORK])
    cycle = open_cycle(org.east_mgr, org.east_a, name="Spring review")
    scores = dict.fromkeys(CriterionKind.values, 3)
    scores[CriterionKind.SELLING_SKILLS] = 2
    Review.objects.filter(cycle=cycle, reviewee=org.rep_a).update(
        status=Review.Status.SUBMITTED, criteria_scores=scores
    )
    # A draft review does not count.
    Review.objects.filter(cycle=cycle, reviewee=org.rep_a1).update(
        criteria_scores={CriterionKind.TEAMWORK: 1}
    )
    with override("en"):
        rows = selectors.recommendations(user=org.rep_a)
    assert [row["course"] for row in rows] == [selling]
    assert rows[0]["reasons"] == ["Your review “Spring review” scored Selling skills 2 of 5."]
    assert selectors.recommendations(user=org.rep_a1) == []

    Enrollment.objects.create(user=org.rep_a, course=selling, status="completed")
    assert selectors.recommendations(user=org.rep_a) == []


def test_the_report_endpoint_and_a_managers_one_click_assign(
    org, stages, funnel_gap, token_client, client_for
):
    course = CourseFactory(title="Running a demo", stages=[stages["D"]])
    url = f"/api/v1/reports/training-recommendations/?user={org.rep_b.pk}"
    data = token_client(org.sup_b).get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert [row["course"] for row in data] == [course.pk]
    assert "20%" in data[0]["reasons"][0] and data[0]["enrollment"] is None
    assert token_client(org.rep_a).get(url).status_code == 404
    assert token_client(org.rep_b).get("/api/v1/reports/training-recommendations/").json()
    assert token_client(org.sup_b).get(url.replace(str(org.rep_b.pk), "x")).status_code == 400

    page = client_for(org.sup_b).get(
        f"/training/recommendations/?user={org.rep_b.pk}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200 and b"Running a demo" in page.content
    response = client_for(org.sup_b).post(
        "/training/recommendations/assign/", {"course": course.pk, "user": org.rep_b.pk}
    )
    assert response.status_code == 302
    assert Enrollment.objects.get(user=org.rep_b, course=course).assigned_by == org.sup_b
    # Someone outside the manager's subtree cannot be assigned.
    outside = client_for(org.sup_b).post(
        "/training/recommendations/assign/", {"course": course.pk, "user": org.rep_a.pk}
    )
    assert outside.status_code == 404
    assert not Enrollment.objects.filter(user=org.rep_a).exists()
    mine = client_for(org.rep_b).get("/training/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"Running a demo" in mine.content


def test_the_improvement_plan_page_lists_recommendations_to_add_in_one_click(
    org, stages, funnel_gap, client_for
):
    demo_course = CourseFactory(title="Running a demo", stages=[stages["D"]])
    today = timezone.localdate()
    plan = performance_services.plan_create(
        by=org.east_mgr,
        person=org.rep_b,
        goals="Convert more demos",
        start=today,
        end=today + dt.timedelta(days=60),
        status=ImprovementPlan.Status.ACTIVE,
    )
    url = f"/improvement-plans/{plan.pk}/"
    manager = client_for(org.east_mgr)

    html = manager.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    panel = html[html.index('class="card plan-recommendations-panel"') :]
    assert "Running a demo" in panel and "conversion is 20% against the team" in panel
    assert "Add to the plan" in panel
    # The person reads the recommendations but adds nothing to their own plan.
    own = client_for(org.rep_b).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Running a demo" in own and "Add to the plan" not in own

    response = manager.post(
        f"/training/recommendations/{org.rep_b.pk}/plan/",
        {
            "plan": plan.pk,
            "course": demo_course.pk,
            "due": (today + dt.timedelta(days=28)).isoformat(),
            "next": url,
        },
    )

    assert response.status_code == 302 and response["Location"] == url
    enrollment = Enrollment.objects.get(user=org.rep_b, course=demo_course)
    assert enrollment.plan == plan
    assert plan.actions.filter(description__contains="Running a demo").exists()
