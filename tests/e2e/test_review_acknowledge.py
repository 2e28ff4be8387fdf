"""Browser: a rep opens their submitted review from the navigation, writes a comment and
acknowledges it, and sees the review acknowledged with their comment."""

import importlib
import re

import pytest
from django.apps import apps

from performance import services
from performance.models import Review
from tests.factories import PASSWORD, ManagerFactory, RepFactory, TeamFactory
from tests.performance.reviews import AFTER_Q1, all_levels, open_cycle

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")


def test_rep_acknowledges_their_review_with_a_comment(live_server, page):
    # Earlier transactional tests flush the rows the data migration made.
    seed.create_default_pipeline(apps, None)
    team = TeamFactory(name="Nanjing squad")
    manager = ManagerFactory(username="mgr", team=team, preferred_language="en")
    rep = RepFactory(username="rep1", first_name="Lin", team=team, preferred_language="en")
    cycle = open_cycle(manager, team)
    review = cycle.reviews.get(reviewee=rep)
    services.review_submit(
        by=manager,
        review=review,
        criteria_scores=all_levels(cycle, 4),
        strengths="Prepares every customer visit.",
        improvements="Log calls the same day.",
        today=AFTER_Q1,
    )

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav.sidenav >> text=My reviews")
    page.click(f"a[href='/reviews/{review.pk}/']")
    page.wait_for_url(re.compile(rf".*/reviews/{review.pk}/$"))
    assert page.text_content(".page-head .status").strip() == "Submitted"
    assert "Prepares every customer visit." in page.text_content("main")

    page.fill("textarea[name=comment]", "Agreed; I will log calls daily.")
    page.click("button.primary >> text=Acknowledge")
    page.wait_for_url(re.compile(rf".*/reviews/{review.pk}/$"))
    assert "You acknowledged your review." in page.text_content("ul.messages")
    assert page.text_content(".page-head .status").strip() == "Acknowledged"
    assert "Agreed; I will log calls daily." in page.text_content("main")
    assert page.locator("textarea[name=comment]").count() == 0
    review.refresh_from_db()
    assert review.status == Review.Status.ACKNOWLEDGED
    assert review.reviewee_comment == "Agreed; I will log calls daily."
