"""Promotion readiness against hand-computed figures, and promoting: the level history, the
person's new level and their notification."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from performance.models import Review
from teams.models import Notification, User
from tests.performance.factories import target, won_deal
from tests.performance.reviews import open_cycle
from tests.training.factories import CourseFactory
from training import selectors, services
from training.models import Enrollment, LadderCriteria, LevelChange

pytestmark = pytest.mark.django_db


def past_quarters(today, count):
    return selectors._past_quarters(today, count)


@pytest.fixture
def scenario(org):
    """rep_a1 (junior) aiming at senior, which asks for 6 months at junior, 80% average
    attainment over 2 quarters, a last review score of 70, 3 won deals and one course.

    rep_a1: junior for 8 months; quarter -1: 900 won of a 1000 target (90%), quarter -2: 700
    of 1000 (70%), so 80.0% on average; 2 won deals; last review 72.50; course not done."""
    today = timezone.localdate()
    course = CourseFactory(title="Negotiation", required_for_levels=[org.levels.senior])
    LadderCriteria.objects.create(
        level=org.levels.senior,
        min_months_at_level=6,
        min_average_attainment=Decimal("80"),
        attainment_quarters=2,
        min_review_score=Decimal("70"),
        min_won_deals=3,
    )
    rep = org.rep_a1
    User.objects.filter(pk=rep.pk).update(hire_date=today - dt.timedelta(days=8 * 31))
    (q1_start, q1_end), (q2_start, q2_end) = past_quarters(today, 2)
    for start in (q1_start, q2_start):
        target(org.admin, period_type="quarter", start=start, user=rep, value=Decimal("1000"))
    won_deal(rep, "900", q1_end)
    won_deal(rep, "700", q2_start)
    cycle = open_cycle(org.east_mgr, org.east_a)
    Review.objects.filter(cycle=cycle, reviewee=rep).update(
        status=Review.Status.SUBMITTED, overall_score=Decimal("72.50")
    )
    return {"rep": rep, "course": course, "q1": (q1_start, q1_end)}


def criteria_of(row):
    return {
        item["code"]: (item["actual"], item["required"], item["met"]) for item in row["criteria"]
    }


def test_each_criterion_with_actual_against_required(org, scenario):
    rows = selectors.promotion_readiness(viewer=org.sup_a)
    row = next(row for row in rows if row["user"] == scenario["rep"])
    assert row["level"] == org.levels.junior and row["next_level"] == org.levels.senior
    assert criteria_of(row) == {
        "months_at_level": (8, 6, True),
        "average_attainment": (Decimal("80.0"), Decimal("80.00"), True),
        "review_score": (Decimal("72.50"), Decimal("70.00"), True),
        "won_deals": (2, 3, False),
        "required_courses": (0, 1, False),
    }
    assert row["ready"] is False
    assert [course.title for course in row["criteria"][-1]["missing"]] == ["Negotiation"]


def test_ready_once_every_criterion_is_met(org, scenario):
    rep = scenario["rep"]
    won_deal(rep, "10", scenario["q1"][0])
    Enrollment.objects.create(
        user=rep, course=scenario["course"], status=Enrollment.Status.COMPLETED
    )
    ready = selectors.promotion_readiness(viewer=org.sup_a, ready_only=True)
    assert [row["user"] for row in ready] == [rep]
    assert criteria_of(ready[0])["average_attainment"][0] == Decimal("80.5")  # 910 and 700


def test_a_rep_only_sees_their_own_readiness(org, scenario):
    rows = selectors.promotion_readiness(viewer=org.rep_a1)
    assert [row["user"] for row in rows] == [org.rep_a1]
    assert selectors.promotion_readiness(viewer=org.rep_b) == []  # senior is the top level


def test_promote_records_the_change_updates_the_level_and_notifies(org, scenario):
    rep = scenario["rep"]
    with pytest.raises(ValidationError):
        services.promote(by=org.sup_a, user=rep)
    won_deal(rep, "10", scenario["q1"][0])
    Enrollment.objects.create(
        user=rep, course=scenario["course"], status=Enrollment.Status.COMPLETED
    )
    with pytest.raises(PermissionDenied):
        services.promote(by=org.sup_b, user=rep)  # not below sup_b
    with pytest.raises(PermissionDenied):
        services.promote(by=rep, user=rep)

    change = services.promote(by=org.sup_a, user=rep, note="Well earned")
    rep.refresh_from_db()
    assert rep.ladder_level == org.levels.senior
    assert (change.from_level, change.to_level, change.by, change.date) == (
        org.levels.junior,
        org.levels.senior,
        org.sup_a,
        timezone.localdate(),
    )
    notice = Notification.objects.get(recipient=rep, kind="promotion")
    assert "Senior rep" in notice.title
    with pytest.raises(ValidationError):
        services.promote(by=org.sup_a, user=rep)  # already at the top


def test_time_at_level_counts_from_the_last_promotion(org, scenario):
    rep = scenario["rep"]
    LevelChange.objects.create(
        user=rep,
        from_level=None,
        to_level=org.levels.junior,
        date=timezone.localdate() - dt.timedelta(days=65),
    )
    row = selectors.readiness_of(rep)
    assert criteria_of(row)["months_at_level"] == (2, 6, False)


def test_an_admin_may_promote_before_the_criteria_are_met(org, scenario):
    rep = scenario["rep"]
    with pytest.raises(ValidationError):
        services.promote(by=org.admin, user=rep)
    services.promote(by=org.admin, user=rep, override_criteria=True)
    assert LevelChange.objects.filter(user=rep, to_level=org.levels.senior).count() == 1
