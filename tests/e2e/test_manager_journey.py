"""A manager signs in, sees the home page and the org chart, and switches to Chinese."""

import re

import pytest
from django.utils import translation

from tests.factories import PASSWORD, ManagerFactory, RepFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def chinese(msgid: str) -> str:
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    assert re.search(r"[\u4e00-\u9fff]", text), f"msgid {msgid!r} has no Chinese translation"
    return text


def test_manager_signs_in_sees_home_and_org_chart_and_switches_to_chinese(live_server, page):
    region = TeamFactory(name="East region")
    branch = TeamFactory(name="Shanghai branch", parent=region)
    TeamFactory(name="North region")  # not theirs
    manager = ManagerFactory(
        username="mgr", first_name="Mia", last_name="Wong", team=region, preferred_language="en"
    )
    RepFactory(username="rep1", first_name="Ray", last_name="Chen", team=branch)

    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")

    page.wait_for_url(f"{live_server.url}/")
    body = page.text_content("main")
    assert "Welcome, Mia Wong" in body
    assert "East region" in body

    page.click("nav.sidenav >> text=Org chart")
    page.wait_for_url(re.compile(r".*/org/$"))
    chart = page.text_content("main")
    assert "East region" in chart and "Shanghai branch" in chart
    assert "North region" not in chart

    # Depends on the catalogue entry msgid "Org chart" -> "组织架构".
    page.click("header .lang-switch button")
    page.wait_for_url(re.compile(r".*/org/$"))
    page.wait_for_selector("html[lang=zh-hans]")
    heading = page.text_content("main h1")
    assert heading.strip() == chinese("Org chart")
    assert "组织架构" in heading
    assert chinese("Home") in page.text_content("nav.sidenav")
    manager.refresh_from_db()
    assert manager.preferred_language == "zh-hans"
