import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from customers.models import Account
from pipeline import tasks
from pipeline.models import Deal, ForecastSnapshot, FunnelSnapshot, Pipeline
from salesmgmt.celery import app
from teams.models import Notification
from tests.customers.factories import AccountFactory
from tests.pipeline.factories import (
    AssignmentRuleFactory,
    CompetitorFactory,
    DealFactory,
    ProductCategoryFactory,
)

pytestmark = pytest.mark.django_db


def test_beat_schedule_names_registered_pipeline_tasks():
    entries = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"].startswith("pipeline.")
    }
    assert {entry["task"] for entry in entries.values()} == {
        "pipeline.tasks.check_first_contact_sla",
        "pipeline.tasks.notify_stale_deals",
        "pipeline.tasks.funnel_rollup",
        "pipeline.tasks.forecast_rollup",
    }
    app.loader.import_default_modules()
    for entry in entries.values():
        assert entry["task"] in app.tasks
    assert entries["pipeline-first-contact-sla"]["schedule"] == 900.0


def test_tasks_call_the_services_and_notify_once_when_run_twice(org):
    now = timezone.now()
    lead = AccountFactory(owner=org.rep_a, status=Account.Status.LEAD)
    Account.objects.filter(pk=lead.pk).update(created_at=now - timedelta(hours=25))
    assert tasks.check_first_contact_sla.delay().get() == 1
    assert tasks.check_first_contact_sla.delay().get() == 0

    deal = DealFactory(account=AccountFactory(owner=org.rep_a, status=Account.Status.CUSTOMER))
    Deal.objects.filter(pk=deal.pk).update(stage_due_at=now - timedelta(minutes=1))
    assert tasks.notify_stale_deals.delay().get() == 1
    assert tasks.notify_stale_deals.delay().get() == 0
    assert Notification.objects.filter(kind="deal_stale").count() == 1
    assert Notification.objects.filter(kind="first_contact_sla").count() == 1

    today = timezone.localdate()
    assert tasks.funnel_rollup.delay(today.isoformat()).get() >= 1
    assert FunnelSnapshot.objects.filter(day=today, owner=org.rep_a).exists()
    # Yesterday: no moves, but the open deal is in its stage at the time of the rollup.
    assert tasks.funnel_rollup.delay().get() == 1
    (row,) = FunnelSnapshot.objects.filter(day=today - timedelta(days=1))
    assert (row.in_stage_count, row.entered) == (1, 0)
    Deal.objects.filter(pk=deal.pk).update(expected_close=today)
    assert tasks.forecast_rollup.delay().get() == 2  # rep_a's month and quarter
    assert ForecastSnapshot.objects.filter(taken_on=today, owner=org.rep_a).count() == 2


@pytest.fixture
def admin_client(org, client_for):
    return client_for(org.root)


@pytest.mark.parametrize(
    "model",
    [
        "pipeline",
        "assignmentrule",
        "productcategory",
        "competitor",
        "pipelinesettings",
        "deal",
    ],
)
def test_admin_lists_open(admin_client, org, model):
    DealFactory(account=AccountFactory(owner=org.rep_a))
    AssignmentRuleFactory(user=org.rep_a)
    ProductCategoryFactory()
    CompetitorFactory()
    assert admin_client.get(f"/admin/pipeline/{model}/").status_code == 200


def test_admin_edits_stages_inline_through_the_services(admin_client, org):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    url = f"/admin/pipeline/pipeline/{pipeline.pk}/change/"
    assert admin_client.get(url).status_code == 200
    data = {
        "name": pipeline.name,
        "name_zh": pipeline.name_zh,
        "is_default": "on",
        "active": "on",
        "order": 0,
        "stages-TOTAL_FORMS": len(stages),
        "stages-INITIAL_FORMS": len(stages),
        "stages-MIN_NUM_FORMS": 0,
        "stages-MAX_NUM_FORMS": 1000,
    }
    for index, stage in enumerate(stages):
        prefix = f"stages-{index}-"
        data.update(
            {
                f"{prefix}id": stage.pk,
                f"{prefix}pipeline": pipeline.pk,
                f"{prefix}order": stage.order,
                f"{prefix}code": stage.code,
                f"{prefix}name": stage.name,
                f"{prefix}name_zh": stage.name_zh,
                f"{prefix}win_probability": stage.win_probability,
                f"{prefix}sla_days": 3 if index == 0 else (stage.sla_days or ""),
                f"{prefix}forecast_category": stage.forecast_category,
                f"{prefix}required_fields": json.dumps(stage.required_fields),
                f"{prefix}checklist": json.dumps(stage.checklist),
            }
        )
        if stage.is_won:
            data[f"{prefix}is_won"] = "on"
        if stage.is_lost:
            data[f"{prefix}is_lost"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    deal.refresh_from_db()
    assert deal.stage_due_at == deal.stage_entered_at + timedelta(days=3)
