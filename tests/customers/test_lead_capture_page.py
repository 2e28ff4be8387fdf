"""The public lead capture page: no login, a honeypot, a per-address rate limit, and a lead
account with its contact assigned by round robin, its owner notified."""

import pytest

from customers.models import Account, Contact, CustomerSettings
from teams.models import Notification
from tests.customers.factories import IndustryFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "company": "Acme Robotics",
    "name": "Jane Doe",
    "phone": "+86 138 0000 1111",
    "email": "jane@acme-robotics.example",
    "message": "Please call me about pricing.",
}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def lead_team(org):
    settings_row = CustomerSettings.load()
    settings_row.lead_capture_team = org.east_a
    settings_row.save()
    return org.east_a


def test_the_page_is_public(client):
    response = client.get("/lead/")
    assert response.status_code == 200
    assert 'name="homepage"' in response.content.decode()
    assert client.get("/lead/thanks/").status_code == 200


def test_a_lead_creates_account_and_contact_assigns_and_notifies(client, org, lead_team):
    industry = IndustryFactory(code="robots", name="Robots")
    response = client.post("/lead/", {**GOOD, "industry": industry.pk})
    assert response.status_code == 302 and response["Location"] == "/lead/thanks/"
    account = Account.objects.get(name="Acme Robotics")
    assert account.source == Account.Source.WEB_FORM and account.status == Account.Status.LEAD
    assert account.owner == org.rep_a and account.industry == industry
    contact = Contact.objects.get(account=account)
    assert contact.name == "Jane Doe" and contact.is_primary
    notice = Notification.objects.get(recipient=org.rep_a, kind="lead_captured")
    assert f"/accounts/{account.pk}/" == notice.link


def test_the_honeypot_pretends_success_and_creates_nothing(client, org, lead_team):
    response = client.post("/lead/", {**GOOD, "homepage": "http://spam.example"})
    assert response.status_code == 302 and response["Location"] == "/lead/thanks/"
    assert not Account.objects.exists() and not Contact.objects.exists()


def test_bad_input_gets_form_errors_and_creates_nothing(client, org, lead_team):
    response = client.post("/lead/", {**GOOD, "phone": "", "email": ""})
    assert response.status_code == 400
    assert "Leave a phone number or an email address." in response.content.decode()
    response = client.post("/lead/", {**GOOD, "email": "not-an-email", "company": ""})
    assert response.status_code == 400
    response = client.post("/lead/", {**GOOD, "phone": "call me maybe"})
    assert response.status_code == 400
    assert not Account.objects.exists()


def test_the_rate_limit_answers_429_with_a_friendly_page(client, org, lead_team):
    for number in range(5):
        response = client.post("/lead/", {**GOOD, "company": f"Company {number}"})
        assert response.status_code == 302
    response = client.post("/lead/", {**GOOD, "company": "One too many"})
    assert response.status_code == 429
    assert "Too many enquiries" in response.content.decode()
    assert not Account.objects.filter(name="One too many").exists()
    # Another address is not affected.
    response = client.post("/lead/", {**GOOD, "company": "Other office"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302
