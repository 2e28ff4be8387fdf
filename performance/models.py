"""Performance: targets and their decomposition, the company's days off and the performance
settings.

Workflows (setting, decomposing and copying targets) live in performance.services; reads
(actuals, attainment, pace, leaderboards) in performance.selectors.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Account, Industry
from pipeline.models import ProductCategory
from teams.models import Team, TimeStampedModel
from teams.querysets import VisibleQuerySet, can_read


class PeriodType(models.TextChoices):
    YEAR = "year", _("Year")
    QUARTER = "quarter", _("Quarter")
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")


class Metric(models.TextChoices):
    REVENUE = "revenue", _("Revenue from won deals")
    WON_DEALS = "won_deals", _("Won deals")
    NEW_CUSTOMERS = "new_customers", _("New customers")
    INTERACTIONS = "interactions", _("Interactions logged")


# Metrics counted in whole units; their targets are split into whole numbers.
COUNT_METRICS = frozenset({Metric.WON_DEALS, Metric.NEW_CUSTOMERS, Metric.INTERACTIONS})


class TargetQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Targets of the people the viewer sees, and of the teams in the subtrees they
        manage; a rep sees their own targets only."""
        from teams.selectors import managed_team_paths, visible_user_ids

        if not can_read(user):
            return self.none()
        ids = visible_user_ids(user)
        if ids is None:
            return self
        q = Q(user_id__in=ids)
        for path in managed_team_paths(user):
            q |= Q(team__path__startswith=path)
        return self.filter(q)


class Target(TimeStampedModel):
    """What one person or one team should reach in one period for one metric, optionally
    narrowed to a product category and a customer segment.

    A target's children split it either over time (same scope, shorter periods) or over the
    scope (same period, the team's members and sub-teams); each split sums to the parent."""

    period_type = models.CharField(_("period type"), max_length=10, choices=PeriodType)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric)
    product_category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("customer industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tier = models.CharField(_("customer tier"), max_length=1, choices=Account.Tier, blank=True)
    value = models.DecimalField(
        _("value"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent target"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    note = models.TextField(_("note"), blank=True)
    hand_edited = models.BooleanField(
        _("edited by hand"),
        default=False,
        help_text=_("Set when the value was entered by hand rather than by a decomposition."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["start", "period_type", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        indexes = [
            models.Index(fields=["user", "metric", "start"], name="target_user_idx"),
            models.Index(fields=["team", "metric", "start"], name="target_team_idx"),
            models.Index(fields=["period_type", "start"], name="target_period_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="target_one_scope",
                violation_error_message=_("Set the target for one person or one team."),
            ),
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")),
                name="target_start_before_end",
                violation_error_message=_("The period cannot end before it starts."),
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_value_not_negative"),
        ]

    def __str__(self):
        return f"{self.scope_name} · {self.get_metric_display()} · {self.period_label}"

    @property
    def scope_name(self) -> str:
        return str(self.user if self.user_id else self.team)

    @property
    def period_label(self) -> str:
        from performance.periods import period_label

        return period_label(self.period_type, self.start, self.end)

    def clean(self):
        errors = {}
        if bool(self.user_id) == bool(self.team_id):
            errors["user"] = _("Set the target for one person or one team.")
        if self.start and self.end and self.start > self.end:
            errors["end"] = _("The period cannot end before it starts.")
        if self.period_type and self.start and self.end and not errors.get("end"):
            from performance.periods import period_bounds

            expected = period_bounds(self.period_type, self.start)
            # A week split from a month keeps only the month's days.
            if self.period_type == PeriodType.WEEK:
                ok = expected[0] <= self.start and self.end <= expected[1]
            else:
                ok = (self.start, self.end) == expected
            if not ok:
                errors["start"] = _("The dates do not match a %(period)s.") % {
                    "period": self.get_period_type_display().lower()
                }
        if errors:
            raise ValidationError(errors)


class CompanyDayOff(TimeStampedModel):
    """A day the company does not work beyond the public holidays (a company outing, say)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = _("company day off")
        verbose_name_plural = _("company days off")

    def __str__(self):
        return f"{self.date} {self.name}"


def default_ramp() -> list[int]:
    return [25, 50, 75]


class PerformanceSettings(TimeStampedModel):
    """The single row of performance settings."""

    class LeaderboardScope(models.TextChoices):
        SUBTREE = "subtree", _("The viewer's own team subtree")
        COMPANY = "company", _("The whole company")

    ramp_percentages = models.JSONField(
        _("new-rep ramp (%)"),
        default=default_ramp,
        blank=True,
        help_text=_(
            "A new rep's share of the team target in their first, second, third ... month "
            "after the hire date, such as [25, 50, 75]; 100% after that."
        ),
    )
    leaderboard_scope = models.CharField(
        _("leaderboards show"),
        max_length=10,
        choices=LeaderboardScope,
        default=LeaderboardScope.SUBTREE,
    )
    behind_pace_percent = models.PositiveSmallIntegerField(
        _("behind pace below (%)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Someone is behind pace when their actual is below this share of the pace."),
    )

    class Meta:
        verbose_name = _("performance settings")
        verbose_name_plural = _("performance settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="performance_settings_singleton"),
        ]

    def __str__(self):
        return str(_("Performance settings"))

    def clean(self):
        ramp = self.ramp_percentages
        if not isinstance(ramp, list) or any(
            isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 100 for p in ramp
        ):
            raise ValidationError(
                {"ramp_percentages": _("Give whole percentages from 0 to 100, such as [25, 50].")}
            )

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "PerformanceSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


# Reviews, 360 feedback and improvement plans


class ReviewKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class KpiKind(models.TextChoices):
    ATTAINMENT = "attainment", _("Revenue target attainment (%)")
    NEW_CUSTOMERS = "new_customers", _("New customers")
    WIN_RATE = "win_rate", _("Win rate (%)")
    AVERAGE_DEAL = "average_deal", _("Average deal size")
    INTERACTIONS = "interactions", _("Interactions logged")
    SATISFACTION = "satisfaction", _("Customer satisfaction (1–5)")
    EXPENSE_RATIO = "expense_ratio", _("Expense-to-revenue ratio (%)")


# A lower value is better for these KPIs; their target is the most that earns a full score.
LOWER_IS_BETTER = frozenset({KpiKind.EXPENSE_RATIO})


class CriterionKind(models.TextChoices):
    TEAMWORK = "teamwork", _("Teamwork")
    ATTITUDE = "attitude", _("Attitude")
    PRODUCT_KNOWLEDGE = "product_knowledge", _("Product knowledge")
    SELLING_SKILLS = "selling_skills", _("Selling skills")
    CUSTOMER_FOCUS = "customer_focus", _("Customer focus")


class ReviewCycleQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Cycles over a team in a subtree the viewer manages, and cycles in which the viewer
        is reviewed or reviews; admins see every cycle."""
        from teams.selectors import managed_team_paths

        if not can_read(user):
            return self.none()
        if user.is_admin:
            return self
        involved = Review.objects.filter(cycle=models.OuterRef("pk")).filter(
            Q(reviewee_id=user.pk) | Q(reviewer_id=user.pk)
        )
        q = Q(models.Exists(involved))
        for path in managed_team_paths(user):
            q |= Q(team__path__startswith=path)
        return self.filter(q)


class ReviewCycle(TimeStampedModel):
    """A round of reviews over one period for the people of a team subtree, with its
    template: KPI lines and qualitative criteria whose weights sum to 100."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=10, choices=ReviewKind)
    start = models.DateField(_("period start"))
    end = models.DateField(_("period end"))
    team = models.ForeignKey(
        Team,
        verbose_name=_("participants (team subtree)"),
        on_delete=models.PROTECT,
        related_name="review_cycles",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ReviewCycleQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("review cycle")
        verbose_name_plural = _("review cycles")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")),
                name="review_cycle_start_before_end",
                violation_error_message=_("The period cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start and self.end and self.start > self.end:
            raise ValidationError({"end": _("The period cannot end before it starts.")})


class ReviewKpi(models.Model):
    """A KPI line of a cycle's template: its weight and the value that earns a full score."""

    cycle = models.ForeignKey(
        ReviewCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="kpis"
    )
    kind = models.CharField(_("KPI"), max_length=20, choices=KpiKind)
    weight = models.PositiveSmallIntegerField(
        _("weight (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    target = models.DecimalField(
        _("target"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "The value that earns a full score (for the expense ratio, the most that does). "
            "Attainment always aims at 100%; a person's own target for the period is used for "
            "new customers and interactions when one is set."
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("review KPI")
        verbose_name_plural = _("review KPIs")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind"], name="review_kpi_unique_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.weight}%)"


class ReviewCriterion(models.Model):
    """A qualitative criterion of a cycle's template, scored 1-5 by the reviewer."""

    cycle = models.ForeignKey(
        ReviewCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="criteria"
    )
    kind = models.CharField(_("criterion"), max_length=20, choices=CriterionKind)
    weight = models.PositiveSmallIntegerField(
        _("weight (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    levels = models.JSONField(
        _("level descriptions"),
        default=list,
        help_text=_("What scores 1, 2, 3, 4 and 5 mean, in that order."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("review criterion")
        verbose_name_plural = _("review criteria")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind"], name="review_criterion_unique_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.weight}%)"

    def clean(self):
        if not (
            isinstance(self.levels, list)
            and len(self.levels) == 5
            and all(isinstance(text, str) and text.strip() for text in self.levels)
        ):
            raise ValidationError({"levels": _("Describe each of the five levels.")})


class ReviewQuerySet(VisibleQuerySet):
    """A review is visible with its reviewee: managers see their subtree's, a rep their own."""

    owner_field = "reviewee"


class Review(TimeStampedModel):
    """One person's review in a cycle. KPI values are filled from the data once the period
    has ended and frozen at submission (and for good when the cycle closes):
    `kpi_results` holds, per KPI line, its kind, weight, value, target and score as strings
    so Decimals survive JSON; `criteria_scores` maps each criterion to a level 1-5."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    cycle = models.ForeignKey(
        ReviewCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="reviews"
    )
    reviewee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewee"),
        on_delete=models.CASCADE,
        related_name="reviews",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews_given",
    )
    status = models.CharField(_("status"), max_length=15, choices=Status, default=Status.DRAFT)
    kpi_results = models.JSONField(_("KPI results"), default=list, blank=True)
    kpis_filled_at = models.DateTimeField(_("KPIs filled at"), null=True, blank=True)
    criteria_scores = models.JSONField(_("criteria scores"), default=dict, blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    improvements = models.TextField(_("areas to improve"), blank=True)
    reviewee_comment = models.TextField(_("reviewee's comment"), blank=True)
    overall_score = models.DecimalField(
        _("overall score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-cycle__start", "reviewee__username", "id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "reviewee"], name="review_one_per_person"),
        ]
        indexes = [
            models.Index(fields=["reviewee", "status"], name="review_reviewee_idx"),
            models.Index(fields=["reviewer", "status"], name="review_reviewer_idx"),
        ]

    def __str__(self):
        return f"{self.reviewee} · {self.cycle}"


class RaterKind(models.TextChoices):
    SELF = "self", _("Self")
    MANAGER = "manager", _("Manager")
    PEER = "peer", _("Peer")
    SUBORDINATE = "subordinate", _("Subordinate")
    CUSTOMER = "customer", _("Customer")


# Answers of these raters are shown only aggregated, and only from a minimum number of them.
ANONYMOUS_RATERS = frozenset({RaterKind.PEER, RaterKind.SUBORDINATE})


class ReviewFeedback(TimeStampedModel):
    """A 360 feedback request and, once answered, its answers (a level 1-5 per criterion of
    the cycle). A customer contact answers through a signed link without signing in."""

    review = models.ForeignKey(
        Review, verbose_name=_("review"), on_delete=models.CASCADE, related_name="feedback"
    )
    rater_kind = models.CharField(_("rater"), max_length=15, choices=RaterKind)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rater"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feedback_requests",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("customer contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_feedback",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["review", "rater_kind", "id"]
        verbose_name = _("360 feedback")
        verbose_name_plural = _("360 feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["review", "rater"],
                condition=Q(rater__isnull=False),
                name="feedback_one_per_rater",
                violation_error_message=_("This person has already been asked."),
            ),
            models.UniqueConstraint(
                fields=["review", "contact"],
                condition=Q(contact__isnull=False),
                name="feedback_one_per_contact",
                violation_error_message=_("This contact has already been asked."),
            ),
            models.CheckConstraint(
                condition=Q(rater_kind="customer", contact__isnull=False, rater__isnull=True)
                | (~Q(rater_kind="customer") & Q(contact__isnull=True, rater__isnull=False)),
                name="feedback_rater_matches_kind",
                violation_error_message=_(
                    "A customer rater is a contact; every other rater is a colleague."
                ),
            ),
        ]
        indexes = [models.Index(fields=["rater", "answered_at"], name="feedback_rater_idx")]

    def __str__(self):
        return f"{self.get_rater_kind_display()} → {self.review}"


class ImprovementPlanQuerySet(VisibleQuerySet):
    owner_field = "person"


class ImprovementPlan(TimeStampedModel):
    """What one person will do, with their manager, to close the gaps a review found."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    review = models.ForeignKey(
        Review,
        verbose_name=_("review"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="improvement_plans",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="improvement_plans",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager in charge"),
        on_delete=models.PROTECT,
        related_name="improvement_plans_owned",
    )
    goals = models.TextField(_("goals"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))

    objects = ImprovementPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("improvement plan")
        verbose_name_plural = _("improvement plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")),
                name="improvement_plan_start_before_end",
                violation_error_message=_("The plan cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return _("Improvement plan for %(person)s") % {"person": self.person}

    def clean(self):
        if self.start and self.end and self.start > self.end:
            raise ValidationError({"end": _("The plan cannot end before it starts.")})


class ImprovementAction(TimeStampedModel):
    """One step of a plan. An action about an account becomes a follow-up of its owner on
    that account; any other action reminds its owner on the due date."""

    plan = models.ForeignKey(
        ImprovementPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField(_("description"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    due = models.DateField(_("due"))
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("When the action is about one customer it becomes a follow-up on it."),
    )
    followup = models.ForeignKey(
        "customers.FollowUp",
        verbose_name=_("follow-up"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due", "id"]
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        indexes = [
            models.Index(
                fields=["due"],
                condition=Q(done=False, reminded_at__isnull=True, followup__isnull=True),
                name="improvement_action_due_idx",
            ),
        ]

    def __str__(self):
        return self.description


class PlanCheckIn(models.Model):
    plan = models.ForeignKey(
        ImprovementPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="check_ins"
    )
    date = models.DateField(_("date"))
    note = models.TextField(_("note"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")

    def __str__(self):
        return f"{self.date} {self.by}"


# Expenses


class ExpenseQuerySet(VisibleQuerySet):
    owner_field = "user"


class Expense(TimeStampedModel):
    """A sales expense; approved ones count in the expense-to-revenue KPI of reviews."""

    class Category(models.TextChoices):
        TRAVEL = "travel", _("Travel")
        HOSPITALITY = "hospitality", _("Client entertainment")
        GIFTS = "gifts", _("Gifts")
        MARKETING = "marketing", _("Marketing")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("spent by"),
        on_delete=models.PROTECT,
        related_name="expenses",
    )
    date = models.DateField(_("date"))
    category = models.CharField(_("category"), max_length=15, choices=Category)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expenses",
    )
    deal = models.ForeignKey(
        "pipeline.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expenses",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    receipt = models.FileField(_("receipt"), upload_to="receipts/%Y/%m/", blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.SUBMITTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or rejected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)

    objects = ExpenseQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        indexes = [
            models.Index(fields=["user", "status", "date"], name="expense_user_idx"),
            models.Index(fields=["status", "-date"], name="expense_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
        ]

    def __str__(self):
        return f"{self.user} {self.date} {self.amount}"

    def clean(self):
        if self.deal_id and self.account_id and self.deal.account_id != self.account_id:
            raise ValidationError({"deal": _("This deal belongs to another account.")})
