"""Pipeline: pipelines and their stages, deals and their stage history, assignment rules,
competitors, product categories, the SLA settings and the nightly funnel and forecast
snapshots.

Workflows (creating, moving, closing, reopening, assigning, rollups) live in
pipeline.services; the models hold data and the invariants every write must keep.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers.models import Account, Contact, Industry, Region
from teams.models import Team, TimeStampedModel
from teams.querysets import VisibleQuerySet

percent_validators = [MinValueValidator(0), MaxValueValidator(100)]


class BilingualNameMixin(models.Model):
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")
    CLOSED = "closed", _("Closed")


class Pipeline(BilingualNameMixin, TimeStampedModel):
    """A sequence of stages. Several may exist; exactly one is the default for new deals."""

    is_default = models.BooleanField(_("default"), default=False)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="pipeline_one_default",
            )
        ]


class Stage(BilingualNameMixin, TimeStampedModel):
    """A step of a pipeline. Entry criteria are the deal fields that must be filled and the
    checklist items the rep confirms before a deal may enter the stage."""

    class RequiredField(models.TextChoices):
        AMOUNT = "amount", _("Amount")
        CONTACT = "contact", _("Primary contact")
        EXPECTED_CLOSE = "expected_close", _("Expected close date")
        PRODUCT_CATEGORY = "product_category", _("Product category")
        COMPETITORS = "competitors", _("Competitors")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    order = models.PositiveSmallIntegerField(_("order"))
    code = models.SlugField(_("code"), max_length=40)
    win_probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=0, validators=percent_validators
    )
    required_fields = models.JSONField(
        _("required fields"),
        default=list,
        blank=True,
        help_text=_("Deal fields that must be filled to enter the stage."),
    )
    checklist = models.JSONField(
        _("checklist"),
        default=list,
        blank=True,
        help_text=_("Items the rep confirms to enter the stage, such as “budget confirmed”."),
    )
    sla_days = models.PositiveSmallIntegerField(
        _("SLA days"),
        null=True,
        blank=True,
        help_text=_("Days a deal may stay in the stage before it is stale; empty for no limit."),
    )
    forecast_category = models.CharField(
        _("default forecast category"),
        max_length=20,
        choices=ForecastCategory,
        default=ForecastCategory.PIPELINE,
    )
    is_won = models.BooleanField(_("won stage"), default=False)
    is_lost = models.BooleanField(_("lost stage"), default=False)

    class Meta:
        ordering = ["pipeline", "order"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "order"], name="stage_unique_order"),
            models.UniqueConstraint(fields=["pipeline", "code"], name="stage_unique_code"),
            models.CheckConstraint(
                condition=~Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"
            ),
        ]

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost

    def clean(self):
        errors = {}
        if self.is_won and self.is_lost:
            errors["is_lost"] = _("A stage cannot be both won and lost.")
        if not isinstance(self.required_fields, list) or any(
            name not in self.RequiredField.values for name in self.required_fields
        ):
            errors["required_fields"] = _("Choose among: %(names)s.") % {
                "names": ", ".join(self.RequiredField.values)
            }
        if not isinstance(self.checklist, list) or any(
            not isinstance(item, str) or not item.strip() for item in self.checklist
        ):
            errors["checklist"] = _("Give the checklist as a list of labels.")
        elif len(set(self.checklist)) != len(self.checklist):
            errors["checklist"] = _("Checklist items must differ.")
        if errors:
            raise ValidationError(errors)


class ProductCategory(BilingualNameMixin, TimeStampedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")


class Competitor(BilingualNameMixin, TimeStampedModel):
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        constraints = [models.UniqueConstraint(fields=["name"], name="competitor_unique_name")]


class DealQuerySet(VisibleQuerySet):
    def open(self):
        return self.filter(status=Deal.Status.OPEN)


class DealManager(models.Manager.from_queryset(DealQuerySet)):
    """The default manager: soft-deleted deals do not exist for the application."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Deal(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class LostReason(models.TextChoices):
        PRICE = "price", _("Price")
        PRODUCT_FIT = "product_fit", _("Product fit")
        COMPETITOR = "competitor", _("Lost to a competitor")
        TIMING = "timing", _("Timing")
        NO_DECISION = "no_decision", _("No decision")
        OTHER = "other", _("Other")

    Source = Account.Source

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="deals"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("primary contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    product_category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Account.Source, default=Account.Source.MANUAL
    )
    # Campaigns arrive with the campaigns feature of customers; until then the id of the
    # campaign in the marketing system, if any, is kept as given.
    campaign_ref = models.CharField(_("campaign"), max_length=100, blank=True)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    closed_at = models.DateField(_("close date"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=20, choices=LostReason, blank=True)
    lost_note = models.TextField(_("lost note"), blank=True)
    competitors = models.ManyToManyField(
        Competitor, verbose_name=_("competitors"), blank=True, related_name="deals"
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=20,
        choices=ForecastCategory,
        default=ForecastCategory.PIPELINE,
    )
    probability_override = models.PositiveSmallIntegerField(
        _("probability override (%)"), null=True, blank=True, validators=percent_validators
    )
    stage_entered_at = models.DateTimeField(_("in stage since"))
    # When the deal becomes stale in its current stage (entered + the stage's SLA days),
    # kept on the row so "over SLA" is an indexed comparison; empty when closed or no SLA.
    stage_due_at = models.DateTimeField(_("stale after"), null=True, blank=True, editable=False)
    stale_notified_at = models.DateTimeField(
        _("stale notice sent"), null=True, blank=True, editable=False
    )
    first_contact_alerted_at = models.DateTimeField(
        _("first-contact alert sent"), null=True, blank=True, editable=False
    )
    confirmed_checklist = models.JSONField(_("confirmed checklist"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)

    objects = DealManager()
    all_objects = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="deal_owner_updated_idx"),
            models.Index(fields=["-updated_at", "-id"], name="deal_updated_idx"),
            models.Index(fields=["status", "stage"], name="deal_status_stage_idx"),
            models.Index(fields=["amount"], name="deal_amount_idx"),
            models.Index(fields=["expected_close"], name="deal_expected_close_idx"),
            models.Index(fields=["closed_at"], name="deal_closed_at_idx"),
            models.Index(fields=["stage_due_at"], name="deal_stage_due_idx"),
            models.Index(fields=["created_at"], name="deal_created_idx"),
            models.Index(fields=["name"], name="deal_name_idx"),
            models.Index(fields=["deleted_at"], name="deal_deleted_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="deal_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False),
                name="deal_closed_has_date",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def probability(self) -> int:
        if self.probability_override is not None:
            return self.probability_override
        return self.stage.win_probability

    def clean(self):
        errors = {}
        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            errors["stage"] = _("The stage belongs to another pipeline.")
        if self.contact_id and self.account_id and self.contact.account_id != self.account_id:
            errors["contact"] = _("The contact works for another account.")
        if self.status == self.Status.LOST and not self.lost_reason:
            errors["lost_reason"] = _("Give the reason the deal was lost.")
        if self.status != self.Status.OPEN and not self.closed_at:
            errors["closed_at"] = _("Give the close date.")
        if not isinstance(self.confirmed_checklist, list):
            errors["confirmed_checklist"] = _("Give the confirmed items as a list of labels.")
        if errors:
            raise ValidationError(errors)


class StageChange(models.Model):
    """One step of a deal's history; rows are only ever added."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        MOVE = "move", _("Moved")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        REOPEN = "reopen", _("Reopened")

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    days_in_previous_stage = models.DecimalField(
        _("days in the previous stage"), max_digits=9, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stagechange_deal_idx"),
            models.Index(fields=["changed_at"], name="stagechange_changed_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_idx"),
            models.Index(fields=["from_stage", "changed_at"], name="stagechange_from_idx"),
        ]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self):
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class AssignmentRule(TimeStampedModel):
    """Ordered rules giving new deals without an owner to someone: the first active rule
    whose conditions all hold wins (an empty condition matches anything)."""

    class Action(models.TextChoices):
        USER = "user", _("A named person")
        ROUND_ROBIN = "round_robin", _("Round robin within a team")
        LEAST_LOADED = "least_loaded", _("Fewest open deals within a team")

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    size_band = models.PositiveIntegerField(
        _("size"), choices=Account.SizeBand.choices, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=20, choices=Account.Source, blank=True)
    product_category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action, default=Action.USER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self):
        return self.name

    def clean(self):
        if self.action == self.Action.USER and not self.user_id:
            raise ValidationError({"user": _("Choose the person who receives the deals.")})
        if self.action != self.Action.USER and not self.team_id:
            raise ValidationError({"team": _("Choose the team whose members share the deals.")})


class PipelineSettings(TimeStampedModel):
    """The single row of pipeline settings."""

    first_contact_sla_hours = models.PositiveSmallIntegerField(
        _("first-contact SLA (hours)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A new lead or deal must be contacted within this time, else the owner's "
            "manager is alerted."
        ),
    )

    class Meta:
        verbose_name = _("pipeline settings")
        verbose_name_plural = _("pipeline settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="pipeline_settings_singleton"),
        ]

    def __str__(self):
        return str(_("Pipeline settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "PipelineSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class LeadContactAlert(models.Model):
    """Marks a lead account whose owner's manager was alerted of a missed first contact, so
    the alert goes once."""

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+"
    )
    alerted_at = models.DateTimeField(_("alerted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("first-contact alert")
        verbose_name_plural = _("first-contact alerts")

    def __str__(self):
        return str(self.account_id)


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class FunnelSnapshot(models.Model):
    """One owner's funnel figures for one stage and day (see selectors.funnel for the
    definitions); the in-stage figures are those at the time of the rollup."""

    day = models.DateField(_("day"))
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="+"
    )
    in_stage_count = models.PositiveIntegerField(_("in stage"), default=0)
    in_stage_amount = models.DecimalField(
        _("amount in stage"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    weighted_amount = models.DecimalField(
        _("weighted amount"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    over_sla_count = models.PositiveIntegerField(_("over SLA"), default=0)
    entered = models.PositiveIntegerField(_("entered"), default=0)
    advanced = models.PositiveIntegerField(_("advanced"), default=0)
    lost = models.PositiveIntegerField(_("lost"), default=0)
    exits = models.PositiveIntegerField(_("left the stage"), default=0)
    days_in_stage_total = models.DecimalField(
        _("days in stage, total"), max_digits=14, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        ordering = ["day", "pipeline", "owner", "stage"]
        verbose_name = _("funnel snapshot")
        verbose_name_plural = _("funnel snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "pipeline", "owner", "stage"], name="funnel_snapshot_unique"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.owner_id} {self.stage_id}"


class ForecastSnapshot(models.Model):
    """One owner's forecast for one open period as it stood on `taken_on` (see
    selectors.forecast for the definitions)."""

    taken_on = models.DateField(_("taken on"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    closed_won = models.DecimalField(
        _("closed won"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    commit = models.DecimalField(_("commit"), max_digits=16, decimal_places=2, default=Decimal("0"))
    best_case = models.DecimalField(
        _("best case"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    pipeline = models.DecimalField(
        _("pipeline"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    weighted = models.DecimalField(
        _("probability-weighted"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    win_rate_forecast = models.DecimalField(
        _("win-rate forecast"), max_digits=16, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        ordering = ["taken_on", "owner", "period_start"]
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["taken_on", "owner", "period_kind", "period_start"],
                name="forecast_snapshot_unique",
            )
        ]

    def __str__(self):
        return f"{self.taken_on} {self.owner_id} {self.period_kind} {self.period_start}"
