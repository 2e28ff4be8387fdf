"""`seed_demo` adds the incentives: two plans, last quarter paid, this quarter's drafts whose
lines add up, and an open dispute; a second run changes nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from incentives.models import (
    Award,
    CommissionPlan,
    Contest,
    DealCredit,
    Dispute,
    Kudos,
    Statement,
)
from performance import periods

pytestmark = pytest.mark.django_db


def test_demo_incentives():
    call_command("seed_demo", stdout=io.StringIO())

    assert CommissionPlan.objects.count() == 2
    this_quarter = periods.period_bounds("quarter", periods.today())
    paid = Statement.objects.filter(status=Statement.Status.PAID)
    drafts = Statement.objects.filter(status=Statement.Status.DRAFT, start=this_quarter[0])
    assert paid.exists() and drafts.count() >= 20
    assert all(statement.end < this_quarter[0] for statement in paid)
    assert paid.exclude(total=Decimal("0")).exists() and drafts.exclude(total=0).exists()
    for statement in [*paid[:5], *drafts[:5]]:
        lines = list(statement.lines.values_list("amount", flat=True))
        assert statement.total == sum(lines, Decimal("0"))
    assert DealCredit.objects.exists()
    assert Dispute.objects.filter(status="open").count() == 1

    assert Contest.objects.filter(finalized_at__isnull=True).count() == 1
    assert Award.objects.filter(kind="top_seller_month").exists()
    assert Award.objects.filter(kind="teamwork").exists() and Kudos.objects.count() == 4

    before = list(Statement.objects.order_by("pk").values_list("pk", "total", "status"))
    call_command("seed_demo", stdout=io.StringIO())
    assert list(Statement.objects.order_by("pk").values_list("pk", "total", "status")) == before
