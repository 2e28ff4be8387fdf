"""REST endpoints of the incentives app. Plans and rules: everyone signed in reads, admins
write. Statements and disputes follow the visibility rule (a person sees their own, a
manager their subtree's, an admin all; anything else is 404); approving, marking paid,
raising and resolving disputes are their own actions, each calling a service."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from incentives import selectors, services
from incentives.api.serializers import (
    AwardSerializer,
    BonusRuleSerializer,
    CommissionPlanSerializer,
    CommissionRuleSerializer,
    ContestSerializer,
    DealCreditSerializer,
    DealCreditsSetSerializer,
    DisputeResolveSerializer,
    DisputeSerializer,
    EstimateQuerySerializer,
    EstimateSerializer,
    KudosSerializer,
    RankingRowSerializer,
    StatementListSerializer,
    StatementSerializer,
)
from incentives.filtersets import (
    BonusRuleFilterSet,
    CommissionPlanFilterSet,
    CommissionRuleFilterSet,
    DisputeFilterSet,
    StatementFilterSet,
)
from incentives.models import BonusRule, CommissionPlan, CommissionRule, DealCredit
from pipeline import selectors as pipeline_selectors
from salesmgmt.core.permissions import IsAdminRoleOrReadOnly
from teams.models import User


class ConfigViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminRoleOrReadOnly]

    def perform_create(self, serializer):
        serializer.instance = self.save(serializer.Meta.model(), serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.save(serializer.instance, serializer.validated_data)

    def perform_destroy(self, instance):
        services.config_delete(by=self.request.user, instance=instance)

    @staticmethod
    def assign(instance, data: dict, skip=()):
        for name, value in data.items():
            if name not in skip:
                setattr(instance, name, value)


class CommissionPlanViewSet(ConfigViewSet):
    """Commission plans and whom they apply to (people, teams, ladder levels; the most
    specific wins). Two plans in effect at once may not name the same person, team or level."""

    serializer_class = CommissionPlanSerializer
    filterset_class = CommissionPlanFilterSet
    ordering_fields = ["effective_from", "name"]
    ordering = ["-effective_from", "name"]
    queryset = CommissionPlan.objects.prefetch_related("users", "teams", "ladder_levels")

    def save(self, plan, data):
        relations = {name: data.get(name) for name in ("users", "teams", "ladder_levels")}
        self.assign(plan, data, skip=relations)
        return services.commission_plan_save(by=self.request.user, plan=plan, **relations)


class CommissionRuleViewSet(ConfigViewSet):
    """Commission rules with their attainment tiers (percent of the revenue target)."""

    serializer_class = CommissionRuleSerializer
    filterset_class = CommissionRuleFilterSet
    ordering = ["plan", "id"]
    queryset = CommissionRule.objects.prefetch_related("tiers")

    def save(self, rule, data):
        tiers = data.get("tiers")
        self.assign(rule, data, skip={"tiers"})
        tiers = None if tiers is None else [dict(tier) for tier in tiers]
        return services.commission_rule_save(by=self.request.user, rule=rule, tiers=tiers)


class BonusRuleViewSet(ConfigViewSet):
    serializer_class = BonusRuleSerializer
    filterset_class = BonusRuleFilterSet
    ordering = ["plan", "kind", "id"]
    queryset = BonusRule.objects.all()

    def save(self, bonus, data):
        self.assign(bonus, data)
        return services.bonus_rule_save(by=self.request.user, bonus=bonus)


class StatementViewSet(viewsets.ReadOnlyModelViewSet):
    """Statements with their lines. Drafts are recomputed nightly; `approve` freezes one
    (a manager of the person), `mark-paid` records the payment (an admin)."""

    filterset_class = StatementFilterSet
    ordering_fields = ["start", "total", "updated_at"]
    ordering = ["-start", "id"]

    def get_queryset(self):
        if self.action == "list":
            return selectors.statement_list(viewer=self.request.user)
        return selectors.statement_list(viewer=self.request.user).prefetch_related(
            "lines__disputes"
        )

    def get_serializer_class(self):
        return StatementListSerializer if self.action == "list" else StatementSerializer

    def _detail(self, statement):
        statement = selectors.statement_get(viewer=self.request.user, pk=statement.pk)
        return Response(StatementSerializer(statement).data)

    @extend_schema(request=None, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        statement = services.statement_approve(by=request.user, statement=self.get_object())
        return self._detail(statement)

    @extend_schema(request=None, responses=StatementSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        statement = services.statement_mark_paid(by=request.user, statement=self.get_object())
        return self._detail(statement)

    @extend_schema(request=None, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def recompute(self, request, pk=None):
        """Rebuilds a draft from the current data (an approved statement is left as it is)."""
        statement = self.get_object()
        statement = services.statement_compute(
            user=statement.user, period=(statement.start, statement.end)
        )
        return self._detail(statement)


class DisputeViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Disputes on statement lines: the statement's person raises one on their line, a
    manager of theirs resolves it (`resolve`: accept with an adjustment, or reject)."""

    serializer_class = DisputeSerializer
    filterset_class = DisputeFilterSet
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.dispute_list(viewer=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.dispute_raise(
            by=self.request.user, line=data["line"], comment=data["comment"]
        )

    @extend_schema(request=DisputeResolveSerializer, responses=DisputeSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = self.get_object()
        body = DisputeResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dispute = services.dispute_resolve(
            by=request.user,
            dispute=dispute,
            accept=data["accept"],
            resolution=data["resolution"],
            adjustment=data.get("adjustment"),
        )
        return Response(DisputeSerializer(dispute, context={"request": request}).data)


class CommissionEstimateView(APIView):
    """What a deal would pay a person if it were won today, given their plan and what they
    have won so far this period. The deal and the person must be visible to the caller."""

    @extend_schema(parameters=[EstimateQuerySerializer], responses=EstimateSerializer)
    def get(self, request):
        query = EstimateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deal = pipeline_selectors.deal_get(viewer=request.user, pk=query.validated_data["deal"])
        user_id = query.validated_data.get("user") or request.user.pk
        user = get_object_or_404(User.objects.visible_to(request.user), pk=user_id)
        estimate = selectors.commission_estimate(deal=deal, user=user)
        return Response(EstimateSerializer(estimate).data, status=status.HTTP_200_OK)


class ContestViewSet(viewsets.ModelViewSet):
    """Sales contests; a manager creates one among people they see. `ranking` is the live
    ranking on the contest's metric; winners become awards when it ends."""

    serializer_class = ContestSerializer
    ordering = ["-start", "name"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.contest_list(viewer=self.request.user).prefetch_related("participants")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        participants = data.pop("participants", [])
        serializer.instance = services.contest_create(
            by=self.request.user, participants=participants, **data
        )

    @extend_schema(responses=RankingRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def ranking(self, request, pk=None):
        rows = selectors.contest_ranking(self.get_object())
        return Response(RankingRowSerializer(rows, many=True).data)


class AwardViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Awards (public recognition). A manager grants one by hand to one of their people."""

    serializer_class = AwardSerializer
    ordering = ["-created_at", "-id"]
    filterset_fields = ["user", "kind"]

    def get_queryset(self):
        return selectors.award_list(viewer=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.award_grant(
            by=self.request.user,
            user=data["user"],
            kind=data["kind"],
            title=data["title"],
            note=data.get("note", ""),
        )


class KudosViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Kudos: anyone praises a colleague; the list is the caller's team wall (kudos to
    people they see or to their teammates, and those they gave)."""

    serializer_class = KudosSerializer
    ordering = ["-created_at", "-id"]
    filterset_fields = ["recipient", "sender"]

    def get_queryset(self):
        return selectors.kudos_list(viewer=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.kudos_give(
            by=self.request.user, recipient=data["recipient"], message=data["message"]
        )


class DealCreditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Split deals: who is credited with which share of a deal (a deal without shares credits
    its owner with all of it). `set` replaces a deal's shares."""

    serializer_class = DealCreditSerializer
    filterset_fields = ["deal", "user"]
    ordering = ["deal", "-percent", "user"]

    def get_queryset(self):
        deals = pipeline_selectors.deal_list(viewer=self.request.user).values("pk")
        return DealCredit.objects.filter(deal_id__in=deals)

    @extend_schema(request=DealCreditsSetSerializer, responses=DealCreditSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="set")
    def set_shares(self, request):
        body = DealCreditsSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deal = pipeline_selectors.deal_get(viewer=request.user, pk=body.validated_data["deal"])
        shares = [(row["user"], row["percent"]) for row in body.validated_data["shares"]]
        services.deal_credits_set(by=request.user, deal=deal, shares=shares)
        rows = DealCredit.objects.filter(deal=deal)
        return Response(DealCreditSerializer(rows, many=True).data)
