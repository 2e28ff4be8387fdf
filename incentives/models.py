"""Incentives: commission plans and their rules and tiers, bonus rules, deal credits and
costs, statements and their lines, disputes; contests, awards and kudos.

Money is Decimal (14,2). Workflows (computing, approving and paying statements, disputes)
live in incentives.services; reads with the visibility rule in incentives.selectors.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from performance.models import Metric
from pipeline.models import Deal, ProductCategory
from teams.models import LadderLevel, Team, TimeStampedModel
from teams.querysets import VisibleQuerySet, can_read

ZERO = Decimal("0")
CENT = Decimal("0.01")

MONEY = {"max_digits": 14, "decimal_places": 2}
not_negative = [MinValueValidator(ZERO)]
# Rates and percentages are written as percents: 8 means 8 %.
PERCENT = {"max_digits": 7, "decimal_places": 3}


class PlanPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class CommissionPlan(TimeStampedModel):
    """A set of commission and bonus rules for the people it applies to. Whom it applies to is
    named three ways, the most specific winning: a person, a team (the nearest one above the
    person in the tree), a ladder level. A statement uses the plan in effect on the first day
    of its period."""

    name = models.CharField(_("name"), max_length=120)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    period = models.CharField(
        _("statement period"), max_length=10, choices=PlanPeriod, default=PlanPeriod.QUARTER
    )
    currency = models.CharField(_("payout currency"), max_length=3, default="CNY")
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("people"),
        blank=True,
        related_name="commission_plans",
    )
    teams = models.ManyToManyField(
        Team, verbose_name=_("teams"), blank=True, related_name="commission_plans"
    )
    ladder_levels = models.ManyToManyField(
        LadderLevel, verbose_name=_("ladder levels"), blank=True, related_name="commission_plans"
    )

    class Meta:
        ordering = ["-effective_from", "name"]
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="plan_dates_in_order",
                violation_error_message=_("The plan cannot end before it starts."),
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": _("The plan cannot end before it starts.")})

    def overlaps(self, other: "CommissionPlan") -> bool:
        ends_before = other.effective_to is not None and other.effective_to < self.effective_from
        starts_after = self.effective_to is not None and other.effective_from > self.effective_to
        return not (ends_before or starts_after)


class Basis(models.TextChoices):
    REVENUE = "revenue", _("Won revenue")
    MARGIN = "margin", _("Margin (revenue less the deal's recorded cost)")


class TierMode(models.TextChoices):
    MARGINAL = "marginal", _("Marginal: each slice at its tier's rate")
    RETROACTIVE = "retroactive", _("Retroactive: everything at the reached tier's rate")


class CommissionRule(TimeStampedModel):
    """How a plan pays on won deals: a rule for a product category takes that category's
    deals, the plan's rule without a category takes the rest. Tiers are ranges of the
    person's attainment of their revenue target for the period."""

    plan = models.ForeignKey(
        CommissionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="rules"
    )
    name = models.CharField(_("name"), max_length=120)
    basis = models.CharField(_("basis"), max_length=10, choices=Basis, default=Basis.REVENUE)
    product_category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    base_rate = models.DecimalField(
        _("base rate (%)"),
        **PERCENT,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
        help_text=_("Paid when the rule has no tiers, no target is set, or no tier matches."),
    )
    tier_mode = models.CharField(
        _("tier mode"), max_length=12, choices=TierMode, default=TierMode.MARGINAL
    )
    threshold_percent = models.DecimalField(
        _("threshold (percent of target)"),
        **PERCENT,
        default=ZERO,
        validators=not_negative,
        help_text=_("Below this attainment nothing is paid."),
    )
    cap = models.DecimalField(
        _("cap per period"),
        **MONEY,
        null=True,
        blank=True,
        validators=not_negative,
        help_text=_("The most this rule pays in one period; empty for no cap."),
    )

    class Meta:
        ordering = ["plan", "product_category", "id"]
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "product_category"],
                name="rule_one_per_category",
                violation_error_message=_("The plan already has a rule for this category."),
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(product_category__isnull=True),
                name="rule_one_general",
                violation_error_message=_("The plan already has a rule for all categories."),
            ),
        ]

    def __str__(self):
        return self.name


class CommissionTier(models.Model):
    """Attainment from `from_percent` (included) up to `to_percent` (excluded; empty: no upper
    end) pays `rate` percent."""

    rule = models.ForeignKey(
        CommissionRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="tiers"
    )
    from_percent = models.DecimalField(
        _("from (percent of target)"), **PERCENT, validators=not_negative
    )
    to_percent = models.DecimalField(
        _("to (percent of target)"), **PERCENT, null=True, blank=True, validators=not_negative
    )
    rate = models.DecimalField(
        _("rate (%)"),
        **PERCENT,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["rule", "from_percent"]
        verbose_name = _("commission tier")
        verbose_name_plural = _("commission tiers")

    def __str__(self):
        if self.to_percent is None:
            return _("above %(low)s%%") % {"low": _plain(self.from_percent)}
        return f"{_plain(self.from_percent)}–{_plain(self.to_percent)}%"

    def clean(self):
        if self.to_percent is not None and self.to_percent <= self.from_percent:
            raise ValidationError({"to_percent": _("The tier must end above where it starts.")})


def _plain(value: Decimal) -> str:
    """A percent without trailing zeros: 80.000 -> 80, 2.500 -> 2.5."""
    text = format(value.normalize(), "f")
    return text


class BonusKind(models.TextChoices):
    TARGET_REACHED = "target_reached", _("Target reached")
    TEAM_TARGET = "team_target", _("Team target reached")
    NEW_CUSTOMER = "new_customer", _("New customer won")
    LARGE_DEAL = "large_deal", _("Large deal")
    LONG_SERVICE = "long_service", _("Long service")


class BonusPeriod(models.TextChoices):
    PLAN = "plan", _("The plan's period")
    YEAR = "year", _("The year (paid in its last statement)")


class TeamSplit(models.TextChoices):
    EQUAL = "equal", _("Equally")
    CONTRIBUTION = "contribution", _("By contribution to the team's revenue")


class BonusRule(TimeStampedModel):
    """A bonus a plan pays besides commission. Which fields matter depends on the kind:

    - target reached: `attainment_percent`, then `amount` or `percent` of the credited won
      revenue of the period (`period`: the plan's or the year);
    - team target reached: a pool of `amount` shared by the members of the person's team
      (`team_split`), only when the team's revenue target is met;
    - new customer won: `amount` for each first won deal of an account;
    - large deal: for a deal of at least `min_deal_amount`, `amount` or `percent` of the part
      above it;
    - long service: `amount` when the person's hire anniversary of at least `min_years`
      falls in the period.

    Deal bonuses are paid in proportion to the person's credit on the deal."""

    plan = models.ForeignKey(
        CommissionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="bonuses"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=BonusKind)
    amount = models.DecimalField(
        _("amount"), **MONEY, null=True, blank=True, validators=not_negative
    )
    percent = models.DecimalField(
        _("percent"), **PERCENT, null=True, blank=True, validators=not_negative
    )
    attainment_percent = models.DecimalField(
        _("attainment at least (%)"), **PERCENT, null=True, blank=True, validators=not_negative
    )
    period = models.CharField(
        _("measured over"), max_length=10, choices=BonusPeriod, default=BonusPeriod.PLAN
    )
    team_split = models.CharField(
        _("team pool split"), max_length=15, choices=TeamSplit, default=TeamSplit.EQUAL
    )
    min_deal_amount = models.DecimalField(
        _("deal amount at least"), **MONEY, null=True, blank=True, validators=not_negative
    )
    min_years = models.PositiveSmallIntegerField(_("years of service at least"), default=1)

    class Meta:
        ordering = ["plan", "kind", "id"]
        verbose_name = _("bonus rule")
        verbose_name_plural = _("bonus rules")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        has_amount, has_percent = self.amount is not None, self.percent is not None
        if self.kind in (BonusKind.TARGET_REACHED, BonusKind.LARGE_DEAL):
            if has_amount == has_percent:
                errors["amount"] = _("Give either a fixed amount or a percent.")
        elif not has_amount:
            errors["amount"] = _("Give the amount.")
        elif has_percent:
            errors["percent"] = _("This kind of bonus pays a fixed amount only.")
        if self.kind == BonusKind.TARGET_REACHED and self.attainment_percent is None:
            errors["attainment_percent"] = _("Give the attainment that earns the bonus.")
        if self.kind == BonusKind.LARGE_DEAL and self.min_deal_amount is None:
            errors["min_deal_amount"] = _("Give the deal amount from which the bonus is paid.")
        if self.period == BonusPeriod.YEAR and self.kind != BonusKind.TARGET_REACHED:
            errors["period"] = _("Only a target bonus can be measured over the year.")
        if errors:
            raise ValidationError(errors)


class DealCredit(TimeStampedModel):
    """A share of a won deal credited to one person; a deal's shares sum to 100. A deal with
    no shares credits its owner with all of it."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="credits"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="deal_credits",
    )
    percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(CENT), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["deal", "-percent", "user"]
        verbose_name = _("deal credit")
        verbose_name_plural = _("deal credits")
        constraints = [
            models.UniqueConstraint(fields=["deal", "user"], name="credit_once_per_person"),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="credit_percent_range"
            ),
        ]

    def __str__(self):
        return f"{self.deal_id} · {self.user_id} · {self.percent}%"


class DealCost(TimeStampedModel):
    """The cost of a deal (goods, delivery, third parties), for rules paid on margin. Deals
    carry no cost themselves; a margin rule pays nothing on a deal without one, and its
    statement line says so."""

    deal = models.OneToOneField(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="cost"
    )
    cost = models.DecimalField(_("cost"), **MONEY, validators=not_negative)

    class Meta:
        verbose_name = _("deal cost")
        verbose_name_plural = _("deal costs")

    def __str__(self):
        return f"{self.deal_id}: {self.cost}"


class StatementQuerySet(VisibleQuerySet):
    owner_field = "user"


class Statement(TimeStampedModel):
    """What one person earns for one period. A draft is rebuilt from the data; an approved or
    paid statement is frozen, and later changes land in the next draft as adjustments."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="statements",
    )
    start = models.DateField(_("period start"))
    end = models.DateField(_("period end"))
    plan = models.ForeignKey(
        CommissionPlan,
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statements",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    target = models.DecimalField(_("revenue target"), **MONEY, null=True, blank=True)
    credited_revenue = models.DecimalField(_("credited won revenue"), **MONEY, default=ZERO)
    attainment = models.DecimalField(
        _("attainment (%)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    commission_total = models.DecimalField(_("commission"), **MONEY, default=ZERO)
    bonus_total = models.DecimalField(_("bonuses"), **MONEY, default=ZERO)
    adjustment_total = models.DecimalField(_("adjustments"), **MONEY, default=ZERO)
    total = models.DecimalField(_("total"), **MONEY, default=ZERO)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    # A fingerprint of the lines as last written from their drafts: a rebuild whose drafts
    # have the same one neither reads nor compares the lines. Internal, never shown.
    lines_digest = models.CharField(max_length=32, blank=True, default="", editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked paid by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "user__username"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        indexes = [
            models.Index(fields=["status", "start"], name="statement_status_idx"),
            models.Index(fields=["start", "end"], name="statement_period_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "start", "end"], name="statement_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")), name="statement_dates_in_order"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.period_label}"

    @property
    def period_label(self) -> str:
        from performance.periods import period_label

        kind = "month" if self.start.month == self.end.month else "quarter"
        return period_label(kind, self.start, self.end)

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT


class LineKind(models.TextChoices):
    COMMISSION = "commission", _("Commission")
    BONUS = "bonus", _("Bonus")
    ADJUSTMENT = "adjustment", _("Adjustment")
    CLAWBACK = "clawback", _("Clawback")


class StatementLine(models.Model):
    """One amount of a statement, with what produced it. `source_key` names the line's origin
    (a deal and rule, a bonus, a dispute ...) so a rebuild updates lines in place."""

    # Each foreign key is indexed once, by Meta below: the statement and the deal lead the
    # unique and the deal indexes, the others (mostly empty) are indexed where set. A
    # statement run writes tens of thousands of lines, and every index costs each of them.
    statement = models.ForeignKey(
        Statement,
        verbose_name=_("statement"),
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=12, choices=LineKind)
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="statement_lines",
        db_index=False,
    )
    rule = models.ForeignKey(
        CommissionRule,
        verbose_name=_("commission rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    bonus_rule = models.ForeignKey(
        BonusRule,
        verbose_name=_("bonus rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    corrects = models.ForeignKey(
        Statement,
        verbose_name=_("corrects statement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="corrections",
        help_text=_("For an adjustment or clawback: the frozen statement it corrects."),
    )
    basis = models.DecimalField(_("basis"), **MONEY, null=True, blank=True)
    rate = models.DecimalField(_("rate (%)"), **PERCENT, null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    explanation = models.CharField(_("explanation"), max_length=300)
    source_key = models.CharField(_("source"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["statement", "position", "id"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "source_key"], name="statement_line_unique_source"
            )
        ]
        indexes = [
            models.Index(fields=["deal", "statement"], name="statementline_deal_idx"),
            models.Index(
                fields=["rule"], name="statementline_rule_idx", condition=Q(rule__isnull=False)
            ),
            models.Index(
                fields=["bonus_rule"],
                name="statementline_bonus_rule_idx",
                condition=Q(bonus_rule__isnull=False),
            ),
            models.Index(
                fields=["corrects"],
                name="statementline_corrects_idx",
                condition=Q(corrects__isnull=False),
            ),
        ]

    def __str__(self):
        return self.explanation

    @property
    def rate_text(self) -> str:
        return "" if self.rate is None else f"{_plain(self.rate)}%"


class DisputeQuerySet(VisibleQuerySet):
    owner_field = "line__statement__user"


class Dispute(TimeStampedModel):
    """A person questions a line of their statement; a manager accepts it (an adjustment in
    the next open statement) or rejects it with a reason."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    line = models.ForeignKey(
        StatementLine, verbose_name=_("line"), on_delete=models.PROTECT, related_name="disputes"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    adjustment = models.DecimalField(
        _("adjustment"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("When accepted: the amount added to (or taken from) the next statement."),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        indexes = [models.Index(fields=["status", "-created_at"], name="dispute_status_idx")]

    def __str__(self):
        return f"{self.line} · {self.get_status_display()}"


# Recognition


class RecognitionSettings(TimeStampedModel):
    """Installation-wide recognition settings: one row."""

    long_service_years = models.PositiveSmallIntegerField(
        _("years for the long-service award"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_(
            "The veteran sales rep award is granted on the hire anniversary that completes "
            "these years."
        ),
    )

    class Meta:
        verbose_name = _("recognition settings")
        verbose_name_plural = _("recognition settings")

    def __str__(self):
        return str(_("Recognition settings"))

    @classmethod
    def load(cls) -> "RecognitionSettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class ContestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A contest is seen by its participants, anyone who sees one of them, and its
        creator; admins see all."""
        from teams.selectors import visible_user_ids

        if not can_read(user):
            return self.none()
        ids = visible_user_ids(user)
        if ids is None:
            return self
        entered = Contest.participants.through.objects.filter(user_id__in=ids)
        return self.filter(Q(created_by=user) | Q(pk__in=entered.values("contest_id")))


class Contest(TimeStampedModel):
    """A sales contest over a period: participants ranked live on a metric; the winners are
    recorded as awards when it ends."""

    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(_("metric"), max_length=20, choices=Metric, default=Metric.REVENUE)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), related_name="contests"
    )
    prizes = models.TextField(_("prizes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finalized_at = models.DateTimeField(_("winners recorded at"), null=True, blank=True)

    objects = ContestQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "name"]
        verbose_name = _("contest")
        verbose_name_plural = _("contests")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")),
                name="contest_dates_in_order",
                violation_error_message=_("The contest cannot end before it starts."),
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The contest cannot end before it starts.")})


class AwardKind(models.TextChoices):
    TOP_SELLER_MONTH = "top_seller_month", _("Top seller of the month")
    TOP_SELLER_QUARTER = "top_seller_quarter", _("Top seller of the quarter")
    NEW_CUSTOMER_CHAMPION = "new_customer_champion", _("New-customer champion")
    TEAMWORK = "teamwork", _("Teamwork")
    LONG_SERVICE = "long_service", _("Veteran sales rep (long service)")
    TRAINING_CHAMPION = "training_champion", _("Training champion")
    CONTEST_WINNER = "contest_winner", _("Contest winner")


class AwardQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Awards are public recognition: every signed-in user sees them."""
        if not can_read(user):
            return self.none()
        return self


class Award(TimeStampedModel):
    """Recognition of one person: granted automatically at a period's end (top sellers,
    champions, long service, contest winners) or by hand by a manager."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="awards",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=AwardKind)
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    contest = models.ForeignKey(
        Contest,
        verbose_name=_("contest"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="awards",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when granted automatically."),
    )

    objects = AwardQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            # Automatic awards are granted once however often the job runs.
            models.UniqueConstraint(
                fields=["user", "kind", "period_start"],
                condition=Q(granted_by__isnull=True, contest__isnull=True),
                name="award_automatic_once",
            ),
            models.UniqueConstraint(
                fields=["user", "contest"],
                condition=Q(contest__isnull=False),
                name="award_contest_once",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="award_user_idx")]

    def __str__(self):
        return f"{self.user} · {self.title}"


class KudosQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Kudos to anyone the viewer sees, to the viewer's own teammates (the team wall),
        and those the viewer gave."""
        from teams.selectors import visible_user_ids

        if not can_read(user):
            return self.none()
        ids = visible_user_ids(user)
        if ids is None:
            return self
        q = Q(recipient_id__in=ids) | Q(sender_id=user.pk)
        if user.team_id:
            q |= Q(recipient__team_id=user.team_id)
        return self.filter(q)


class Kudos(models.Model):
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        on_delete=models.CASCADE,
        related_name="kudos_given",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        on_delete=models.CASCADE,
        related_name="kudos_received",
    )
    message = models.CharField(_("message"), max_length=280)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    objects = KudosQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("kudos")
        verbose_name_plural = _("kudos")
        indexes = [models.Index(fields=["recipient", "-created_at"], name="kudos_recipient_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sender=models.F("recipient")), name="kudos_not_to_self"
            )
        ]

    def __str__(self):
        return f"{self.sender} → {self.recipient}"
