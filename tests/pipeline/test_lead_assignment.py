"""Web leads from the public form get their owner from the assignment rules first, and from
the lead-capture team's round robin when no rule matches."""

import pytest

from customers.models import Account, CustomerSettings
from pipeline.models import AssignmentRule
from teams.models import Notification
from tests.customers.factories import IndustryFactory, RegionFactory
from tests.factories import RepFactory
from tests.pipeline.factories import AssignmentRuleFactory, ProductCategoryFactory

pytestmark = pytest.mark.django_db

LEAD = {
    "company": "Acme Robotics",
    "name": "Jane Doe",
    "phone": "+86 138 0000 1111",
    "email": "jane@acme-robotics.example",
    "message": "Please call me about pricing.",
}


@pytest.fixture
def lead_team(org):
    settings_row = CustomerSettings.load()
    settings_row.lead_capture_team = org.east_a
    settings_row.save()
    return org.east_a


def test_the_first_matching_rule_owns_the_lead_and_is_notified(client, org, lead_team):
    north = RegionFactory()
    AssignmentRuleFactory(order=1, region=RegionFactory(), user=org.rep_b)
    AssignmentRuleFactory(order=2, region=north, source="web_form", user=org.rep_north)
    AssignmentRuleFactory(order=3, user=org.rep_east)

    response = client.post("/lead/", {**LEAD, "region": north.pk})

    assert response.status_code == 302
    account = Account.objects.get(name="Acme Robotics")
    assert account.owner == org.rep_north
    assert Notification.objects.filter(recipient=org.rep_north, kind="lead_captured").exists()


def test_a_rule_for_a_product_category_or_another_source_never_takes_a_lead(client, org, lead_team):
    industry = IndustryFactory()
    AssignmentRuleFactory(
        order=1, industry=industry, product_category=ProductCategoryFactory(), user=org.rep_b
    )
    AssignmentRuleFactory(order=2, industry=industry, source="referral", user=org.rep_east)

    client.post("/lead/", {**LEAD, "industry": industry.pk})

    # No rule applies, so the lead-capture team's round robin gives it to its rep.
    assert Account.objects.get(name="Acme Robotics").owner == org.rep_a


def test_a_round_robin_rule_shares_leads_among_its_team(client, org, lead_team):
    second = RepFactory(username="rep_b2", team=org.east_b)
    AssignmentRuleFactory(order=1, action=AssignmentRule.Action.ROUND_ROBIN, team=org.east_b)
    for index in range(3):
        client.post("/lead/", {**LEAD, "company": f"Lead {index}", "phone": f"1380000000{index}"})

    owners = list(
        Account.objects.filter(name__startswith="Lead ")
        .order_by("name")
        .values_list("owner__username", flat=True)
    )
    assert owners == ["rep_b", second.username, "rep_b"]


def test_an_inactive_rule_is_skipped(client, org, lead_team):
    AssignmentRuleFactory(order=1, active=False, user=org.rep_b)
    client.post("/lead/", LEAD)
    assert Account.objects.get(name="Acme Robotics").owner == org.rep_a
