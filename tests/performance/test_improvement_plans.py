"""Improvement plans: made from a review by the person's managers, actions with owners and
due dates (an action about an account becomes a follow-up, others are reminded once when
due), check-ins, and who sees and changes what."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import FollowUp
from performance import selectors, services
from performance.models import ImprovementPlan
from teams.models import Notification
from tests.customers.factories import AccountFactory
from tests.performance.reviews import AFTER_Q1, all_levels, open_cycle
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org):
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a)
    services.review_submit(
        by=org.sup_a, review=review, criteria_scores=all_levels(made, 2), today=AFTER_Q1
    )
    return review


def make_plan(org, review, **fields):
    return services.plan_create(
        by=org.sup_a,
        review=review,
        goals="Raise the win rate",
        start=dt.date(2026, 4, 15),
        end=dt.date(2026, 6, 30),
        status=fields.pop("status", ImprovementPlan.Status.ACTIVE),
        **fields,
    )


def test_a_plan_from_a_review_is_for_its_reviewee_and_owned_by_the_manager(org, review):
    plan = make_plan(org, review)
    assert plan.person == org.rep_a and plan.owner == org.sup_a and plan.review == review
    with pytest.raises(PermissionDenied):
        services.plan_create(
            by=org.rep_a,
            review=review,
            goals="x",
            start=dt.date(2026, 4, 1),
            end=dt.date(2026, 5, 1),
        )
    with pytest.raises(PermissionDenied):
        services.plan_create(
            by=org.sup_b,
            person=org.rep_a,
            goals="x",
            start=dt.date(2026, 4, 1),
            end=dt.date(2026, 5, 1),
        )
    with pytest.raises(ValidationError) as error:
        services.plan_create(
            by=org.sup_a,
            person=org.rep_a,
            goals="x",
            start=dt.date(2026, 5, 1),
            end=dt.date(2026, 4, 1),
        )
    assert "end" in error.value.message_dict
    assert ImprovementPlan.objects.count() == 1


def test_an_action_about_an_account_becomes_a_follow_up(org, review):
    plan = make_plan(org, review)
    account = AccountFactory(owner=org.rep_a)
    action = services.plan_add_action(
        by=org.sup_a,
        plan=plan,
        description="Joint visit",
        owner=org.rep_a,
        due=dt.date(2026, 5, 10),
        account=account,
    )
    followup = FollowUp.objects.get(pk=action.followup_id)
    assert followup.assignee == org.rep_a and followup.account == account
    assert followup.title == "Joint visit"
    assert followup.due_at.astimezone(dt.timezone(dt.timedelta(hours=8))).hour == 9
    assert Notification.objects.filter(recipient=org.rep_a, kind="improvement_plan").count() == 1
    services.action_set_done(by=org.rep_a, action=action)
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.DONE
    # An account the owner cannot see is refused, and nothing is written.
    with pytest.raises(ValidationError):
        services.plan_add_action(
            by=org.sup_a,
            plan=plan,
            description="Visit",
            owner=org.rep_a,
            due=dt.date(2026, 5, 11),
            account=AccountFactory(owner=org.rep_a1),
        )
    assert plan.actions.count() == 1


def test_other_actions_are_reminded_once_when_due(org, review):
    plan = make_plan(org, review)
    action = services.plan_add_action(
        by=org.sup_a,
        plan=plan,
        description="Read the pricing guide",
        owner=org.rep_a,
        due=dt.date(2026, 5, 10),
    )
    assert action.followup is None
    reminders = Notification.objects.filter(recipient=org.rep_a, title__contains="pricing guide")
    before = reminders.count()
    assert services.remind_due_improvement_actions(today=dt.date(2026, 5, 9)) == 0
    assert services.remind_due_improvement_actions(today=dt.date(2026, 5, 10)) == 1
    assert services.remind_due_improvement_actions(today=dt.date(2026, 5, 11)) == 0
    assert reminders.count() == before + 1


def test_check_ins_and_status_by_the_people_concerned(org, review):
    plan = make_plan(org, review)
    services.plan_check_in(by=org.rep_a, plan=plan, date=dt.date(2026, 5, 1), note="Two demos")
    services.plan_check_in(by=org.east_mgr, plan=plan, date=dt.date(2026, 5, 2), note="Good")
    with pytest.raises(PermissionDenied):
        services.plan_check_in(by=org.rep_b, plan=plan, date=dt.date(2026, 5, 3), note="?")
    with pytest.raises(PermissionDenied):
        services.plan_update(by=org.rep_a, plan=plan, status=ImprovementPlan.Status.COMPLETED)
    services.plan_update(by=org.sup_a, plan=plan, status=ImprovementPlan.Status.COMPLETED)
    with pytest.raises(ValidationError):
        services.plan_add_action(
            by=org.sup_a, plan=plan, description="late", owner=org.rep_a, due=dt.date(2026, 7, 1)
        )
    assert plan.check_ins.count() == 2


def test_plans_are_seen_by_the_person_and_their_managers(org, review, client_for, token_client):
    plan = make_plan(org, review)
    for viewer, expected in [
        (org.rep_a, 200),
        (org.sup_a, 200),
        (org.east_mgr, 200),
        (org.rep_b, 404),
        (org.sup_b, 404),
        (org.north_mgr, 404),
    ]:
        assert client_for(viewer).get(f"/improvement-plans/{plan.pk}/").status_code == expected
        api = token_client(viewer)
        assert api.get(f"/api/v1/improvement-plans/{plan.pk}/").status_code == expected
        assert client_for(viewer).post(
            f"/improvement-plans/{plan.pk}/check-ins/", {"date": "2026-05-01", "note": "x"}
        ).status_code in ((302,) if expected == 200 else (404,))
    assert set(selectors.plan_list(viewer=org.rep_b)) == set()


def test_the_plan_pages_make_a_plan_and_its_actions(org, review, client_for):
    browser = client_for(org.sup_a)
    assert browser.get(f"/improvement-plans/new/?review={review.pk}").status_code == 200
    response = browser.post(
        "/improvement-plans/new/",
        {
            "review": review.pk,
            "goals": "Win rate",
            "start": "2026-04-15",
            "end": "2026-03-01",
            "status": "active",
        },
    )
    assert response.status_code == 200 and not ImprovementPlan.objects.exists()
    response = browser.post(
        "/improvement-plans/new/",
        {
            "review": review.pk,
            "goals": "Win rate",
            "start": "2026-04-15",
            "end": "2026-06-30",
            "status": "active",
        },
    )
    plan = ImprovementPlan.objects.get()
    assert response.status_code == 302 and plan.person == org.rep_a
    bad = browser.post(f"/improvement-plans/{plan.pk}/actions/", {"description": "", "due": "x"})
    assert bad.status_code == 400 and not plan.actions.exists()
    browser.post(
        f"/improvement-plans/{plan.pk}/actions/",
        {"description": "Shadow a demo", "owner": org.rep_a.pk, "due": "2026-05-05"},
    )
    action = plan.actions.get()
    client_for(org.rep_a).post(f"/improvement-plans/{plan.pk}/actions/{action.pk}/done/")
    action.refresh_from_db()
    assert action.done
    # Someone else cannot tick it, and gets no sign the plan exists.
    assert (
        client_for(org.rep_b)
        .post(f"/improvement-plans/{plan.pk}/actions/{action.pk}/done/")
        .status_code
        == 404
    )


def test_the_plan_list_costs_the_same_queries_for_5_and_50_plans(org, client_for, token_client):
    def add(count):
        for n in range(count):
            ImprovementPlan.objects.create(
                person=org.rep_a1,
                owner=org.lead_a1,
                goals=f"g{n}",
                start=dt.date(2026, 4, 1),
                end=dt.date(2026, 6, 30),
            )

    browser, api = client_for(org.sup_a), token_client(org.sup_a)
    assert_constant_queries(add, lambda: browser.get("/improvement-plans/"))
    ImprovementPlan.objects.all().delete()
    assert_constant_queries(add, lambda: api.get("/api/v1/improvement-plans/"))


def test_the_daily_task_reminds_due_actions(org, review, settings):
    plan = make_plan(org, review)
    services.plan_add_action(
        by=org.sup_a,
        plan=plan,
        description="Overdue reading",
        owner=org.rep_a,
        due=dt.date(2026, 1, 5),
    )
    from performance.tasks import remind_due_improvement_actions

    schedule = settings.CELERY_BEAT_SCHEDULE["performance-improvement-action-reminders"]
    assert schedule["task"] == "performance.tasks.remind_due_improvement_actions"
    assert remind_due_improvement_actions.apply().get() == 1
    assert remind_due_improvement_actions.apply().get() == 0
