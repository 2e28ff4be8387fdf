"""A rep drags a deal to the next stage on the board, is asked for the missing entry
criteria, fills them in and sees the card in the new column; another deal is lost through
the card's "Move to" menu."""

import importlib
import re

import pytest
from django.apps import apps

from pipeline.models import Deal
from tests.customers.factories import AccountFactory, ContactFactory
from tests.factories import PASSWORD, RepFactory, TeamFactory
from tests.pipeline.factories import DealFactory, default_stages

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")


def column(page, stage):
    return page.locator(f'#board section.board-column[data-stage="{stage.pk}"]')


def test_rep_drags_a_deal_and_fills_the_missing_criterion(live_server, page):
    # Earlier transactional tests flush the rows the data migration made.
    seed.create_default_pipeline(apps, None)
    team = TeamFactory(name="Shanghai branch")
    rep = RepFactory(username="rep1", first_name="Ray", team=team, preferred_language="en")
    account = AccountFactory(owner=rep, name="Evergreen Logistics Ltd.")
    ContactFactory(account=account, name="Grace Wong", is_primary=True)
    dragged = DealFactory(account=account, name="Evergreen renewal")
    menu = DealFactory(account=account, name="Warehouse upgrade")
    stages = default_stages()

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav.sidenav >> text=Deal board")
    page.wait_for_url(re.compile(r".*/board/$"))

    lead, needs = column(page, stages["lead_discovery"]), column(page, stages["needs_analysis"])
    assert lead.locator(".column-count").text_content().strip() == "2"
    page.drag_and_drop(
        f"#deal-card-{dragged.pk}", f'section[data-stage="{stages["needs_analysis"].pk}"]'
    )

    # The move is refused until the contact and the checklist item are given.
    dialog = page.locator("#move-dialog form.move-criteria")
    dialog.wait_for()
    assert "Needs analysis" in dialog.text_content()
    dialog.locator("select[name=contact]").select_option(label="Grace Wong")
    dialog.get_by_label("Decision maker identified").check()
    dialog.locator("button[type=submit]").click()

    needs.locator(f"#deal-card-{dragged.pk}").wait_for()
    assert page.url.endswith("/board/")
    assert page.locator("#move-dialog form").count() == 0
    assert "moved to Needs analysis" in page.text_content("#board .board-message")
    assert lead.locator(".column-count").text_content().strip() == "1"
    assert needs.locator(".column-count").text_content().strip() == "1"
    dragged.refresh_from_db()
    assert dragged.stage == stages["needs_analysis"] and dragged.contact.name == "Grace Wong"

    # The Move-to menu works from the keyboard: choose Lost, give the reason.
    card = page.locator(f"#deal-card-{menu.pk}")
    card.locator("select[name=stage]").select_option(label="Lost")
    card.locator("form.move-to button").click()
    dialog.wait_for()
    dialog.locator("select[name=lost_reason]").select_option("price")
    dialog.locator("button[type=submit]").click()
    page.locator(f"#deal-card-{menu.pk}").wait_for(state="detached")
    menu.refresh_from_db()
    assert (menu.status, menu.lost_reason) == (Deal.Status.LOST, "price")
