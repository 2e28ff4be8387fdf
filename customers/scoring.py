"""Lead scoring: the evaluation of the admin's rules against an account.

Reads only. The explanation shown on the account page (selectors.score_explain) and the
stored score (services.account_recompute_score) come from the same `evaluate`, so the
page always explains the number it shows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Account, Contact, CustomerSettings, Interaction, LeadScoringRule

Field = LeadScoringRule.Field
Operator = LeadScoringRule.Operator


@dataclass(frozen=True)
class RuleResult:
    rule: LeadScoringRule
    actual: object
    matched: bool
    points: int


@dataclass(frozen=True)
class Score:
    score: int
    tier: str
    results: list[RuleResult]


def active_rules() -> list[LeadScoringRule]:
    return list(LeadScoringRule.objects.filter(active=True).order_by("order", "id"))


def _count_subquery(model, **filters) -> Coalesce:
    counted = (
        model.objects.filter(account=OuterRef("pk"), **filters)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def annotate_for_scoring(
    queryset: QuerySet, rules: list[LeadScoringRule], now: datetime
) -> QuerySet:
    """Adds what the rules need as per-row counts, so a batch is scored in one query (plus
    one for tags) instead of several per account."""
    annotations = {}
    if any(rule.field == Field.CONTACTS for rule in rules):
        annotations["_score_contacts"] = _count_subquery(Contact, deleted_at__isnull=True)
    for days in {rule.window_days for rule in rules if rule.field == Field.RECENT_INTERACTIONS}:
        annotations[f"_score_interactions_{days}"] = _count_subquery(
            Interaction,
            deleted_at__isnull=True,
            occurred_at__gte=now - timedelta(days=days),
            occurred_at__lte=now,
        )
    queryset = queryset.annotate(**annotations) if annotations else queryset
    if any(rule.field == Field.TAGS for rule in rules):
        queryset = queryset.prefetch_related("tags")
    return queryset.select_related("industry", "region")


def _actual(account: Account, rule: LeadScoringRule, now: datetime):
    field = rule.field
    if field == Field.INDUSTRY:
        return account.industry.code if account.industry_id else None
    if field == Field.REGION:
        return account.region.code if account.region_id else None
    if field in (Field.SIZE_BAND, Field.REVENUE_BAND, Field.STATUS, Field.SOURCE):
        return getattr(account, field)
    if field == Field.TAGS:
        return sorted(tag.name for tag in account.tags.all())
    if field == Field.CONTACTS:
        cached = getattr(account, "_score_contacts", None)
        return cached if cached is not None else account.contacts.count()
    if field == Field.RECENT_INTERACTIONS:
        cached = getattr(account, f"_score_interactions_{rule.window_days}", None)
        if cached is not None:
            return cached
        return account.interactions.filter(
            occurred_at__gte=now - timedelta(days=rule.window_days), occurred_at__lte=now
        ).count()
    if field == Field.DAYS_SINCE_CONTACT:
        # An account never contacted counts from the day it was entered.
        since = account.last_contacted_at or account.created_at or now
        return max((now - since).days, 0)
    return None


def _number(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _evaluate_rule(rule: LeadScoringRule, actual) -> tuple[bool, int]:
    if rule.operator == Operator.EACH:
        count = int(actual or 0)
        return count > 0, count * rule.points
    if rule.operator in (Operator.IN, Operator.NOT_IN):
        values = {value.lower() for value in rule.values}
        if isinstance(actual, list):
            hit = any(item.lower() in values for item in actual)
        else:
            hit = actual is not None and str(actual).lower() in values
        matched = hit if rule.operator == Operator.IN else not hit
        return matched, rule.points if matched else 0
    threshold = _number(rule.value)
    if actual is None or threshold is None:
        return False, 0
    actual_number = Decimal(actual)
    matched = (
        actual_number >= threshold
        if rule.operator == Operator.GTE
        else (actual_number <= threshold)
    )
    return matched, rule.points if matched else 0


def evaluate(
    account: Account,
    *,
    rules: list[LeadScoringRule] | None = None,
    settings_row: CustomerSettings | None = None,
    now: datetime | None = None,
) -> Score:
    """Each rule with what the account has and the points it earns; the total clamped to
    0-100 and the tier by the admin's thresholds."""
    now = now or timezone.now()
    rules = active_rules() if rules is None else rules
    settings_row = settings_row or CustomerSettings.load()
    results = []
    for rule in rules:
        actual = _actual(account, rule, now)
        matched, points = _evaluate_rule(rule, actual)
        results.append(RuleResult(rule=rule, actual=actual, matched=matched, points=points))
    total = max(0, min(100, sum(result.points for result in results)))
    return Score(score=total, tier=settings_row.tier_for(total), results=results)
