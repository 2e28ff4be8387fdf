"""Targets made and changed in the Django admin go through the same services as the planning
grid and the API: the creator is recorded, a changed value is marked as edited by hand, and
the scope and period cannot be rewritten afterwards."""

import datetime as dt
from decimal import Decimal

import pytest

from performance.models import Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org, client_for):
    return client_for(org.root)


def test_adding_a_target_in_the_admin_records_its_creator(org, admin_client):
    response = admin_client.post(
        "/admin/performance/target/add/",
        {
            "period_type": "month",
            "start": "2026-03-01",
            "end": "2026-03-31",
            "user": org.rep_a.pk,
            "metric": "revenue",
            "value": "120000.00",
            "tier": "",
            "note": "",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get(user=org.rep_a)
    assert target.created_by == org.root
    assert target.value == Decimal("120000.00") and not target.hand_edited


def test_changing_a_target_in_the_admin_marks_the_value_as_edited_by_hand(org, admin_client):
    target = Target.objects.create(
        user=org.rep_a,
        period_type="month",
        start=dt.date(2026, 3, 1),
        end=dt.date(2026, 3, 31),
        metric="revenue",
        value=Decimal("100000"),
    )
    url = f"/admin/performance/target/{target.pk}/change/"
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(
        url, {"value": "90000.00", "note": "Seasonal dip", "user": org.rep_b.pk}
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal("90000.00") and target.hand_edited
    assert target.note == "Seasonal dip"
    assert target.user == org.rep_a  # the scope is not editable once made


def test_deleting_a_target_in_the_admin(org, admin_client):
    target = Target.objects.create(
        team=org.east_a,
        period_type="quarter",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 31),
        metric="won_deals",
        value=Decimal("10"),
    )
    response = admin_client.post(f"/admin/performance/target/{target.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()
