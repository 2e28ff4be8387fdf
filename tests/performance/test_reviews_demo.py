"""The demo company's reviews, 360 feedback, improvement plan and expenses."""

import pytest

from customers import demo as customers_demo
from performance import demo
from performance.models import (
    Expense,
    ImprovementPlan,
    Review,
    ReviewCycle,
    ReviewFeedback,
)
from teams import demo as teams_demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_last_quarters_cycle_done_and_this_quarters_open():
    logs = []
    teams_demo.seed(logs.append)
    customers_demo.seed(logs.append)
    demo.seed_reviews(logs.append)
    closed, current = ReviewCycle.objects.order_by("start")
    assert closed.status == ReviewCycle.Status.CLOSED
    assert current.status == ReviewCycle.Status.OPEN
    done = Review.objects.filter(cycle=closed)
    assert done.count() > 5
    assert not done.filter(status=Review.Status.DRAFT).exists()
    assert done.filter(status=Review.Status.ACKNOWLEDGED).count() == done.count() - 2
    assert all(review.kpi_results and review.overall_score is not None for review in done)
    assert ReviewFeedback.objects.filter(answered_at__isnull=False, rater_kind="peer").count() >= 3
    assert ReviewFeedback.objects.filter(rater_kind="customer", answered_at__isnull=False).exists()
    plan = ImprovementPlan.objects.get()
    assert plan.actions.count() == 3 and plan.actions.filter(followup__isnull=False).exists()
    assert Expense.objects.filter(status=Expense.Status.APPROVED).exists()
    assert Expense.objects.filter(status=Expense.Status.SUBMITTED).exists()
    # A second run adds nothing.
    counts = (ReviewCycle.objects.count(), Expense.objects.count())
    demo.seed_reviews(logs.append)
    assert (ReviewCycle.objects.count(), Expense.objects.count()) == counts
