from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.api.serializers import TombstoneMixin, VisibleAccountField, VisibleContactField
from pipeline import selectors
from pipeline.models import (
    AssignmentRule,
    Competitor,
    Deal,
    PeriodKind,
    Pipeline,
    PipelineSettings,
    ProductCategory,
    Stage,
    StageChange,
)
from teams.models import User


class StageSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    required_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=Stage.RequiredField.choices),
        required=False,
        help_text=_("Deal fields that must be filled to enter the stage."),
    )
    checklist = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text=_("Items the rep confirms to enter the stage."),
    )

    class Meta:
        model = Stage
        fields = [
            "id",
            "pipeline",
            "order",
            "code",
            "name",
            "name_zh",
            "display_name",
            "win_probability",
            "required_fields",
            "checklist",
            "sla_days",
            "forecast_category",
            "is_won",
            "is_lost",
        ]
        # Uniqueness is checked by the service (model constraints), one message everywhere.
        validators = []


class PipelineSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = [
            "id",
            "name",
            "name_zh",
            "display_name",
            "is_default",
            "active",
            "order",
            "stages",
        ]


class ProductCategorySerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = ProductCategory
        fields = ["id", "code", "name", "name_zh", "display_name", "active", "order"]
        validators = []
        extra_kwargs = {"code": {"validators": []}}


class CompetitorSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Competitor
        fields = ["id", "name", "name_zh", "display_name", "website", "notes", "active"]
        validators = []


class AssignmentRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "order",
            "active",
            "industry",
            "region",
            "size_band",
            "source",
            "product_category",
            "action",
            "user",
            "team",
            "last_assignee",
        ]
        read_only_fields = ["last_assignee"]


class PipelineSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = PipelineSettings
        fields = ["first_contact_sla_hours"]


class DealListSerializer(TombstoneMixin, serializers.ModelSerializer):
    """A list row: related records as ids and names, never nested lists."""

    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    stage_name = serializers.CharField(source="stage.display_name", read_only=True)
    probability = serializers.IntegerField(read_only=True)
    competitors = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "account",
            "account_name",
            "pipeline",
            "stage",
            "stage_name",
            "status",
            "amount",
            "probability",
            "forecast_category",
            "expected_close",
            "closed_at",
            "product_category",
            "competitors",
            "owner",
            "owner_name",
            "stage_entered_at",
            "stage_due_at",
            "external_id",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class DealSerializer(serializers.ModelSerializer):
    """A deal. `version` is the optimistic-locking counter: send back the version you read
    with a change, and a deal changed meanwhile answers 409 without writing (or send the
    detail's ETag in If-Match: 412). Stage and status change through /move/ and /reopen/."""

    account = VisibleAccountField()
    contact = VisibleContactField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        help_text=_("Leave out to let the assignment rules choose."),
    )
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False)
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(),
        required=False,
        help_text=_("The starting stage when creating; later moves use /move/."),
    )
    competitors = serializers.PrimaryKeyRelatedField(
        queryset=Competitor.objects.all(), many=True, required=False
    )
    confirmed_checklist = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False
    )
    probability = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("On a change: the version you read; a newer deal answers 409."),
    )

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "account",
            "contact",
            "pipeline",
            "stage",
            "status",
            "amount",
            "probability",
            "probability_override",
            "forecast_category",
            "product_category",
            "competitors",
            "owner",
            "owner_name",
            "source",
            "campaign_ref",
            "expected_close",
            "closed_at",
            "lost_reason",
            "lost_note",
            "stage_entered_at",
            "stage_due_at",
            "confirmed_checklist",
            "external_id",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "closed_at",
            "lost_reason",
            "stage_entered_at",
            "stage_due_at",
            "created_at",
            "updated_at",
        ]
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class DealMoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    version = serializers.IntegerField(required=False, min_value=1)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    contact = VisibleContactField(required=False, allow_null=True)
    expected_close = serializers.DateField(required=False, allow_null=True)
    product_category = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), required=False, allow_null=True
    )
    competitors = serializers.PrimaryKeyRelatedField(
        queryset=Competitor.objects.all(), many=True, required=False
    )
    checklist = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        help_text=_("Checklist items of the target stage the caller confirms."),
    )
    closed_at = serializers.DateField(
        required=False, allow_null=True, help_text=_("Close date; required to win.")
    )
    lost_reason = serializers.ChoiceField(
        choices=Deal.LostReason.choices, required=False, allow_blank=True, default=""
    )
    lost_note = serializers.CharField(required=False, allow_blank=True, default="")


class DealReopenSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Default: the stage the deal was closed from."),
    )
    version = serializers.IntegerField(required=False, min_value=1)


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage_name = serializers.CharField(
        source="from_stage.display_name", default=None, read_only=True
    )
    to_stage_name = serializers.CharField(source="to_stage.display_name", read_only=True)
    changed_by_name = serializers.CharField(
        source="changed_by.display_name", default=None, read_only=True
    )

    class Meta:
        model = StageChange
        fields = [
            "id",
            "kind",
            "from_stage",
            "from_stage_name",
            "to_stage",
            "to_stage_name",
            "changed_at",
            "changed_by",
            "changed_by_name",
            "days_in_previous_stage",
        ]
        read_only_fields = fields


# Reports

SCOPE_HELP = _(
    "me: your own deals; rep: one person you can see (give user); team: a team subtree you "
    "manage (give team; admins any team); all: everything you can see. A rep or team out "
    "of reach answers 404."
)


class ScopeQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=[(kind, kind) for kind in selectors.SCOPE_KINDS], default="me", help_text=SCOPE_HELP
    )
    user = serializers.IntegerField(required=False)
    team = serializers.IntegerField(required=False)

    def validate(self, attrs):
        if attrs["scope"] == "rep" and "user" not in attrs:
            raise serializers.ValidationError({"user": _("Give the person for the rep scope.")})
        if attrs["scope"] == "team" and "team" not in attrs:
            raise serializers.ValidationError({"team": _("Give the team for the team scope.")})
        return attrs


class FunnelQuerySerializer(ScopeQuerySerializer):
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=Pipeline.objects.all(), required=False, help_text=_("Default: the default one.")
    )
    start = serializers.DateField(required=False, help_text=_("Default: first day of the month."))
    end = serializers.DateField(required=False, help_text=_("Default: today (included)."))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": _("The end comes before the start.")})
        return attrs


class ForecastQuerySerializer(ScopeQuerySerializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, default=PeriodKind.MONTH)
    on = serializers.DateField(required=False, help_text=_("A day of the period; default today."))


class ScopeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    user = serializers.IntegerField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)


def _percent_field(help_text):
    return serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text=help_text
    )


def _money_field(help_text=""):
    return serializers.DecimalField(max_digits=16, decimal_places=2, help_text=help_text)


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    is_won = serializers.BooleanField()
    sla_days = serializers.IntegerField(allow_null=True)
    in_stage_count = serializers.IntegerField(help_text=_("Open deals in the stage now."))
    in_stage_amount = _money_field(_("Their amount."))
    weighted_amount = _money_field(_("Their amount × probability (override or stage's)."))
    over_sla = serializers.IntegerField(help_text=_("Of those, past the stage's SLA days."))
    entered = serializers.IntegerField(
        help_text=_("Moves into the stage in the range, plus moves that skipped over it.")
    )
    advanced = serializers.IntegerField(
        help_text=_("Moves in the range to a later non-lost stage, plus skips over it.")
    )
    lost = serializers.IntegerField(help_text=_("Moves in the range to the lost stage."))
    conversion = _percent_field(_("advanced / entered in percent."))
    average_days = serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        allow_null=True,
        help_text=_("Average days in the stage of the moves that left it in the range."),
    )
    median_days = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True, help_text=_("Their median.")
    )
    history_conversion = _percent_field(_("Conversion over the trailing four quarters."))
    bottleneck = serializers.BooleanField(
        help_text=_("Conversion at least 10 points below the trailing four quarters.")
    )


class RepStageSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    entered = serializers.IntegerField()
    advanced = serializers.IntegerField()
    lost = serializers.IntegerField()
    conversion = _percent_field("")
    bottleneck = serializers.BooleanField(
        help_text=_("The rep's conversion is at least 10 points below the scope's.")
    )


class RepFunnelSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    name = serializers.CharField()
    stages = RepStageSerializer(many=True)


class FunnelSerializer(serializers.Serializer):
    pipeline = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    scope = ScopeSerializer()
    history_start = serializers.DateField()
    history_end = serializers.DateField()
    stages = FunnelStageSerializer(many=True)
    won = serializers.IntegerField(help_text=_("Deals won with a close date in the range."))
    lost = serializers.IntegerField(help_text=_("Deals lost with a close date in the range."))
    win_rate = _percent_field(_("won / (won + lost) in percent."))
    average_sales_cycle_days = serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        allow_null=True,
        help_text=_("Days the deals won in the range spent in open stages, on average."),
    )
    reps = RepFunnelSerializer(
        many=True, help_text=_("Per rep, in the team and all scopes; empty otherwise.")
    )


class StageRateSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    rate = _percent_field(
        _("Share of the deals closed in 12 months after entering the stage that were won.")
    )


class ForecastAccuracySerializer(serializers.Serializer):
    snapshot_taken_on = serializers.DateField(allow_null=True)
    actual_won = _money_field()
    forecast = serializers.DictField(child=_money_field(), allow_null=True)
    error_percent = serializers.DictField(child=_percent_field(""))


class ForecastSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    scope = ScopeSerializer()
    closed_won = _money_field(_("Won with a close date in the period."))
    commit = _money_field(_("Open, expected in the period, category commit."))
    best_case = _money_field(_("Open, expected in the period, category best case."))
    pipeline = _money_field(_("Open, expected in the period, category pipeline."))
    weighted = _money_field(_("Those open deals' amount × probability."))
    win_rate_forecast = _money_field(
        _("Those open deals' amount × the scope's 12-month stage-to-won rate.")
    )
    stage_win_rates = StageRateSerializer(many=True)
    target = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        help_text=_("Empty until targets exist."),
    )
    accuracy = ForecastAccuracySerializer(
        allow_null=True,
        help_text=_("After the period: the snapshot of its first day against what was won."),
    )
