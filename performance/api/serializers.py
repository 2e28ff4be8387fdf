"""Serializers of the performance API."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.serializers import VisibleAccountField, VisibleContactField
from performance import selectors, services
from performance.models import (
    Expense,
    ImprovementAction,
    ImprovementPlan,
    Metric,
    PeriodType,
    PlanCheckIn,
    Review,
    ReviewCriterion,
    ReviewCycle,
    ReviewFeedback,
    ReviewKpi,
    Target,
)
from pipeline.api.serializers import ScopeQuerySerializer, ScopeSerializer
from pipeline.models import Deal
from teams.models import Team, User

# Targets, attainment and leaderboards


@extend_schema_field(OpenApiTypes.INT)
class VisibleUserField(serializers.PrimaryKeyRelatedField):
    """An active person the caller may see; any other id is as unknown as a missing one."""

    def get_queryset(self):
        return User.objects.visible_to(self.context["request"].user).filter(is_active=True)


@extend_schema_field(OpenApiTypes.INT)
class VisibleTeamField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Team.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleTargetField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Target.objects.visible_to(self.context["request"].user)


class TargetSerializer(serializers.ModelSerializer):
    user = VisibleUserField(required=False, allow_null=True)
    team = VisibleTeamField(required=False, allow_null=True)
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


class LeaderboardPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")
    team = serializers.IntegerField(source="team_id", allow_null=True)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    previous_rank = serializers.IntegerField(help_text=_("Rank a week earlier."))
    rank_change = serializers.IntegerField(help_text=_("Places gained since a week earlier."))
    user = LeaderboardPersonSerializer()
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


# Reviews, 360 feedback and improvement plans


def _plain(value):
    """Decimals as strings (exact), recursively, for JSON answers built from selectors."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, User):
        return {"id": value.pk, "name": value.display_name}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value


@extend_schema_field(OpenApiTypes.INT)
class VisibleReviewField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Review.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleDealField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Deal.objects.visible_to(self.context["request"].user)


class ReviewKpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewKpi
        fields = ["kind", "weight", "target"]


class ReviewCriterionSerializer(serializers.ModelSerializer):
    levels = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = ReviewCriterion
        fields = ["kind", "weight", "levels"]


class ReviewCycleSerializer(serializers.ModelSerializer):
    """A cycle with its template. Leave out `kpis` and `criteria` for the default template;
    all the weights together must add up to 100."""

    team = VisibleTeamField()
    kpis = ReviewKpiSerializer(many=True, required=False)
    criteria = ReviewCriterionSerializer(many=True, required=False)
    review_count = serializers.IntegerField(read_only=True)
    submitted_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReviewCycle
        fields = [
            "id",
            "name",
            "kind",
            "start",
            "end",
            "team",
            "status",
            "kpis",
            "criteria",
            "review_count",
            "submitted_count",
            "created_by",
            "opened_at",
            "closed_at",
            "updated_at",
        ]
        read_only_fields = ["status", "created_by", "opened_at", "closed_at", "updated_at"]


class ReviewListSerializer(serializers.ModelSerializer):
    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    reviewee_name = serializers.CharField(source="reviewee.display_name", read_only=True)
    reviewer_name = serializers.CharField(
        source="reviewer.display_name", read_only=True, default=None
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "cycle",
            "cycle_name",
            "reviewee",
            "reviewee_name",
            "reviewer",
            "reviewer_name",
            "status",
            "overall_score",
            "submitted_at",
            "acknowledged_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReviewSerializer(ReviewListSerializer):
    """A review with its frozen KPI lines, the breakdown of the overall score and the 360
    results (peer and subordinate answers only aggregated, from three answers on).
    PATCH saves the reviewer's draft scores and notes."""

    criteria_scores = serializers.DictField(child=serializers.IntegerField(), required=False)
    breakdown = serializers.SerializerMethodField()
    feedback_summary = serializers.SerializerMethodField()

    class Meta(ReviewListSerializer.Meta):
        fields = [
            *ReviewListSerializer.Meta.fields,
            "kpi_results",
            "kpis_filled_at",
            "criteria_scores",
            "strengths",
            "improvements",
            "reviewee_comment",
            "breakdown",
            "feedback_summary",
        ]
        read_only_fields = [
            *ReviewListSerializer.Meta.fields,
            "kpi_results",
            "kpis_filled_at",
            "reviewee_comment",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_breakdown(self, review):
        return _plain(selectors.review_breakdown(review))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_feedback_summary(self, review):
        summary = selectors.feedback_summary(review)
        for group in summary["groups"]:
            for answer in group["answers"]:
                answer.pop("pk")
        return _plain(summary)


class ReviewSubmitSerializer(serializers.Serializer):
    criteria_scores = serializers.DictField(child=serializers.IntegerField())
    strengths = serializers.CharField(required=False, allow_blank=True, default="")
    improvements = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewAcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewFeedbackSerializer(serializers.ModelSerializer):
    """A 360 request: a colleague (`rater`) or, for `customer`, a `contact` who answers
    through `link` without signing in. The link is shown to the review's managers only."""

    review = VisibleReviewField()
    rater = VisibleUserField(required=False, allow_null=True)
    contact = VisibleContactField(required=False, allow_null=True)
    rater_name = serializers.SerializerMethodField()
    reviewee = serializers.IntegerField(source="review.reviewee_id", read_only=True)
    link = serializers.SerializerMethodField()

    class Meta:
        model = ReviewFeedback
        fields = [
            "id",
            "review",
            "reviewee",
            "rater_kind",
            "rater",
            "contact",
            "rater_name",
            "answers",
            "comment",
            "answered_at",
            "link",
            "created_at",
        ]
        read_only_fields = ["answers", "comment", "answered_at", "created_at"]
        validators = []

    def get_rater_name(self, feedback) -> str:
        return str(feedback.rater or feedback.contact)

    def get_link(self, feedback) -> str | None:
        if not feedback.contact_id:
            return None
        user = self.context["request"].user
        review = feedback.review
        if "visible_user_ids" not in self.context:
            # One query for the whole list (services.can_manage_review asks per review).
            self.context["visible_user_ids"] = set(
                User.objects.visible_to(user).values_list("pk", flat=True)
            )
        manages = user.pk != review.reviewee_id and (
            user.pk == review.reviewer_id or review.reviewee_id in self.context["visible_user_ids"]
        )
        return services.feedback_link(feedback) if manages else None


class FeedbackAnswerSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.IntegerField())
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ImprovementActionSerializer(serializers.ModelSerializer):
    owner = VisibleUserField()
    account = VisibleAccountField(required=False, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)

    class Meta:
        model = ImprovementAction
        fields = [
            "id",
            "description",
            "owner",
            "owner_name",
            "due",
            "account",
            "followup",
            "done",
            "done_at",
        ]
        read_only_fields = ["followup", "done", "done_at"]


class ActionDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True)


class PlanCheckInSerializer(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.display_name", read_only=True)

    class Meta:
        model = PlanCheckIn
        fields = ["id", "date", "note", "by", "by_name", "created_at"]
        read_only_fields = ["by", "created_at"]


class ImprovementPlanListSerializer(serializers.ModelSerializer):
    review = VisibleReviewField(required=False, allow_null=True)
    person = VisibleUserField(required=False)
    owner = VisibleUserField(required=False)
    person_name = serializers.CharField(source="person.display_name", read_only=True)
    action_count = serializers.IntegerField(read_only=True)
    done_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImprovementPlan
        fields = [
            "id",
            "review",
            "person",
            "person_name",
            "owner",
            "goals",
            "status",
            "start",
            "end",
            "action_count",
            "done_count",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class ImprovementPlanSerializer(ImprovementPlanListSerializer):
    actions = ImprovementActionSerializer(many=True, read_only=True)
    check_ins = PlanCheckInSerializer(many=True, read_only=True)

    class Meta(ImprovementPlanListSerializer.Meta):
        fields = [*ImprovementPlanListSerializer.Meta.fields, "actions", "check_ins"]


# Expenses


class ExpenseSerializer(serializers.ModelSerializer):
    account = VisibleAccountField(required=False, allow_null=True)
    deal = VisibleDealField(required=False, allow_null=True)
    user_name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Expense
        fields = [
            "id",
            "user",
            "user_name",
            "date",
            "category",
            "amount",
            "account",
            "deal",
            "note",
            "receipt",
            "status",
            "decided_by",
            "decided_at",
            "rejection_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "user",
            "status",
            "decided_by",
            "decided_at",
            "rejection_reason",
            "created_at",
            "updated_at",
        ]


class ExpenseRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
