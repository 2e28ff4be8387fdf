"""Enrollments: a manager assigns a course to several people below them at once, people
start and complete it (a pass score must be reached), overdue courses are told to the person
and their manager exactly once, a new rep is enrolled in onboarding, and a course linked to
an improvement plan ticks its action off when completed."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from performance import services as performance_services
from performance.models import ImprovementAction, ImprovementPlan
from teams.models import Notification, Role
from tests.factories import UserFactory
from tests.training.factories import CourseFactory
from training import services, tasks
from training.models import Course, DevelopmentAction, Enrollment

pytestmark = pytest.mark.django_db


def test_a_manager_assigns_a_course_to_several_people_at_once(org):
    course = CourseFactory()
    due = timezone.localdate() + dt.timedelta(days=10)
    result = services.enrollment_assign(
        by=org.east_mgr, course=course, users=[org.rep_a, org.rep_b], due=due
    )
    assert {row.user for row in result["created"]} == {org.rep_a, org.rep_b}
    assert all(row.due == due and row.assigned_by == org.east_mgr for row in result["created"])
    assert Notification.objects.filter(kind="training", recipient=org.rep_a).count() == 1
    # Assigning again skips the people already enrolled.
    again = services.enrollment_assign(
        by=org.east_mgr, course=course, users=[org.rep_a, org.rep_east]
    )
    assert [row.user for row in again["created"]] == [org.rep_east]
    assert again["skipped"] == [org.rep_a]
    assert Enrollment.objects.filter(user=org.rep_a, course=course).count() == 1


def test_assigning_outside_the_subtree_or_in_the_past_changes_nothing(org):
    course = CourseFactory()
    with pytest.raises(ValidationError) as error:
        services.enrollment_assign(by=org.sup_a, course=course, users=[org.rep_a, org.rep_b])
    assert "users" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.enrollment_assign(by=org.rep_a, course=course, users=[org.rep_a])
    with pytest.raises(ValidationError) as error:
        services.enrollment_assign(
            by=org.sup_a,
            course=course,
            users=[org.rep_a],
            due=timezone.localdate() - dt.timedelta(days=1),
        )
    assert "due" in error.value.message_dict
    assert not Enrollment.objects.exists()


def test_completing_needs_the_pass_score(org):
    course = CourseFactory(pass_score=80)
    enrollment = services.enrollment_self_enroll(by=org.rep_a, course=course)
    services.enrollment_start(by=org.rep_a, enrollment=enrollment)
    with pytest.raises(ValidationError):
        services.enrollment_complete(by=org.rep_a, enrollment=enrollment)
    failed = services.enrollment_complete(by=org.rep_a, enrollment=enrollment, score=70)
    assert (failed.status, failed.score, failed.completed_at) == ("in_progress", 70, None)
    with pytest.raises(PermissionDenied):
        services.enrollment_complete(by=org.rep_b, enrollment=enrollment, score=90)
    passed = services.enrollment_complete(by=org.sup_a, enrollment=enrollment, score=85)
    assert passed.status == "completed" and passed.completed_at and passed.passed
    with pytest.raises(ValidationError):
        services.enrollment_complete(by=org.rep_a, enrollment=enrollment, score=90)
    # Once completed, the course can be taken again.
    assert services.enrollment_self_enroll(by=org.rep_a, course=course).status == "assigned"


def test_overdue_enrollments_notify_the_person_and_their_manager_exactly_once(org):
    course = CourseFactory()
    today = timezone.localdate()
    late = Enrollment.objects.create(user=org.rep_a1, course=course, due=today - dt.timedelta(1))
    Enrollment.objects.create(user=org.rep_a, course=course, due=today)  # due today: not late
    Enrollment.objects.create(
        user=org.rep_b, course=course, due=today - dt.timedelta(5), status="completed"
    )
    assert tasks.notify_overdue_enrollments() == 1
    assert tasks.notify_overdue_enrollments() == 0
    assert services.notify_overdue_enrollments(today=today + dt.timedelta(days=3)) == 1  # rep_a
    late.refresh_from_db()
    assert late.status == Enrollment.Status.OVERDUE and late.overdue_notified_at
    notices = Notification.objects.filter(kind="training_overdue")
    assert sorted(notice.recipient.username for notice in notices) == [
        "lead_a1",
        "rep_a",
        "rep_a1",
        "sup_a",
    ]


def test_a_new_rep_is_enrolled_in_the_onboarding_courses(org):
    onboarding = CourseFactory(category=Course.Category.ONBOARDING, default_days_to_complete=14)
    CourseFactory(category=Course.Category.ONBOARDING, is_active=False)
    CourseFactory(category=Course.Category.PRODUCT)
    rep = UserFactory(username="newbie", team=org.east_a, role=Role.REP)
    manager = UserFactory(username="new_boss", team=org.east_a, role=Role.MANAGER)
    (enrollment,) = Enrollment.objects.filter(user=rep)
    assert enrollment.course == onboarding and enrollment.source == "onboarding"
    assert enrollment.due == timezone.localdate() + dt.timedelta(days=14)
    assert not Enrollment.objects.filter(user=manager).exists()
    rep.save()  # saving again enrolls nothing more
    assert Enrollment.objects.filter(user=rep).count() == 1


def test_a_course_linked_to_an_improvement_plan_ticks_its_action_off(org):
    course = CourseFactory(title="Pricing")
    today = timezone.localdate()
    plan = performance_services.plan_create(
        by=org.sup_a,
        person=org.rep_a,
        goals="Better proposals",
        start=today,
        end=today + dt.timedelta(days=60),
        status=ImprovementPlan.Status.ACTIVE,
    )
    enrollment = services.plan_link_course(
        by=org.sup_a, plan=plan, course=course, due=today + dt.timedelta(days=20)
    )
    assert enrollment.source == "improvement_plan" and enrollment.plan == plan
    action = ImprovementAction.objects.get(plan=plan)
    assert not action.done and "Pricing" in action.description
    services.enrollment_complete(by=org.rep_a, enrollment=enrollment)
    action.refresh_from_db()
    assert action.done


def test_a_course_step_of_a_development_plan_enrolls_and_is_ticked_off(org):
    course = CourseFactory()
    plan = services.development_plan_create(
        by=org.sup_a, user=org.rep_a, track="specialist", goals="Senior in a year"
    )
    step = services.development_action_add(
        by=org.sup_a,
        plan=plan,
        kind=DevelopmentAction.Kind.COURSE,
        description="Take the course",
        due=timezone.localdate() + dt.timedelta(days=9),
        course=course,
    )
    enrollment = Enrollment.objects.get(user=org.rep_a, course=course)
    services.enrollment_complete(by=org.rep_a, enrollment=enrollment)
    step.refresh_from_db()
    assert step.done
    with pytest.raises(ValidationError):
        services.development_plan_create(
            by=org.sup_b, user=org.rep_a, track="specialist", goals="x"
        )
