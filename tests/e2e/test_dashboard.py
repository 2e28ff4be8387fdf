"""A manager signs in, opens the team dashboard from the side navigation and sees the funnel
chart: an SVG with a pair of bars (in stage now, entered in the range) per stage."""

import importlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from pipeline import services
from pipeline.models import Pipeline, Stage
from tests.customers.factories import AccountFactory
from tests.factories import PASSWORD, ManagerFactory, RepFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")


def test_manager_opens_the_dashboard_and_sees_the_funnel_chart(live_server, page):
    # The flush between transactional tests removes the data migration's pipeline.
    seed.create_default_pipeline(apps, None)
    Stage.objects.update(required_fields=[], checklist=[])
    pipeline = Pipeline.objects.get(is_default=True)
    open_and_won = list(pipeline.stages.filter(is_lost=False).order_by("order"))
    team = TeamFactory(name="East region")
    manager = ManagerFactory(username="mgr", team=team, preferred_language="en")
    rep = RepFactory(username="rep1", first_name="Ray", last_name="Chen", team=team)
    for number, stage in enumerate(open_and_won[:3]):
        services.deal_create(
            by=None,
            name=f"Deal {number}",
            account=AccountFactory(owner=rep),
            amount=Decimal("100000"),
            stage=stage,
            now=timezone.now() - timedelta(days=1),
        )

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav.sidenav >> text=Team dashboard")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    chart = page.locator("svg.chart-funnel")
    chart.wait_for()
    assert chart.get_attribute("role") == "img"
    assert len(open_and_won) == 5
    assert chart.locator("rect.bar").count() == 2 * len(open_and_won)
    labels = chart.locator("text.label").all_text_contents()
    assert [label.strip() for label in labels] == [stage.name for stage in open_and_won]
    # The chart scales with the page: it is as wide as its card, never wider than the screen.
    box = chart.bounding_box()
    assert box["width"] > 200
    page.set_viewport_size({"width": 390, "height": 800})
    assert chart.bounding_box()["width"] <= 390
    assert "Ray Chen" in page.text_content("table.rep-table")
    assert "No revenue target is set for this scope and period." in page.text_content(
        "section.target-slot"
    )
