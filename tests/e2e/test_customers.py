"""A rep opens an account, logs a call with a next step, sees it in the timeline and the
follow-up in "My follow-ups"."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import FollowUp
from tests.customers.factories import AccountFactory, ContactFactory
from tests.factories import PASSWORD, RepFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rep_logs_a_call_with_a_next_step(live_server, page):
    team = TeamFactory(name="Shanghai branch")
    rep = RepFactory(username="rep1", first_name="Ray", team=team, preferred_language="en")
    account = AccountFactory(owner=rep, name="Evergreen Logistics Ltd.")
    ContactFactory(account=account, name="Grace Wong", is_primary=True)

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav.sidenav >> text=Accounts")
    page.wait_for_url(re.compile(r".*/accounts/$"))
    page.click("text=Evergreen Logistics Ltd.")
    page.wait_for_url(re.compile(rf".*/accounts/{account.pk}/$"))

    form = page.locator("form.log-form")
    form.locator("select[name=kind]").select_option("call")
    form.locator("input[name=subject]").fill("Discussed the renewal")
    form.locator("select[name=contact]").select_option(label="Grace Wong")
    form.locator("textarea[name=summary]").fill("Happy with the service, wants a quote.")
    form.locator("input[name=next_step]").fill("Send the renewal quote")
    due = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0)
    form.locator("input[name=next_step_due]").fill(due.strftime("%Y-%m-%dT%H:%M"))
    form.locator("button[type=submit]").click()

    # htmx swaps the timeline in place: no page load, and the form is empty again.
    page.wait_for_selector("#timeline >> text=Discussed the renewal")
    assert page.url.endswith(f"/accounts/{account.pk}/")
    assert "Send the renewal quote" in page.text_content("#timeline")
    assert page.input_value("form.log-form input[name=subject]") == ""
    assert FollowUp.objects.filter(title="Send the renewal quote", assignee=rep).exists()

    page.click("nav.sidenav >> text=My follow-ups")
    page.wait_for_url(re.compile(r".*/follow-ups/$"))
    assert "Send the renewal quote" in page.text_content(".bucket-upcoming")
    assert "Evergreen Logistics Ltd." in page.text_content(".bucket-upcoming")
    assert page.text_content("#followup-counts .upcoming strong").strip() == "1"

    # One click marks it done: the row goes and the count follows, without a reload.
    page.click(".bucket-upcoming button:has-text('Done')")
    page.wait_for_function(
        "document.querySelector('#followup-counts .upcoming strong').textContent.trim() === '0'"
    )
    assert "Send the renewal quote" not in page.text_content(".bucket-upcoming")
    assert FollowUp.objects.get(title="Send the renewal quote").status == FollowUp.Status.DONE
