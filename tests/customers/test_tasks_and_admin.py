from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from customers import tasks
from customers.models import Account, Contact, CustomerSettings
from salesmgmt.celery import app
from teams.models import Notification
from tests.customers.factories import (
    AccountFactory,
    ContactFactory,
    FollowUpFactory,
    LeadScoringRuleFactory,
)

pytestmark = pytest.mark.django_db


def test_beat_schedule_names_registered_customer_tasks():
    customer_entries = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"].startswith("customers.")
    }
    assert {entry["task"] for entry in customer_entries.values()} == {
        "customers.tasks.send_followup_reminders",
        "customers.tasks.recycle_pool_accounts",
        "customers.tasks.recompute_lead_scores",
    }
    app.loader.import_default_modules()
    for entry in customer_entries.values():
        assert entry["task"] in app.tasks
    assert customer_entries["customers-followup-reminders"]["schedule"] == 300.0


def test_tasks_call_the_services(org):
    account = AccountFactory(owner=org.rep_a, size_band=500)
    FollowUpFactory(account=account, due_at=timezone.now() - timedelta(minutes=1))
    assert tasks.send_followup_reminders.delay().get() == 1
    assert tasks.send_followup_reminders.delay().get() == 0
    assert Notification.objects.filter(kind="follow_up_due").count() == 1

    LeadScoringRuleFactory(value="200", points=50)
    assert tasks.recompute_lead_scores.delay().get() == 1
    assert Account.objects.get(pk=account.pk).lead_score == 50

    Account.objects.filter(pk=account.pk).update(owner_since=timezone.now() - timedelta(days=90))
    assert tasks.recycle_pool_accounts.delay().get() == {"recycled": 1, "warned": 0}


@pytest.fixture
def admin_client(org, client_for):
    return client_for(org.root)


@pytest.mark.parametrize(
    "model",
    [
        "industry",
        "region",
        "tag",
        "leadscoringrule",
        "customersettings",
        "account",
        "contact",
        "interaction",
        "followup",
        "accountevent",
        "accountmerge",
    ],
)
def test_admin_lists_open(admin_client, model):
    AccountFactory()
    response = admin_client.get(f"/admin/customers/{model}/")
    assert response.status_code == 200


def test_admin_search_finds_by_pinyin(admin_client):
    AccountFactory(name="华为技术")
    response = admin_client.get("/admin/customers/account/", {"q": "huawei"})
    assert "华为技术" in response.content.decode()


def test_admin_add_edit_and_delete_go_through_services(org, admin_client):
    response = admin_client.post(
        "/admin/customers/account/add/",
        {
            "name": "阿里巴巴",
            "status": "lead",
            "source": "manual",
            "owner": org.rep_a.pk,
            "website": "",
            "phone": "",
            "email": "",
            "address": "",
            "notes": "",
            "external_id": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = Account.objects.get(name="阿里巴巴")
    assert account.name_initials == "albb"
    assert account.events.filter(kind="created", actor=org.root).exists()

    contact = ContactFactory(account=account)
    response = admin_client.post(
        "/admin/customers/account/",
        {"action": "soft_delete", "_selected_action": [account.pk]},
    )
    assert response.status_code == 302
    assert Account.all_objects.get(pk=account.pk).deleted_at is not None
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None


def test_admin_settings_validate_thresholds(admin_client):
    settings_row = CustomerSettings.load()
    response = admin_client.post(
        f"/admin/customers/customersettings/{settings_row.pk}/change/",
        {
            "tier_a_min_score": 30,
            "tier_b_min_score": 60,
            "pool_recycle_days": 30,
            "pool_warning_days": 3,
            "pool_claim_cap": 200,
            "pool_cooling_off_days": 7,
            "lead_capture_team": "",
        },
    )
    assert response.status_code == 200
    settings_row.refresh_from_db()
    assert settings_row.tier_a_min_score == 70
