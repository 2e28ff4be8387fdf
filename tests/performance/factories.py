"""Helpers for performance tests: won deals with a given close date, interactions at a given
time and targets made through the services."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from customers.models import Interaction
from performance import services
from pipeline.models import Deal
from tests.customers.factories import AccountFactory
from tests.pipeline.factories import DealFactory, default_stages


def won_deal(owner, amount, closed_at: dt.date, account=None, **fields) -> Deal:
    """A deal won on `closed_at` (written directly: the stage moves are not under test)."""
    account = account or AccountFactory(owner=owner)
    deal = DealFactory(owner=owner, account=account, amount=Decimal(amount), **fields)
    won = default_stages()["contract_signed"]
    Deal.objects.filter(pk=deal.pk).update(status=Deal.Status.WON, stage=won, closed_at=closed_at)
    deal.refresh_from_db()
    return deal


def interaction(user, when: dt.datetime, account=None) -> Interaction:
    account = account or AccountFactory(owner=user)
    return Interaction.objects.create(
        account=account, logged_by=user, occurred_at=when, subject="Call"
    )


def local(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def target(by, **fields):
    fields.setdefault("metric", "revenue")
    fields.setdefault("value", Decimal("1000"))
    return services.target_create(by=by, **fields)
