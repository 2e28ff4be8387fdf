"""The manager dashboard's training card: the courses recommended to the people of the scope
with the reasons, an "Assign" button for the people the viewer manages that enrolls them
and comes back to the dashboard, and a query count that does not grow with the reps."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from performance.models import CriterionKind, Review
from tests.factories import RepFactory
from tests.performance.reviews import open_cycle
from tests.pipeline.test_reports import at, move, new_deal
from tests.training.factories import CourseFactory
from tests.utils import assert_constant_queries
from training import selectors
from training.models import Enrollment

pytestmark = pytest.mark.django_db

URL = reverse("dashboards:manager")
ASSIGN = reverse("training:quick_assign")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
REASON = "Your review “Spring review” scored Selling skills 2 of 5."


def low_selling_review(cycle, *people):
    Review.objects.filter(cycle=cycle, reviewee__in=people).update(
        status=Review.Status.SUBMITTED, criteria_scores={CriterionKind.SELLING_SKILLS: 2}
    )


def demo_gap(owner, mate, stages, *, mine=1, theirs=4):
    """Last quarter, five deals each reach the demo; `mine` and `theirs` move on."""
    start, _end = selectors.last_quarter(timezone.localdate())
    day = lambda n: at(start + dt.timedelta(days=n))  # noqa: E731
    for person, advancing in ((owner, mine), (mate, theirs)):
        for index in range(5):
            deal = new_deal(person, "1000", day(1), stage=stages["D"])
            if index < advancing:
                move(deal, stages["P"], day(3))


@pytest.fixture
def selling(org, stages):
    """rep_a (East A) and rep_north (North) scored 2 for selling skills."""
    course = CourseFactory(title="Consultative selling", criteria=[CriterionKind.SELLING_SKILLS])
    low_selling_review(open_cycle(org.east_mgr, org.east_a, name="Spring review"), org.rep_a)
    low_selling_review(open_cycle(org.north_mgr, org.north, name="Spring review"), org.rep_north)
    return course


def card(response) -> list[tuple]:
    return [
        (row["person"], row["course"], row["reasons"], row["can_assign"])
        for row in response.context["training_rows"]
    ]


def test_the_card_shows_the_scopes_recommendations_with_their_reasons(org, selling, client_for):
    response = client_for(org.sup_a).get(URL, **EN)
    assert card(response) == [(org.rep_a, selling, [REASON], True)]
    html = response.content.decode()
    assert "Training recommendations" in html and REASON in html
    assert f'name="user" value="{org.rep_a.pk}"' in html
    assert f'name="user" value="{org.rep_north.pk}"' not in html

    # North's rep is outside East's subtree; East B's supervisor does not see East A.
    east = client_for(org.east_mgr).get(URL, **EN)
    assert [row[0] for row in card(east)] == [org.rep_a]
    assert card(client_for(org.sup_b).get(URL, **EN)) == []
    assert "Training recommendations" not in client_for(org.sup_b).get(URL, **EN).content.decode()
    north = client_for(org.north_mgr).get(URL, **EN)
    assert [row[0] for row in card(north)] == [org.rep_north]


def test_a_team_scope_narrows_the_card_and_a_rep_gets_none(org, selling, client_for):
    low_selling_review(
        open_cycle(org.east_mgr, org.east_a1, name="Spring review"), org.rep_a1, org.lead_a1
    )
    client = client_for(org.east_mgr)
    whole = client.get(URL, **EN)
    assert [row[0] for row in card(whole)] == [org.rep_a, org.lead_a1, org.rep_a1]
    narrowed = client.get(URL, {"scope": f"team:{org.east_a1.pk}"}, **EN)
    assert [row[0] for row in card(narrowed)] == [org.lead_a1, org.rep_a1]
    # A supervisor in the scope is listed but cannot assign to themselves.
    own = client_for(org.lead_a1).get(URL, **EN)
    assert [(row[0], row[3]) for row in card(own)] == [(org.lead_a1, False), (org.rep_a1, True)]
    assert f'name="user" value="{org.lead_a1.pk}"' not in own.content.decode()

    rep = client_for(org.rep_a).get(URL, **EN)
    assert rep.status_code == 200
    assert "training_rows" not in rep.context or rep.context["training_rows"] == []
    assert "Training recommendations" not in rep.content.decode()


def test_assigning_from_the_card_enrolls_the_rep_and_returns_to_the_dashboard(
    org, selling, client_for
):
    client = client_for(org.sup_a)
    back = f"{URL}?period=quarter"
    response = client.post(ASSIGN, {"course": selling.pk, "user": org.rep_a.pk, "next": back}, **EN)
    assert response.status_code == 302 and response.url == back
    enrollment = Enrollment.objects.get(user=org.rep_a, course=selling)
    assert enrollment.status == Enrollment.Status.ASSIGNED
    assert enrollment.source == Enrollment.Source.MANAGER

    page = client.get(back, **EN)
    (row,) = page.context["training_rows"]
    assert row["enrollment"] == enrollment
    html = page.content.decode()
    assert "Course assigned." in html
    assert f'name="user" value="{org.rep_a.pk}"' not in html

    assert [row.course for row in selectors.my_learning(user=org.rep_a)["to_do"]] == [selling]


def test_assigning_outside_ones_teams_changes_nothing_and_an_outside_next_is_ignored(
    org, selling, client_for
):
    client = client_for(org.sup_a)
    refused = client.post(ASSIGN, {"course": selling.pk, "user": org.rep_north.pk, "next": URL})
    assert refused.status_code == 404
    assert not Enrollment.objects.filter(user=org.rep_north).exists()

    response = client.post(
        ASSIGN, {"course": selling.pk, "user": org.rep_a.pk, "next": "https://example.com/"}
    )
    assert response.status_code == 302 and response.url == reverse("training:team")
    assert Enrollment.objects.filter(user=org.rep_a, course=selling).exists()


def test_the_bulk_recommendations_match_each_persons_own(org, stages, selling):
    """Gaps in two teams under different parents: the funnel is read once for all, and
    each person is still compared with their own team."""
    demo = CourseFactory(title="Running a demo", stages=[stages["D"]])
    mate_b = RepFactory(username="mate_b", team=org.east_b)
    mate_north = RepFactory(username="mate_north", team=org.north)
    demo_gap(org.rep_b, mate_b, stages)
    demo_gap(org.rep_north, mate_north, stages, mine=2, theirs=5)
    people = [org.rep_a, org.rep_b, mate_b, org.rep_north, mate_north, org.rep_a1]
    with override("en"):
        bulk = selectors.recommendations_by_user(people)
        assert bulk == {person.pk: selectors.recommendations(user=person) for person in people}
    assert [row["course"] for row in bulk[org.rep_b.pk]] == [demo]
    assert bulk[org.rep_b.pk][0]["reasons"] == [
        "Your Demo to Proposal and negotiation conversion is 20% against the team's 50% last "
        "quarter."
    ]
    reasons = {row["course"]: row["reasons"] for row in bulk[org.rep_north.pk]}
    assert reasons == {
        demo: [
            "Your Demo to Proposal and negotiation conversion is 40% against the team's 70% "
            "last quarter."
        ],
        selling: [REASON],
    }
    assert bulk[mate_b.pk] == [] and bulk[org.rep_a1.pk] == []


def test_queries_do_not_grow_with_reps_and_the_card_is_capped(org, stages, selling, client_for):
    demo = CourseFactory(title="Running a demo", stages=[stages["D"]])
    cycle = open_cycle(org.east_mgr, org.east_a1, name="Spring review")
    mate = RepFactory(team=org.east_a1)
    client = client_for(org.sup_a)

    def add_reps(count):
        for _number in range(count):
            rep = RepFactory(team=org.east_a1)
            Review.objects.create(
                cycle=cycle,
                reviewee=rep,
                reviewer=org.lead_a1,
                status=Review.Status.SUBMITTED,
                criteria_scores={CriterionKind.SELLING_SKILLS: 1},
            )
            demo_gap(rep, mate, stages, mine=0, theirs=5)
            Enrollment.objects.create(user=rep, course=demo, status="assigned")

    assert_constant_queries(add_reps, lambda: client.get(URL), small=2, large=6)
    response = client.get(URL, **EN)
    assert len(response.context["training_rows"]) == 10
    assert response.context["training_more"]
    assert "Showing the first 10 recommendations." in response.content.decode()
