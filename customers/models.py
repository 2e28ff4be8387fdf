"""Customers: accounts, contacts, tags, interactions, follow-ups, lead scoring, public pool.

Workflows (creating with duplicate checks, logging, merging, claiming ...) live in
customers.services; the models hold data and the invariants every write must keep.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers import text
from customers.querysets import (
    AccountChildManager,
    AccountChildQuerySet,
    AccountManager,
    AccountQuerySet,
    ContactManager,
    ContactQuerySet,
    FollowUpQuerySet,
)
from teams.models import Team, TimeStampedModel

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()\-]{4,38}[0-9]$",
    _("Enter a phone number of digits, optionally with +, spaces, dashes or brackets."),
)
colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hex digits.")
)


class Lookup(TimeStampedModel):
    """An admin-managed list entry with an English and a Chinese name."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name


class Industry(Lookup):
    class Meta(Lookup.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Region(Lookup):
    class Meta(Lookup.Meta):
        verbose_name = _("region")
        verbose_name_plural = _("regions")


class Tag(TimeStampedModel):
    name = models.CharField(_("name"), max_length=50, unique=True)
    colour = models.CharField(
        _("colour"), max_length=7, default="#6c757d", validators=[colour_validator]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class SoftDeleteModel(TimeStampedModel):
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Account(SoftDeleteModel):
    """A customer company. An account without an owner sits in the public pool (公海) of
    `pool_team`, where that team's reps may claim it."""

    class Status(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        CHURNED = "churned", _("Churned")

    class Tier(models.TextChoices):
        A = "A", _("A")
        B = "B", _("B")
        C = "C", _("C")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual entry")
        WEB_FORM = "web_form", _("Web form")
        IMPORT = "import", _("Import")
        REFERRAL = "referral", _("Referral")
        CAMPAIGN = "campaign", _("Campaign")
        OTHER = "other", _("Other")

    class SizeBand(models.IntegerChoices):
        """Employees; the value is the lower bound, so scoring rules can compare numbers."""

        MICRO = 1, _("1–19 employees")
        SMALL = 20, _("20–49 employees")
        MEDIUM = 50, _("50–199 employees")
        LARGE = 200, _("200–499 employees")
        XLARGE = 500, _("500–999 employees")
        ENTERPRISE = 1000, _("1,000–4,999 employees")
        GIANT = 5000, _("5,000 or more employees")

    class RevenueBand(models.IntegerChoices):
        """Annual revenue in millions of the installation currency; the value is the lower
        bound."""

        UNDER_1M = 0, _("Under 1 million")
        FROM_1M = 1, _("1–10 million")
        FROM_10M = 10, _("10–50 million")
        FROM_50M = 50, _("50–100 million")
        FROM_100M = 100, _("100–500 million")
        FROM_500M = 500, _("500 million – 1 billion")
        FROM_1B = 1000, _("1 billion or more")

    name = models.CharField(_("name"), max_length=200)
    name_normalized = models.CharField(
        _("normalized name"), max_length=200, editable=False, default=""
    )
    name_pinyin = models.CharField(_("pinyin"), max_length=500, editable=False, default="")
    name_initials = models.CharField(
        _("pinyin initials"), max_length=200, editable=False, default=""
    )
    search_text = models.TextField(editable=False, default="")
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    size_band = models.PositiveIntegerField(
        _("size"), choices=SizeBand.choices, null=True, blank=True
    )
    revenue_band = models.PositiveIntegerField(
        _("annual revenue"), choices=RevenueBand.choices, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.LEAD)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier, default=Tier.C)
    lead_score = models.PositiveSmallIntegerField(
        _("lead score"), default=0, validators=[MaxValueValidator(100)]
    )
    source = models.CharField(_("source"), max_length=20, choices=Source, default=Source.MANUAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    pool_team = models.ForeignKey(
        Team,
        verbose_name=_("pool team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pool_accounts",
        help_text=_("The team whose public pool the account returns to when released."),
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True, editable=False)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    owner_since = models.DateTimeField(_("owned since"), null=True, blank=True, editable=False)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    recycle_warned_at = models.DateTimeField(
        _("recycle warning sent at"), null=True, blank=True, editable=False
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[phone_validator])
    phone_digits = models.CharField(max_length=40, editable=False, default="")
    email = models.EmailField(_("email"), blank=True)
    email_domain = models.CharField(max_length=150, editable=False, default="")
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    last_contacted_at = models.DateTimeField(_("last contacted at"), null=True, blank=True)

    objects = AccountManager()
    all_objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="account_owner_updated_idx"),
            models.Index(fields=["-updated_at", "-id"], name="account_updated_idx"),
            models.Index(fields=["status"], name="account_status_idx"),
            models.Index(fields=["source"], name="account_source_idx"),
            models.Index(fields=["tier"], name="account_tier_idx"),
            models.Index(fields=["size_band"], name="account_size_idx"),
            models.Index(fields=["lead_score"], name="account_score_idx"),
            models.Index(fields=["last_contacted_at"], name="account_last_contact_idx"),
            models.Index(fields=["created_at"], name="account_created_idx"),
            models.Index(fields=["name"], name="account_name_idx"),
            models.Index(fields=["name_normalized"], name="account_name_norm_idx"),
            models.Index(fields=["phone_digits"], name="account_phone_idx"),
            models.Index(fields=["email_domain"], name="account_email_domain_idx"),
            models.Index(fields=["deleted_at"], name="account_deleted_idx"),
            models.Index(
                fields=["pool_team", "-released_at"],
                condition=Q(owner__isnull=True),
                name="account_pool_idx",
            ),
            # The list filtered by industry: the visibility columns and the sort key sit in
            # the index, so the count and the page's ids come from an index-only scan.
            models.Index(
                fields=["industry", "owner", "pool_team"],
                include=["updated_at", "id"],
                condition=Q(deleted_at__isnull=True),
                name="account_industry_list_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id="") & Q(deleted_at__isnull=True),
                name="account_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("An account with this external id already exists."),
            ),
            models.CheckConstraint(
                condition=Q(lead_score__lte=100), name="account_lead_score_range"
            ),
        ]

    def __str__(self):
        return self.name

    def refresh_keys(self) -> None:
        self.name = (self.name or "").strip()
        self.name_normalized = text.normalize_name(self.name)
        self.name_pinyin, self.name_initials = text.pinyin_keys(self.name)
        self.phone_digits = text.phone_digits(self.phone)
        self.email_domain = text.email_domain(self.email) or text.website_domain(self.website)
        self.search_text = text.search_text(
            self.name, self.name_pinyin, self.name_initials, self.email, self.phone_digits
        )

    def save(self, *args, **kwargs):
        self.refresh_keys()
        extra = set()
        if self.owner_id and self.owner_since is None:
            # The recycling clock of the public pool starts when someone takes the account.
            self.owner_since = timezone.now()
            extra.add("owner_since")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            if {"name", "phone", "email", "website"} & set(update_fields):
                extra |= {
                    "name_normalized",
                    "name_pinyin",
                    "name_initials",
                    "phone_digits",
                    "email_domain",
                    "search_text",
                }
            kwargs["update_fields"] = {*update_fields, *extra}
        super().save(*args, **kwargs)

    @property
    def in_pool(self) -> bool:
        return self.pooled(self.owner_id, self.pool_team_id)

    @staticmethod
    def pooled(owner_id: int | None, pool_team_id: int | None) -> bool:
        """Whether an account with this owner and pool team lies in a public pool (for rows
        read as plain values as well as for accounts)."""
        return owner_id is None and pool_team_id is not None


class Contact(SoftDeleteModel):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        MOBILE = "mobile", _("Mobile")
        EMAIL = "email", _("Email")
        WECHAT = "wechat", _("WeChat")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    class DecisionRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        GATEKEEPER = "gatekeeper", _("Gatekeeper")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(_("pinyin"), max_length=500, editable=False, default="")
    name_initials = models.CharField(
        _("pinyin initials"), max_length=200, editable=False, default=""
    )
    search_text = models.TextField(editable=False, default="")
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[phone_validator])
    mobile = models.CharField(_("mobile"), max_length=40, blank=True, validators=[phone_validator])
    phone_digits = models.CharField(max_length=40, editable=False, default="")
    mobile_digits = models.CharField(max_length=40, editable=False, default="")
    email = models.EmailField(_("email"), blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=100, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=Channel, blank=True
    )
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=DecisionRole, blank=True
    )
    preferences = models.TextField(_("preferences"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)

    objects = ContactManager()
    all_objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["name"], name="contact_name_idx"),
            models.Index(fields=["phone_digits"], name="contact_phone_idx"),
            models.Index(fields=["mobile_digits"], name="contact_mobile_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["deleted_at"], name="contact_deleted_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id="") & Q(deleted_at__isnull=True),
                name="contact_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("A contact with this external id already exists."),
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(is_primary=True) & Q(deleted_at__isnull=True),
                name="contact_one_primary_per_account",
                violation_error_message=_("This account already has a primary contact."),
            ),
        ]

    def __str__(self):
        return self.name

    def refresh_keys(self) -> None:
        self.name = (self.name or "").strip()
        self.name_pinyin, self.name_initials = text.pinyin_keys(self.name)
        self.phone_digits = text.phone_digits(self.phone)
        self.mobile_digits = text.phone_digits(self.mobile)
        self.search_text = text.search_text(
            self.name,
            self.name_pinyin,
            self.name_initials,
            self.email,
            self.phone_digits,
            self.mobile_digits,
        )

    def save(self, *args, **kwargs):
        self.refresh_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "phone", "mobile", "email"} & set(update_fields):
            kwargs["update_fields"] = {
                *update_fields,
                "name_pinyin",
                "name_initials",
                "phone_digits",
                "mobile_digits",
                "search_text",
            }
        super().save(*args, **kwargs)


class Interaction(SoftDeleteModel):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        DEMO = "demo", _("Demo")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")
        NO_ANSWER = "no_answer", _("No answer")

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="interactions",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.CALL)
    occurred_at = models.DateTimeField(_("occurred at"))
    subject = models.CharField(_("subject"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_due = models.DateTimeField(_("next step due"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)

    objects = AccountChildManager()
    all_objects = AccountChildQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="interaction_account_idx"),
            models.Index(fields=["logged_by", "-occurred_at"], name="interaction_logger_idx"),
            models.Index(fields=["occurred_at"], name="interaction_occurred_idx"),
            models.Index(fields=["kind", "-occurred_at"], name="interaction_kind_idx"),
            models.Index(fields=["deleted_at"], name="interaction_deleted_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id="") & Q(deleted_at__isnull=True),
                name="interaction_external_id_unique",
                violation_error_code="unique",
                violation_error_message=_("An interaction with this external id already exists."),
            ),
        ]

    def __str__(self):
        return self.subject

    def clean(self):
        if self.contact_id and self.account_id and self.contact.account_id != self.account_id:
            raise ValidationError({"contact": _("This contact belongs to another account.")})
        if self.next_step_due and not self.next_step:
            raise ValidationError({"next_step": _("Describe the next step that is due.")})


class FollowUp(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="followups",
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="followups"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("from interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due at"))
    title = models.CharField(_("title"), max_length=300)
    note = models.TextField(_("note"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="followup_assignee_idx"),
            models.Index(fields=["account", "due_at"], name="followup_account_idx"),
            models.Index(fields=["status", "due_at"], name="followup_status_idx"),
            # The reminder task scans only open follow-ups not yet reminded.
            models.Index(
                fields=["due_at"],
                condition=Q(status="open", reminded_at__isnull=True),
                name="followup_reminder_idx",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.contact_id and self.account_id and self.contact.account_id != self.account_id:
            raise ValidationError({"contact": _("This contact belongs to another account.")})


class AccountEvent(models.Model):
    """One entry of an account's timeline besides interactions and follow-ups."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        RELEASED = "released", _("Released to the pool")
        RECYCLED = "recycled", _("Returned to the pool (no contact)")
        CLAIMED = "claimed", _("Claimed from the pool")
        REASSIGNED = "reassigned", _("Reassigned")
        MERGED = "merged", _("Merged")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        indexes = [models.Index(fields=["account", "-created_at"], name="account_event_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.account_id}"


class AccountMerge(models.Model):
    """The record of two accounts merged into one; the merged account stays soft-deleted."""

    survivor = models.ForeignKey(
        Account, verbose_name=_("kept account"), on_delete=models.PROTECT, related_name="merges"
    )
    merged = models.ForeignKey(
        Account,
        verbose_name=_("merged account"),
        on_delete=models.PROTECT,
        related_name="merged_into",
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    counts = models.JSONField(_("records moved"), default=dict)
    snapshot = models.JSONField(_("merged account data"), default=dict)

    class Meta:
        ordering = ["-merged_at"]
        verbose_name = _("account merge")
        verbose_name_plural = _("account merges")

    def __str__(self):
        return f"{self.merged_id} → {self.survivor_id}"


class LeadScoringRule(TimeStampedModel):
    """One admin-weighted rule; an account's score is the sum of the points of the rules it
    meets, clamped to 0-100."""

    class Field(models.TextChoices):
        INDUSTRY = "industry", _("Industry (codes)")
        REGION = "region", _("Region (codes)")
        SIZE_BAND = "size_band", _("Employees")
        REVENUE_BAND = "revenue_band", _("Annual revenue (millions)")
        STATUS = "status", _("Status")
        SOURCE = "source", _("Source")
        TAGS = "tags", _("Tags (names)")
        CONTACTS = "contacts", _("Number of contacts")
        RECENT_INTERACTIONS = "recent_interactions", _("Interactions in the window")
        DAYS_SINCE_CONTACT = "days_since_contact", _("Days since last contact")

    class Operator(models.TextChoices):
        IN = "in", _("is one of")
        NOT_IN = "not_in", _("is none of")
        GTE = "gte", _("is at least")
        LTE = "lte", _("is at most")
        EACH = "each", _("points for each")

    LIST_FIELDS = {Field.INDUSTRY, Field.REGION, Field.STATUS, Field.SOURCE, Field.TAGS}
    NUMBER_FIELDS = {
        Field.SIZE_BAND,
        Field.REVENUE_BAND,
        Field.CONTACTS,
        Field.RECENT_INTERACTIONS,
        Field.DAYS_SINCE_CONTACT,
    }
    COUNT_FIELDS = {Field.CONTACTS, Field.RECENT_INTERACTIONS}

    name = models.CharField(_("name"), max_length=120)
    field = models.CharField(_("field"), max_length=30, choices=Field)
    operator = models.CharField(_("operator"), max_length=10, choices=Operator)
    value = models.CharField(
        _("value"),
        max_length=500,
        blank=True,
        help_text=_("A number, or a comma-separated list of codes or names."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_("For interaction counts: how many days back to count."),
    )
    points = models.SmallIntegerField(
        _("points"), validators=[MinValueValidator(-100), MaxValueValidator(100)]
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("lead scoring rule")
        verbose_name_plural = _("lead scoring rules")

    def __str__(self):
        return self.name

    def clean(self):
        if self.operator in {self.Operator.IN, self.Operator.NOT_IN}:
            if self.field not in self.LIST_FIELDS:
                raise ValidationError(
                    {"operator": _("Use 'at least' or 'at most' with a number field.")}
                )
            if not self.values:
                raise ValidationError({"value": _("List at least one value.")})
        elif self.operator == self.Operator.EACH:
            if self.field not in self.COUNT_FIELDS:
                raise ValidationError({"operator": _("'Points for each' only applies to counts.")})
        else:
            if self.field not in self.NUMBER_FIELDS:
                raise ValidationError({"operator": _("Use 'is one of' with a list field.")})
            try:
                Decimal(self.value.strip())
            except ArithmeticError as exc:
                raise ValidationError({"value": _("Enter a number.")}) from exc

    @property
    def values(self) -> list[str]:
        return [part.strip() for part in self.value.split(",") if part.strip()]


class CustomerSettings(TimeStampedModel):
    """The single row of admin settings for scoring tiers, the public pool and lead capture."""

    tier_a_min_score = models.PositiveSmallIntegerField(
        _("tier A from score"), default=70, validators=[MaxValueValidator(100)]
    )
    tier_b_min_score = models.PositiveSmallIntegerField(
        _("tier B from score"), default=40, validators=[MaxValueValidator(100)]
    )
    pool_recycle_days = models.PositiveSmallIntegerField(
        _("days without contact before an account returns to the pool"),
        default=30,
        validators=[MinValueValidator(1)],
    )
    pool_warning_days = models.PositiveSmallIntegerField(
        _("days of advance warning before recycling"), default=3
    )
    pool_claim_cap = models.PositiveIntegerField(
        _("most accounts a rep may own when claiming"), default=200
    )
    pool_cooling_off_days = models.PositiveSmallIntegerField(
        _("days before a rep may reclaim an account they released"), default=7
    )
    lead_capture_team = models.ForeignKey(
        Team,
        verbose_name=_("team receiving web-form leads"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lead_capture_last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last web-form lead went to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("customer settings")
        verbose_name_plural = _("customer settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="customer_settings_singleton"),
        ]

    def __str__(self):
        return str(_("Customer settings"))

    def clean(self):
        if self.tier_b_min_score > self.tier_a_min_score:
            raise ValidationError({"tier_b_min_score": _("Tier B cannot start above tier A.")})
        if self.pool_warning_days >= self.pool_recycle_days:
            raise ValidationError(
                {"pool_warning_days": _("The warning must come before the recycling day.")}
            )

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "CustomerSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def tier_for(self, score: int) -> str:
        if score >= self.tier_a_min_score:
            return Account.Tier.A
        if score >= self.tier_b_min_score:
            return Account.Tier.B
        return Account.Tier.C


class ImportJob(TimeStampedModel):
    """One upload of accounts and contacts: checked row by row first (a dry run that writes
    nothing), then written in one transaction. Large files run in a Celery task that keeps
    `processed` up to date, so the page can show progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be checked")
        CHECKING = "checking", _("Checking rows")
        CHECKED = "checked", _("Checked")
        QUEUED = "queued", _("Waiting to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    valid_only = models.BooleanField(_("import only the valid rows"), default=False)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_accounts = models.PositiveIntegerField(_("accounts created"), default=0)
    created_contacts = models.PositiveIntegerField(_("contacts created"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["user", "-created_at"], name="import_job_user_idx")]

    def __str__(self):
        return self.original_name

    @property
    def in_progress(self) -> bool:
        return self.status in {
            self.Status.PENDING,
            self.Status.CHECKING,
            self.Status.QUEUED,
            self.Status.IMPORTING,
        }

    @property
    def percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 0

    @property
    def bad_rows(self) -> int:
        return len(self.errors)
