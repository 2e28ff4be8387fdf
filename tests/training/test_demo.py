"""`seed_demo` adds the training: about 20 bilingual courses tagged with stages and review
criteria, enrollments in every state, mentorships, 30 articles with won and lost cases, a
few reps ready for promotion; a second run changes nothing."""

import io

import pytest
from django.core.management import call_command

from teams.models import User
from training import selectors
from training.models import Article, Course, Enrollment, Mentorship

pytestmark = pytest.mark.django_db


def test_demo_training():
    call_command("seed_demo", stdout=io.StringIO())

    courses = Course.objects.all()
    assert courses.count() == 20
    assert not courses.filter(title_zh="").exists()
    assert len(set(courses.values_list("category", flat=True))) == 7
    assert courses.filter(stages__isnull=False).distinct().count() >= 10
    assert courses.filter(criteria__isnull=False).distinct().count() >= 10
    assert set(Enrollment.objects.values_list("status", flat=True)) == {
        "assigned",
        "in_progress",
        "completed",
        "overdue",
    }
    assert Mentorship.objects.filter(check_ins__isnull=False).exists()
    assert Article.objects.count() >= 30
    assert Article.objects.filter(kind="success_case", deal__isnull=False).exists()
    assert Article.objects.filter(kind="lost_deal", deal__isnull=False).exists()
    admin = User.objects.get(username="admin")
    ready = selectors.promotion_readiness(viewer=admin, ready_only=True)
    assert len(ready) >= 3

    counts = (Course.objects.count(), Enrollment.objects.count(), Article.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Course.objects.count(), Enrollment.objects.count(), Article.objects.count()) == counts
