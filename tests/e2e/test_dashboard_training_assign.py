"""Browser: a manager finds a rep's recommended course on the team dashboard (a review
criterion scored 2 suggests it, with the reason), assigns it in one click, is brought back
to the dashboard, and the rep finds the course in "my learning"."""

import importlib

import pytest
from django.apps import apps

from performance.models import CriterionKind, Review
from tests.factories import PASSWORD, ManagerFactory, RepFactory, TeamFactory
from tests.performance.reviews import open_cycle
from tests.training.factories import CourseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")


def test_a_manager_assigns_a_recommended_course_from_the_dashboard(live_server, browser):
    seed.create_default_pipeline(apps, None)
    team = TeamFactory(name="Suzhou squad")
    manager = ManagerFactory(username="mgr", team=team, preferred_language="en")
    rep = RepFactory(username="rep1", team=team, preferred_language="en", first_name="Lin")
    CourseFactory(title="Consultative selling", criteria=[CriterionKind.SELLING_SKILLS])
    cycle = open_cycle(manager, team, name="Spring review")
    Review.objects.filter(cycle=cycle, reviewee=rep).update(
        status=Review.Status.SUBMITTED, criteria_scores={CriterionKind.SELLING_SKILLS: 2}
    )

    page = browser.new_context(locale="en-US").new_page()
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/dashboard/?period=quarter")
    card = page.locator(".training-recommendations")
    row = card.locator(f"tr[data-user='{rep.pk}']", has_text="Consultative selling")
    row.get_by_text("scored Selling skills 2 of 5").wait_for()
    row.get_by_role("button", name="Assign").click()
    page.get_by_text("Course assigned.").wait_for()
    assert page.url == f"{live_server.url}/dashboard/?period=quarter"
    assert row.locator(".status").inner_text() == "Assigned"
    assert row.get_by_role("button", name="Assign").count() == 0

    rep_page = browser.new_context(locale="en-US").new_page()
    sign_in(rep_page, live_server, rep)
    rep_page.goto(f"{live_server.url}/training/")
    rep_page.locator(".my-to-do").get_by_role("link", name="Consultative selling").wait_for()
    rep_page.context.close()
    page.context.close()
