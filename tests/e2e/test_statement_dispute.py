"""Browser: a rep opens their statement from the navigation, disputes a line; their
supervisor opens the dispute from the notification and accepts it with an adjustment, which
the rep then sees on the statement."""

import datetime as dt
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps

from incentives import services
from tests.factories import PASSWORD, ManagerFactory, RepFactory, TeamFactory
from tests.incentives.factories import Q1, plan, rule, won_deal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")


def test_rep_disputes_a_line_and_the_supervisor_accepts_it(live_server, browser):
    seed.create_default_pipeline(apps, None)
    team = TeamFactory(name="Hangzhou squad")
    supervisor = ManagerFactory(username="sup", team=team, preferred_language="en")
    rep = RepFactory(username="rep1", team=team, preferred_language="en")
    rule(plan(users=[rep]), tiers=[], base_rate=Decimal("5"))
    won_deal(rep, "40000", dt.date(2026, 2, 12), name="West Lake kiosk")
    statement = services.statement_compute(user=rep, period=Q1)

    rep_page = browser.new_context(locale="en-US").new_page()
    sign_in(rep_page, live_server, rep)
    rep_page.click("nav.sidenav >> text=My statements")
    rep_page.click(f"a[href='/statements/{statement.pk}/']")
    assert (
        "West Lake kiosk: 40,000 at 5%" in rep_page.locator("table.statement-lines").text_content()
    )
    rep_page.click("table.statement-lines >> text=Dispute")
    rep_page.fill("textarea[name=comment]", "The kiosk was sold at the 6% promotion rate.")
    rep_page.click("button.primary >> text=Send to my manager")
    rep_page.wait_for_url(re.compile(rf".*/statements/{statement.pk}/$"))
    assert "The kiosk was sold" in rep_page.locator(".dispute-note").text_content()

    manager_page = browser.new_context(locale="en-US").new_page()
    sign_in(manager_page, live_server, supervisor)
    manager_page.goto(f"{live_server.url}/notifications/")
    manager_page.click("text=disputes a line of their statement")
    manager_page.click(".dispute-note a")
    manager_page.check("input[name=decision][value=accept]")
    manager_page.fill("input[name=adjustment]", "400.00")
    manager_page.fill("textarea[name=resolution]", "Promotion confirmed by marketing.")
    manager_page.click("button.primary >> text=Resolve")
    manager_page.wait_for_url(re.compile(r".*/disputes/$"))

    rep_page.reload()
    lines = rep_page.locator("table.statement-lines").text_content()
    assert "Dispute accepted" in lines and "400.00" in lines
    assert "2400.00" in rep_page.locator("tr.grand-total").text_content()
