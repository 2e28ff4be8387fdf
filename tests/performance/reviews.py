"""Helpers for the review, feedback, improvement plan and expense tests."""

import datetime as dt
from decimal import Decimal

from performance import services
from performance.models import Expense, ReviewCycle
from pipeline.models import Deal
from tests.pipeline.factories import DealFactory

Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
AFTER_Q1 = dt.date(2026, 4, 10)


def cycle(by, team, *, name="2026 Q1", start=Q1[0], end=Q1[1], **fields) -> ReviewCycle:
    return services.cycle_create(
        by=by, name=name, kind="quarterly", start=start, end=end, team=team, **fields
    )


def open_cycle(by, team, **fields) -> ReviewCycle:
    made = cycle(by, team, **fields)
    services.cycle_open(by=by, cycle=made)
    made.refresh_from_db()
    return made


def lost_deal(owner, closed_at: dt.date, **fields) -> Deal:
    deal = DealFactory(owner=owner, **fields)
    Deal.objects.filter(pk=deal.pk).update(status=Deal.Status.LOST, closed_at=closed_at)
    return deal


def expense(user, amount, day: dt.date, status=Expense.Status.APPROVED, **fields) -> Expense:
    return Expense.objects.create(
        user=user,
        date=day,
        category=fields.pop("category", Expense.Category.TRAVEL),
        amount=Decimal(amount),
        status=status,
        **fields,
    )


def all_levels(cycle_, level: int) -> dict[str, int]:
    return {criterion.kind: level for criterion in cycle_.criteria.all()}
