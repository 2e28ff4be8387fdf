"""The nightly tasks are scheduled and call the services; the admin pages open and check
plans like the services do."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from incentives import tasks
from incentives.models import CommissionPlan, Statement
from performance import periods
from salesmgmt.celery import app
from tests.incentives.factories import plan, rule, won_deal

pytestmark = pytest.mark.django_db


def test_beat_schedule_names_registered_incentives_tasks():
    entries = {
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"].startswith("incentives.")
    }
    assert entries == {
        "incentives.tasks.recompute_statements",
        "incentives.tasks.grant_awards",
    }
    app.loader.import_default_modules()
    assert entries <= set(app.tasks)


def test_recompute_task_builds_this_periods_drafts_idempotently(org):
    today = periods.today()
    rule(plan(users=[org.rep_a], start=dt.date(today.year, 1, 1)), tiers=[], base_rate=Decimal(2))
    won_deal(org.rep_a, "5000", today)
    assert tasks.recompute_statements.delay().get() == 1
    assert tasks.recompute_statements.delay(today.isoformat()).get() == 1
    statement = Statement.objects.get()
    assert (statement.user, statement.total) == (org.rep_a, Decimal("100.00"))
    assert tasks.grant_awards.delay().get() >= 0


def test_admin_pages_open_and_refuse_overlapping_plans(org, client):
    client.force_login(org.root)
    rule(plan(users=[org.rep_a], name="First"), tiers=[], base_rate=Decimal(1))
    for name in (
        "commissionplan",
        "commissionrule",
        "bonusrule",
        "statement",
        "dispute",
        "contest",
        "award",
        "kudos",
        "dealcredit",
        "dealcost",
    ):
        response = client.get(reverse(f"admin:incentives_{name}_changelist"))
        assert response.status_code == 200, name
    response = client.post(
        reverse("admin:incentives_commissionplan_add"),
        {
            "name": "Second",
            "effective_from": "2026-02-01",
            "period": "quarter",
            "currency": "CNY",
            "users": [org.rep_a.pk],
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
            "bonuses-TOTAL_FORMS": "0",
            "bonuses-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "already applies to this person" in response.content.decode()
    assert CommissionPlan.objects.count() == 1
