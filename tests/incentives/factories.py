"""Helpers for incentives tests: plans with tiers made through the services, revenue targets
and won deals on given days."""

import datetime as dt
from decimal import Decimal

from incentives import services
from incentives.models import BonusRule, CommissionPlan, CommissionRule
from performance.models import Target
from tests.performance.factories import won_deal

Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
Q2 = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
STANDARD_TIERS = [
    {"from_percent": Decimal("0"), "to_percent": Decimal("80"), "rate": Decimal("3")},
    {"from_percent": Decimal("80"), "to_percent": Decimal("100"), "rate": Decimal("5")},
    {"from_percent": Decimal("100"), "to_percent": None, "rate": Decimal("8")},
]


def plan(*, users=(), teams=(), levels=(), period="quarter", start=Q1[0], end=None, name="Plan"):
    return services.commission_plan_save(
        by=None,
        plan=CommissionPlan(name=name, effective_from=start, effective_to=end, period=period),
        users=list(users),
        teams=list(teams),
        ladder_levels=list(levels),
    )


def rule(plan, *, tiers=STANDARD_TIERS, **fields):
    fields.setdefault("name", "Revenue")
    fields.setdefault("tier_mode", "marginal")
    return services.commission_rule_save(
        by=None, rule=CommissionRule(plan=plan, **fields), tiers=list(tiers)
    )


def bonus(plan, **fields):
    fields.setdefault("name", fields["kind"].replace("_", " ").title())
    return services.bonus_rule_save(by=None, bonus=BonusRule(plan=plan, **fields))


def revenue_target(value, *, user=None, team=None, period=Q1, period_type="quarter"):
    return Target.objects.create(
        user=user,
        team=team,
        metric="revenue",
        period_type=period_type,
        start=period[0],
        end=period[1],
        value=Decimal(value),
    )


__all__ = ["won_deal", "Q1", "Q2", "plan", "rule", "bonus", "revenue_target"]
