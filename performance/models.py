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

        if not user.is_authenticated or not user.is_active:
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
