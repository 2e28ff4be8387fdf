"""Serializers of the performance API."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from performance import services
from performance.models import (
    Metric,
    PeriodType,
    Target,
)
from pipeline.api.serializers import ScopeQuerySerializer, ScopeSerializer
from teams.models import Team, User

# Targets, attainment and leaderboards


@extend_schema_field(OpenApiTypes.INT)
class TargetUserField(serializers.PrimaryKeyRelatedField):
    """A person the caller may see; any other id is as unknown as a missing one."""

    def get_queryset(self):
        return User.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class TargetTeamField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Team.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleTargetField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Target.objects.visible_to(self.context["request"].user)


class TargetSerializer(serializers.ModelSerializer):
    user = TargetUserField(required=False, allow_null=True)
    team = TargetTeamField(required=False, allow_null=True)
    parent = VisibleTargetField(required=False, allow_null=True)
    scope_name = serializers.CharField(read_only=True)
    period_label = serializers.CharField(read_only=True)
    end = serializers.DateField(
        required=False, help_text=_("Default: the end of the period holding the start.")
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "period_type",
            "start",
            "end",
            "period_label",
            "user",
            "team",
            "scope_name",
            "metric",
            "product_category",
            "industry",
            "tier",
            "value",
            "parent",
            "note",
            "hand_edited",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["hand_edited", "created_by", "created_at", "updated_at"]
        # The service checks the model's constraints, with one message everywhere.
        validators = []


# Fields that define what a target is about; a change means a new target.
TARGET_FIXED_FIELDS = (
    "period_type",
    "start",
    "end",
    "user",
    "team",
    "metric",
    "product_category",
    "industry",
    "tier",
    "parent",
)


class SplitDifferenceSerializer(serializers.Serializer):
    parent = serializers.IntegerField()
    parent_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    children_total = serializers.DecimalField(max_digits=16, decimal_places=2)
    difference = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("Children's total minus the parent.")
    )


class TargetUpdateResultSerializer(TargetSerializer):
    difference = serializers.SerializerMethodField(
        help_text=_("For a target split from another: its split's total against the parent.")
    )

    class Meta(TargetSerializer.Meta):
        fields = [*TargetSerializer.Meta.fields, "difference"]

    @extend_schema_field(SplitDifferenceSerializer(allow_null=True))
    def get_difference(self, obj):
        difference = services.split_difference(obj)
        return SplitDifferenceSerializer(difference).data if difference else None


class DecomposeSerializer(serializers.Serializer):
    split = serializers.ChoiceField(
        choices=[
            (services.SPLIT_TIME, _("Over time: the next shorter periods")),
            (services.SPLIT_TEAM, _("Over the team: its people and sub-teams")),
        ],
        default=services.SPLIT_TIME,
    )
    mode = serializers.ChoiceField(
        choices=[
            (services.MODE_EVEN, _("Even (weeks by working days)")),
            (services.MODE_SEASONAL, _("By last year's actuals")),
            (services.MODE_MANUAL, _("By the weights given")),
        ],
        default=services.MODE_EVEN,
    )
    weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=16, decimal_places=4, min_value=0),
        required=False,
        help_text=_(
            "For manual weights: by child, the period start (YYYY-MM-DD) over time, or "
            "user:<id> / team:<id> over the team."
        ),
    )
    overwrite = serializers.BooleanField(
        default=False, help_text=_("Replace children that were edited by hand.")
    )

    def validate(self, attrs):
        if attrs["mode"] == services.MODE_MANUAL and not attrs.get("weights"):
            raise serializers.ValidationError({"weights": _("Give the weights for manual mode.")})
        return attrs


class CopySerializer(serializers.Serializer):
    overwrite = serializers.BooleanField(
        default=False, help_text=_("Replace targets below that were edited by hand.")
    )


class AttainmentQuerySerializer(ScopeQuerySerializer):
    metric = serializers.ChoiceField(choices=Metric.choices, default=Metric.REVENUE)
    period = serializers.ChoiceField(choices=PeriodType.choices, default=PeriodType.MONTH)
    on = serializers.DateField(required=False, help_text=_("A day of the period; default today."))


class LeaderboardQuerySerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices, default=Metric.REVENUE)
    period = serializers.ChoiceField(choices=PeriodType.choices, default=PeriodType.MONTH)
    on = serializers.DateField(required=False, help_text=_("A day of the period; default today."))


def _number(help_text=""):
    return serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text=help_text
    )


def _percent(help_text=""):
    return serializers.DecimalField(
        max_digits=9, decimal_places=1, allow_null=True, help_text=help_text
    )


class FiguresSerializer(serializers.Serializer):
    actual = _number(_("What was reached in the period so far."))
    target = _number(_("Empty without a target."))
    percent = _percent(_("Actual against target."))
    expected = _number(_("Target × the share of the period's working days elapsed."))
    pace_percent = _percent(_("Actual against the expected figure."))
    behind = serializers.BooleanField(help_text=_("Below pace."))


class AttainmentRowSerializer(FiguresSerializer):
    kind = serializers.ChoiceField(choices=["user", "team"])
    id = serializers.IntegerField()
    name = serializers.CharField()


class AttainmentSerializer(FiguresSerializer):
    scope = ScopeSerializer()
    metric = serializers.CharField()
    period_type = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    on = serializers.DateField()
    working_days = serializers.IntegerField()
    elapsed_working_days = serializers.IntegerField()
    elapsed_share = serializers.DecimalField(max_digits=5, decimal_places=4)
    rows = AttainmentRowSerializer(
        many=True, help_text=_("For a team: its sub-teams and people, furthest behind first.")
    )


class BriefUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")
    team = serializers.IntegerField(source="team_id", allow_null=True)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    previous_rank = serializers.IntegerField(help_text=_("Rank a week earlier."))
    rank_change = serializers.IntegerField(help_text=_("Places gained since a week earlier."))
    user = BriefUserSerializer()
    actual = _number()
    target = _number()
    percent = _percent()


class LeaderboardSerializer(serializers.Serializer):
    metric = serializers.CharField()
    period_type = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    on = serializers.DateField()
    scope = serializers.CharField(help_text=_("subtree or company, as the admin set it."))
    rows = LeaderboardRowSerializer(many=True)
