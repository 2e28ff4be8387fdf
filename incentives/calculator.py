"""The arithmetic of a statement, free of the database: credited deals and the period's figures
in, statement lines out. Every line's amount is rounded half up to the cent on its own, from
its rounded basis, so a line can be checked by hand from what it shows.

Attainment is the person's credited won revenue of the period over their revenue target.
The credited deals are taken in the order they closed; for marginal tiers each deal fills
the tiers from where the previous ones left off, so a deal that crosses a tier boundary
gives one line per tier it touches. For retroactive tiers every deal pays the rate of the
tier the period's attainment reached. Without a target, neither tiers nor threshold apply
and the base rate pays.
"""

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.utils import translation

from incentives.models import (
    Basis,
    BonusKind,
    BonusPeriod,
    LineKind,
    TeamSplit,
    TierMode,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")

# Texts already translated, per language; while period_lines runs, the current language's.
_translated: dict[str | None, dict[str, str]] = {}
_texts: ContextVar[dict[str, str] | None] = ContextVar("statement_texts", default=None)


def _(message: str) -> str:
    """gettext, remembered per language during period_lines: a statement run writes the
    same few texts on tens of thousands of lines."""
    texts = _texts.get()
    if texts is None:
        return translation.gettext(message)
    text = texts.get(message)
    if text is None:
        text = texts[message] = translation.gettext(message)
    return text


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def money_text(value: Decimal) -> str:
    """1250000.00 -> "1,250,000"; 12.5 -> "12.50"."""
    value = cents(value)
    text = f"{value:,.2f}"
    return text[:-3] if text.endswith(".00") else text


def percent_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"{text}%"


@dataclass(frozen=True, slots=True)
class Credit:
    """A won deal, or the share of one, credited to the person."""

    deal_id: int
    deal_name: str
    amount: Decimal
    share: Decimal  # percent of the deal credited to the person
    closed_at: dt.date
    product_category_id: int | None = None
    cost: Decimal | None = None
    new_customer: bool = False
    # Set once here rather than as a cached_property, whose lookup costs more than the sum
    # over the tens of thousands of credits of a statement run.
    revenue: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "revenue", cents(self.amount * self.share / HUNDRED))

    @property
    def margin(self) -> Decimal | None:
        if self.cost is None:
            return None
        return max(cents((self.amount - self.cost) * self.share / HUNDRED), ZERO)

    @property
    def share_note(self) -> str:
        if self.share == HUNDRED:
            return ""
        return " " + _("(your %(share)s share)") % {"share": percent_text(self.share)}


@dataclass(frozen=True)
class TierSpec:
    from_percent: Decimal
    to_percent: Decimal | None
    rate: Decimal

    @property
    def label(self) -> str:
        if self.to_percent is None:
            return _("above %(low)s") % {"low": percent_text(self.from_percent)}
        return f"{percent_text(self.from_percent)[:-1]}–{percent_text(self.to_percent)}"


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    basis: str
    product_category_id: int | None
    base_rate: Decimal
    tier_mode: str
    threshold_percent: Decimal
    cap: Decimal | None
    tiers: tuple[TierSpec, ...] = ()

    @classmethod
    def of(cls, rule) -> "RuleSpec":
        return cls(
            id=rule.pk,
            name=rule.name,
            basis=rule.basis,
            product_category_id=rule.product_category_id,
            base_rate=rule.base_rate,
            tier_mode=rule.tier_mode,
            threshold_percent=rule.threshold_percent,
            cap=rule.cap,
            tiers=tuple(
                TierSpec(tier.from_percent, tier.to_percent, tier.rate)
                for tier in sorted(rule.tiers.all(), key=lambda t: t.from_percent)
            ),
        )


@dataclass(frozen=True)
class BonusSpec:
    id: int
    name: str
    kind: str
    amount: Decimal | None
    percent: Decimal | None
    attainment_percent: Decimal | None
    period: str
    team_split: str
    min_deal_amount: Decimal | None
    min_years: int

    @classmethod
    def of(cls, bonus) -> "BonusSpec":
        return cls(
            **{
                name: getattr(bonus, name)
                for name in (
                    "name",
                    "kind",
                    "amount",
                    "percent",
                    "attainment_percent",
                    "period",
                    "team_split",
                    "min_deal_amount",
                    "min_years",
                )
            },
            id=bonus.pk,
        )


@dataclass(frozen=True)
class TeamFigures:
    """The person's team for a team bonus: its revenue target and actual, its active members
    and the revenue each of them won."""

    target: Decimal | None
    actual: Decimal
    members: int
    member_revenue: Decimal
    team_revenue: Decimal


@dataclass
class PeriodInputs:
    start: dt.date
    end: dt.date
    target: Decimal | None
    credits: list[Credit]
    hire_date: dt.date | None = None
    team: TeamFigures | None = None
    year_target: Decimal | None = None
    year_revenue: Decimal | None = None

    def __post_init__(self):
        self.credits = sorted(self.credits, key=lambda c: (c.closed_at, c.deal_id))

    @cached_property
    def revenue(self) -> Decimal:
        return sum((credit.revenue for credit in self.credits), ZERO)

    @cached_property
    def attainment(self) -> Decimal | None:
        if not self.target:
            return None
        return self.revenue * HUNDRED / self.target


@dataclass(slots=True)
class LineDraft:
    kind: str
    source_key: str
    amount: Decimal
    explanation: str
    deal_id: int | None = None
    rule_id: int | None = None
    bonus_rule_id: int | None = None
    basis: Decimal | None = None
    rate: Decimal | None = None
    corrects_id: int | None = None


def attainment_text(value: Decimal | None) -> str:
    return percent_text(value.quantize(Decimal("0.1"), ROUND_HALF_UP)) if value is not None else ""


def _rule_for(rules: list[RuleSpec], category_id: int | None) -> RuleSpec | None:
    general = None
    for rule in rules:
        if rule.product_category_id is None:
            general = rule
        elif rule.product_category_id == category_id:
            return rule
    return general


Segment = tuple[Decimal, Decimal | None, Decimal, str]


def _segments(rule: RuleSpec, target: Decimal) -> list[Segment]:
    """The revenue ranges [low, high) of the rule's tiers in money, with the base rate filling
    any range no tier covers: (low, high or None, rate, note). The note, which a marginal
    line appends to its text, is written here once per period rather than once per line."""
    segments = []
    position = ZERO

    def note(label):
        return " " + _("(%(tier)s, marginal)") % {"tier": label}

    for tier in rule.tiers:
        low = target * tier.from_percent / HUNDRED
        high = None if tier.to_percent is None else target * tier.to_percent / HUNDRED
        if low > position:
            segments.append((position, low, rule.base_rate, note(_("base rate"))))
        label = _("tier %(tier)s") % {"tier": tier.label}
        segments.append((low, high, tier.rate, note(label)))
        if high is None:
            return segments
        position = high
    segments.append((position, None, rule.base_rate, note(_("base rate"))))
    return segments


def _reached_tier(rule: RuleSpec, attainment: Decimal) -> TierSpec | None:
    for tier in rule.tiers:
        if attainment >= tier.from_percent and (
            tier.to_percent is None or attainment < tier.to_percent
        ):
            return tier
    return None


def _rate_line(credit, rule, key, basis, rate, note) -> LineDraft:
    amount = cents(basis * rate / HUNDRED)
    text = _("%(deal)s: %(basis)s at %(rate)s") % {
        "deal": credit.deal_name,
        "basis": money_text(basis),
        "rate": percent_text(rate),
    }
    return LineDraft(
        kind=LineKind.COMMISSION,
        source_key=key,
        amount=amount,
        explanation=f"{text}{credit.share_note}{note}",
        deal_id=credit.deal_id,
        rule_id=rule.id,
        basis=basis,
        rate=rate,
    )


def _zero_line(credit, rule, key, basis, reason) -> LineDraft:
    return LineDraft(
        kind=LineKind.COMMISSION,
        source_key=key,
        amount=ZERO,
        explanation=_("%(deal)s: %(basis)s, nothing paid: %(reason)s")
        % {"deal": credit.deal_name, "basis": money_text(basis), "reason": reason},
        deal_id=credit.deal_id,
        rule_id=rule.id,
        basis=basis,
    )


def _deal_lines(credit, rule, attainment, position, segments) -> list[LineDraft]:
    key = f"commission:{credit.deal_id}:{rule.id}"
    revenue = credit.revenue
    basis = revenue
    basis_note = ""
    if rule.basis == Basis.MARGIN:
        if credit.margin is None:
            return [_zero_line(credit, rule, key, revenue, _("no cost recorded, margin unknown"))]
        basis = credit.margin
        basis_note = " " + _("(margin)")
    if attainment is None or not rule.tiers:
        note = basis_note
        if attainment is None and (rule.tiers or rule.threshold_percent):
            note += " " + _("(no revenue target for the period: base rate)")
        return [_rate_line(credit, rule, key, basis, rule.base_rate, note)]
    if attainment < rule.threshold_percent:
        reason = _("attainment %(attainment)s is below the %(threshold)s threshold") % {
            "attainment": attainment_text(attainment),
            "threshold": percent_text(rule.threshold_percent),
        }
        return [_zero_line(credit, rule, key, basis, reason)]
    if rule.tier_mode == TierMode.RETROACTIVE:
        tier = _reached_tier(rule, attainment)
        if tier is None:
            note = " " + _("(base rate, retroactive)")
            return [_rate_line(credit, rule, key, basis, rule.base_rate, basis_note + note)]
        note = " " + _("(tier %(tier)s, retroactive)") % {"tier": tier.label}
        return [_rate_line(credit, rule, key, basis, tier.rate, basis_note + note)]
    # Marginal: the deal's revenue occupies [position, position + revenue) of the period.
    lines = []
    end = position + revenue
    slices = []
    for index, (low, high, rate, tier_note) in enumerate(segments):
        if low >= end:
            break  # the segments are in order: the rest lie above the deal
        if high is not None and high <= position:
            continue
        overlap = (end if high is None else min(end, high)) - max(position, low)
        if overlap > 0:
            slices.append((index, overlap, rate, tier_note))
    allocated = ZERO
    for number, (index, overlap, rate, tier_note) in enumerate(slices):
        if number == len(slices) - 1:
            part = basis - allocated
        else:
            part = cents(basis * overlap / revenue) if revenue else ZERO
        allocated += part
        note = basis_note + tier_note
        lines.append(_rate_line(credit, rule, f"{key}:{index}", part, rate, note))
    return lines


def _apply_cap(lines: list[LineDraft], cap: Decimal) -> None:
    paid = ZERO
    for line in lines:
        if paid + line.amount > cap:
            line.amount = max(cap - paid, ZERO)
            line.explanation += " " + _("— capped at %(cap)s for the period") % {
                "cap": money_text(cap)
            }
        paid += line.amount


def commission_lines(rules: list[RuleSpec], inputs: PeriodInputs) -> list[LineDraft]:
    by_rule: dict[int, list[LineDraft]] = {}
    ordered: list[LineDraft] = []
    position = ZERO
    segments = {}
    attainment = inputs.attainment
    for credit in inputs.credits:
        rule = _rule_for(rules, credit.product_category_id)
        if rule is not None:
            if rule.id not in segments and inputs.target:
                segments[rule.id] = _segments(rule, inputs.target)
            lines = _deal_lines(credit, rule, attainment, position, segments.get(rule.id, []))
            by_rule.setdefault(rule.id, []).extend(lines)
            ordered.extend(lines)
        position += credit.revenue
    for rule in rules:
        if rule.cap is not None and rule.id in by_rule:
            _apply_cap(by_rule[rule.id], rule.cap)
    return ordered


def _fixed_or_percent(bonus: BonusSpec, base: Decimal) -> tuple[Decimal, Decimal | None]:
    if bonus.amount is not None:
        return cents(bonus.amount), None
    return cents(base * bonus.percent / HUNDRED), bonus.percent


def _bonus(bonus, key, amount, explanation, **fields) -> LineDraft:
    return LineDraft(
        kind=LineKind.BONUS,
        source_key=f"bonus:{bonus.id}:{key}",
        amount=amount,
        explanation=f"{bonus.name}: {explanation}",
        bonus_rule_id=bonus.id,
        **fields,
    )


def _target_bonus(bonus: BonusSpec, inputs: PeriodInputs) -> list[LineDraft]:
    if bonus.period == BonusPeriod.YEAR:
        if inputs.end.month != 12 or inputs.end.day != 31 or not inputs.year_target:
            return []
        target, revenue = inputs.year_target, inputs.year_revenue or ZERO
        reached = revenue * HUNDRED / target
    else:
        target, revenue, reached = inputs.target, inputs.revenue, inputs.attainment
        if not target:
            return []
    if reached < bonus.attainment_percent:
        return []
    amount, rate = _fixed_or_percent(bonus, revenue)
    if rate is None:
        text = _("attainment %(attainment)s reached %(needed)s: %(amount)s") % {
            "attainment": attainment_text(reached),
            "needed": percent_text(bonus.attainment_percent),
            "amount": money_text(amount),
        }
    else:
        text = _("%(revenue)s at %(rate)s (attainment %(attainment)s reached %(needed)s)") % {
            "revenue": money_text(revenue),
            "rate": percent_text(rate),
            "attainment": attainment_text(reached),
            "needed": percent_text(bonus.attainment_percent),
        }
    return [_bonus(bonus, bonus.period, amount, text, basis=revenue, rate=rate)]


def _team_bonus(bonus: BonusSpec, inputs: PeriodInputs) -> list[LineDraft]:
    team = inputs.team
    if team is None or not team.target or team.actual < team.target or not team.members:
        return []
    reached = _("team target %(target)s met with %(actual)s") % {
        "target": money_text(team.target),
        "actual": money_text(team.actual),
    }
    if bonus.team_split == TeamSplit.CONTRIBUTION:
        if not team.team_revenue:
            return []
        amount = cents(bonus.amount * team.member_revenue / team.team_revenue)
        text = _("%(reached)s; your share of the %(pool)s pool: %(mine)s of %(all)s") % {
            "reached": reached,
            "pool": money_text(bonus.amount),
            "mine": money_text(team.member_revenue),
            "all": money_text(team.team_revenue),
        }
    else:
        amount = cents(bonus.amount / team.members)
        text = _("%(reached)s; the %(pool)s pool shared by %(members)s people") % {
            "reached": reached,
            "pool": money_text(bonus.amount),
            "members": team.members,
        }
    return [_bonus(bonus, "team", amount, text, basis=bonus.amount)]


def _deal_bonuses(bonus: BonusSpec, inputs: PeriodInputs) -> list[LineDraft]:
    # What does not depend on the deal is worked out once, not on each of thousands of lines.
    new_customer = bonus.kind == BonusKind.NEW_CUSTOMER
    large_deal = bonus.kind == BonusKind.LARGE_DEAL
    amount_text = None if bonus.amount is None else money_text(bonus.amount)
    if new_customer:
        template = _("%(deal)s, first won deal of the account: %(amount)s")
    elif large_deal:
        minimum = bonus.min_deal_amount
        minimum_text = money_text(minimum)
        if bonus.amount is not None:
            template = _("%(deal)s of %(amount)s, at least %(minimum)s: %(bonus)s")
        else:
            rate = bonus.percent
            rate_text = percent_text(rate)
            template = _("%(deal)s: %(above)s above %(minimum)s at %(rate)s")
    lines = []
    for credit in inputs.credits:
        if new_customer and credit.new_customer:
            amount = cents(bonus.amount * credit.share / HUNDRED)
            text = template % {"deal": credit.deal_name, "amount": amount_text}
            line_rate = None
        elif large_deal and credit.amount >= minimum:
            if bonus.amount is not None:
                amount, line_rate = cents(bonus.amount * credit.share / HUNDRED), None
                text = template % {
                    "deal": credit.deal_name,
                    "amount": money_text(credit.amount),
                    "minimum": minimum_text,
                    "bonus": amount_text,
                }
            else:
                line_rate = rate
                above = cents((credit.amount - minimum) * credit.share / HUNDRED)
                amount = cents(above * rate / HUNDRED)
                text = template % {
                    "deal": credit.deal_name,
                    "above": money_text(above),
                    "minimum": minimum_text,
                    "rate": rate_text,
                }
        else:
            continue
        lines.append(
            _bonus(
                bonus,
                f"deal:{credit.deal_id}",
                amount,
                text + credit.share_note,
                deal_id=credit.deal_id,
                rate=line_rate,
            )
        )
    return lines


def anniversary(hired: dt.date, year: int) -> dt.date:
    if hired.month == 2 and hired.day == 29:
        return dt.date(year, 2, 28) if year % 4 else dt.date(year, 2, 29)
    return hired.replace(year=year)


def _service_bonus(bonus: BonusSpec, inputs: PeriodInputs) -> list[LineDraft]:
    hired = inputs.hire_date
    if hired is None:
        return []
    lines = []
    for year in range(inputs.start.year, inputs.end.year + 1):
        day = anniversary(hired, year)
        years = year - hired.year
        if inputs.start <= day <= inputs.end and years >= bonus.min_years:
            text = _("%(years)s years of service on %(day)s: %(amount)s") % {
                "years": years,
                "day": day.isoformat(),
                "amount": money_text(bonus.amount),
            }
            lines.append(_bonus(bonus, f"service:{years}", cents(bonus.amount), text))
    return lines


BONUS_LINES = {
    BonusKind.TARGET_REACHED: _target_bonus,
    BonusKind.TEAM_TARGET: _team_bonus,
    BonusKind.NEW_CUSTOMER: _deal_bonuses,
    BonusKind.LARGE_DEAL: _deal_bonuses,
    BonusKind.LONG_SERVICE: _service_bonus,
}


def period_lines(
    rules: list[RuleSpec], bonuses: list[BonusSpec], inputs: PeriodInputs
) -> list[LineDraft]:
    """The commission and bonus lines of one period."""
    token = _texts.set(_translated.setdefault(translation.get_language(), {}))
    try:
        lines = commission_lines(rules, inputs)
        for bonus in bonuses:
            lines.extend(BONUS_LINES[bonus.kind](bonus, inputs))
    finally:
        _texts.reset(token)
    return lines
