from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from incentives.models import (
    Award,
    BonusRule,
    CommissionPlan,
    CommissionRule,
    CommissionTier,
    Contest,
    DealCredit,
    Dispute,
    Kudos,
    Statement,
    StatementLine,
)
from teams.models import User


class CommissionPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommissionPlan
        fields = [
            "id",
            "name",
            "effective_from",
            "effective_to",
            "period",
            "currency",
            "users",
            "teams",
            "ladder_levels",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class CommissionTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommissionTier
        fields = ["from_percent", "to_percent", "rate"]


class CommissionRuleSerializer(serializers.ModelSerializer):
    tiers = CommissionTierSerializer(
        many=True, required=False, help_text=_("Replaced as a whole when given.")
    )

    class Meta:
        model = CommissionRule
        fields = [
            "id",
            "plan",
            "name",
            "basis",
            "product_category",
            "base_rate",
            "tier_mode",
            "threshold_percent",
            "cap",
            "tiers",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        # The plan/category uniqueness is checked by the service, one message everywhere.
        validators = []


class BonusRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = BonusRule
        fields = [
            "id",
            "plan",
            "name",
            "kind",
            "amount",
            "percent",
            "attainment_percent",
            "period",
            "team_split",
            "min_deal_amount",
            "min_years",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class BriefUserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class StatementListSerializer(serializers.ModelSerializer):
    user = BriefUserSerializer(read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "user",
            "start",
            "end",
            "plan",
            "status",
            "currency",
            "target",
            "credited_revenue",
            "attainment",
            "commission_total",
            "bonus_total",
            "adjustment_total",
            "total",
            "computed_at",
            "approved_by",
            "approved_at",
            "paid_at",
            "updated_at",
        ]
        read_only_fields = fields


class StatementLineSerializer(serializers.ModelSerializer):
    disputes = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = StatementLine
        fields = [
            "id",
            "kind",
            "deal",
            "rule",
            "bonus_rule",
            "corrects",
            "basis",
            "rate",
            "amount",
            "explanation",
            "source_key",
            "disputes",
        ]
        read_only_fields = fields


class StatementSerializer(StatementListSerializer):
    lines = StatementLineSerializer(many=True, read_only=True)

    class Meta(StatementListSerializer.Meta):
        fields = [*StatementListSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class DisputeSerializer(serializers.ModelSerializer):
    statement = serializers.IntegerField(source="line.statement_id", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "line",
            "statement",
            "raised_by",
            "comment",
            "status",
            "adjustment",
            "resolution",
            "resolved_by",
            "resolved_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "raised_by",
            "status",
            "adjustment",
            "resolution",
            "resolved_by",
            "resolved_at",
            "created_at",
            "updated_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "line" in self.fields:
            # Only the caller's own lines can be disputed; others are "not found".
            self.fields["line"].queryset = StatementLine.objects.filter(
                statement__user_id=request.user.pk
            )


class DisputeResolveSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    resolution = serializers.CharField()
    adjustment = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )


class EstimateQuerySerializer(serializers.Serializer):
    deal = serializers.IntegerField(help_text=_("The deal to estimate."))
    user = serializers.IntegerField(
        required=False, help_text=_("The person credited (default: you).")
    )


class EstimateLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    explanation = serializers.CharField()


class EstimateSerializer(serializers.Serializer):
    deal = serializers.IntegerField(source="deal.pk")
    user = serializers.IntegerField(source="user.pk")
    plan = serializers.IntegerField(source="plan_id", allow_null=True)
    share = serializers.DecimalField(max_digits=5, decimal_places=2)
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("What winning the deal adds.")
    )
    attainment_now = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    attainment_if_won = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    lines = EstimateLineSerializer(many=True)


class ContestSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contest
        fields = [
            "id",
            "name",
            "metric",
            "start",
            "end",
            "participants",
            "prizes",
            "created_by",
            "finalized_at",
            "updated_at",
        ]
        read_only_fields = ["created_by", "finalized_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "participants" in self.fields:
            self.fields["participants"].child_relation.queryset = User.objects.visible_to(
                request.user
            )


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = BriefUserSerializer()
    value = serializers.DecimalField(max_digits=16, decimal_places=2)


class AwardSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Award
        fields = [
            "id",
            "user",
            "user_name",
            "kind",
            "title",
            "note",
            "period_start",
            "period_end",
            "contest",
            "granted_by",
            "created_at",
        ]
        read_only_fields = [
            "period_start",
            "period_end",
            "contest",
            "granted_by",
            "created_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "user" in self.fields:
            self.fields["user"].queryset = User.objects.visible_to(request.user)


class KudosSerializer(serializers.ModelSerializer):
    sender_name = serializers.CharField(source="sender.display_name", read_only=True)
    recipient_name = serializers.CharField(source="recipient.display_name", read_only=True)

    class Meta:
        model = Kudos
        fields = [
            "id",
            "sender",
            "sender_name",
            "recipient",
            "recipient_name",
            "message",
            "created_at",
        ]
        read_only_fields = ["sender", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "recipient" in self.fields:
            self.fields["recipient"].queryset = User.objects.filter(is_active=True)


class DealCreditSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealCredit
        fields = ["id", "deal", "user", "percent", "updated_at"]
        read_only_fields = fields


class ShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)


class DealCreditsSetSerializer(serializers.Serializer):
    deal = serializers.IntegerField(help_text=_("A deal you may edit."))
    shares = ShareSerializer(
        many=True, help_text=_("Percentages summing to 100; empty gives the deal to its owner.")
    )
