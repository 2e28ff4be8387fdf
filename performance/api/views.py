"""REST endpoints of the performance app. Reads come from performance.selectors (so the
visibility rule applies) and every write goes through performance.services."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from performance import selectors, services
from performance.api.serializers import (
    TARGET_FIXED_FIELDS,
    ActionDoneSerializer,
    AttainmentQuerySerializer,
    AttainmentSerializer,
    CopySerializer,
    DecomposeSerializer,
    ExpenseRejectSerializer,
    ExpenseSerializer,
    FeedbackAnswerSerializer,
    ImprovementActionSerializer,
    ImprovementPlanListSerializer,
    ImprovementPlanSerializer,
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    PlanCheckInSerializer,
    ReviewAcknowledgeSerializer,
    ReviewCycleSerializer,
    ReviewFeedbackSerializer,
    ReviewListSerializer,
    ReviewSerializer,
    ReviewSubmitSerializer,
    TargetSerializer,
    TargetUpdateResultSerializer,
)
from performance.filtersets import ExpenseFilterSet, ReviewFilterSet, TargetFilterSet
from pipeline.selectors import resolve_scope


class TargetViewSet(viewsets.ModelViewSet):
    """Targets of the people and teams the caller sees (a rep: their own). Admins and
    managers set targets for the people and teams below them; editing a target's value
    marks it as edited by hand and answers how its split compares with the parent."""

    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
    ordering_fields = ["start", "value", "updated_at"]
    ordering = ["start", "id"]

    def get_queryset(self):
        return selectors.target_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.target_create(
            by=self.request.user, **serializer.validated_data
        )

    @extend_schema(responses=TargetUpdateResultSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        target = self.get_object()
        serializer = self.get_serializer(target, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changed = [
            name
            for name in TARGET_FIXED_FIELDS
            if name in data and data[name] != getattr(target, name)
        ]
        if changed:
            raise DRFValidationError(
                {name: [_("Set a new target instead of changing this.")] for name in changed}
            )
        result = services.target_update(
            by=request.user, target=target, value=data.get("value"), note=data.get("note")
        )
        fresh = selectors.target_get(viewer=request.user, pk=result["target"].pk)
        context = self.get_serializer_context()
        return Response(TargetUpdateResultSerializer(fresh, context=context).data)

    def perform_destroy(self, instance):
        services.target_delete(by=self.request.user, target=instance)

    @extend_schema(request=DecomposeSerializer, responses=TargetSerializer(many=True))
    @action(detail=True, methods=["post"])
    def decompose(self, request, pk=None):
        """Splits the target over time (year → quarters → months → weeks) or over its
        team's people and sub-teams, evenly, by last year's actuals or by the weights given.
        Children edited by hand are kept unless `overwrite` is true (400 naming them)."""
        target = self.get_object()
        serializer = DecomposeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        children = services.target_decompose(
            by=request.user,
            target=target,
            split=data["split"],
            mode=data["mode"],
            weights=data.get("weights"),
            overwrite=data["overwrite"],
        )
        rows = selectors.target_list(viewer=request.user).filter(pk__in=[c.pk for c in children])
        return Response(TargetSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(request=CopySerializer, responses=TargetSerializer)
    @action(detail=True, methods=["post"], url_path="copy-last-year")
    def copy_last_year(self, request, pk=None):
        """Gives the target last year's value and rebuilds its splits with last year's
        shares."""
        target = self.get_object()
        serializer = CopySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.target_copy_from_last_year(
            by=request.user, target=target, overwrite=serializer.validated_data["overwrite"]
        )
        fresh = selectors.target_get(viewer=request.user, pk=target.pk)
        return Response(TargetSerializer(fresh, context={"request": request}).data)


class AttainmentReportView(APIView):
    """Attainment and pace of a scope for the period (year, quarter, month or ISO week)
    holding `on`: actual, target, percent, the expected figure by working days elapsed and
    a behind-pace flag; for a team also each sub-team and person, furthest behind first. A
    rep or team the caller may not look at answers 404."""

    @extend_schema(parameters=[AttainmentQuerySerializer], responses=AttainmentSerializer)
    def get(self, request):
        query = AttainmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        scope = resolve_scope(
            viewer=request.user,
            kind=data["scope"],
            user_id=data.get("user"),
            team_id=data.get("team"),
        )
        result = selectors.attainment(
            viewer=request.user,
            scope=scope,
            metric=data["metric"],
            period_type=data["period"],
            on=data.get("on"),
        )
        return Response(AttainmentSerializer(result).data)


class LeaderboardReportView(APIView):
    """People ranked by a metric for the period holding `on`, with their rank a week
    earlier; the caller's subtree or the whole company, as the admin set it."""

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses=LeaderboardSerializer)
    def get(self, request):
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = selectors.leaderboard(
            viewer=request.user,
            metric=data["metric"],
            period_type=data["period"],
            on=data.get("on"),
        )
        return Response(LeaderboardSerializer(result).data, status=status.HTTP_200_OK)


# Reviews, 360 feedback and improvement plans


class ReviewCycleViewSet(viewsets.ModelViewSet):
    """Review cycles over the teams the caller manages (and those they take part in).
    Created as drafts with the default template unless `kpis` and `criteria` are given;
    `open` creates the reviews, `fill-kpis` fills them from the data once the period is
    over, `close` freezes them."""

    serializer_class = ReviewCycleSerializer
    ordering_fields = ["start", "name", "updated_at"]
    ordering = ["-start", "-id"]

    def get_queryset(self):
        return selectors.review_cycle_list(viewer=self.request.user).prefetch_related(
            "kpis", "criteria"
        )

    def _detail(self, cycle, status_code=status.HTTP_200_OK):
        fresh = selectors.review_cycle_get(viewer=self.request.user, pk=cycle.pk)
        data = ReviewCycleSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cycle = services.cycle_create(by=request.user, **serializer.validated_data)
        return self._detail(cycle, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        cycle = self.get_object()
        serializer = self.get_serializer(
            cycle, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.cycle_update(by=request.user, cycle=cycle, **serializer.validated_data)
        return self._detail(cycle)

    def perform_destroy(self, instance):
        services.cycle_delete(by=self.request.user, cycle=instance)

    @extend_schema(request=None, responses=ReviewCycleSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """Opens the cycle: a review per person of the team subtree, reviewed by their
        manager; run again, it adds only the people who joined since."""
        cycle = self.get_object()
        services.cycle_open(by=request.user, cycle=cycle)
        return self._detail(cycle)

    @extend_schema(request=None, responses=ReviewCycleSerializer)
    @action(detail=True, methods=["post"], url_path="fill-kpis")
    def fill_kpis(self, request, pk=None):
        cycle = self.get_object()
        services.cycle_fill_kpis(by=request.user, cycle=cycle)
        return self._detail(cycle)

    @extend_schema(request=None, responses=ReviewCycleSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        cycle = self.get_object()
        services.cycle_close(by=request.user, cycle=cycle)
        return self._detail(cycle)


class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Reviews the caller may see: a manager their subtree's, a rep their own. The reviewer
    PATCHes draft scores and notes and `submit`s; the reviewee `acknowledge`s."""

    filterset_class = ReviewFilterSet
    ordering_fields = ["updated_at", "overall_score", "submitted_at"]
    ordering = ["-cycle__start", "reviewee__username", "id"]

    def get_queryset(self):
        if self.action == "list":
            return selectors.review_list(viewer=self.request.user)
        return selectors.review_list(viewer=self.request.user).prefetch_related(
            "cycle__kpis", "cycle__criteria"
        )

    def get_serializer_class(self):
        return ReviewListSerializer if self.action == "list" else ReviewSerializer

    def _detail(self, review):
        fresh = selectors.review_get(viewer=self.request.user, pk=review.pk)
        return Response(ReviewSerializer(fresh, context=self.get_serializer_context()).data)

    def update(self, request, *args, **kwargs):
        review = self.get_object()
        serializer = self.get_serializer(review, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.review_save(by=request.user, review=review, **serializer.validated_data)
        return self._detail(review)

    @extend_schema(request=ReviewSubmitSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Scores every criterion 1-5 and submits; the KPI values and the overall score are
        frozen."""
        review = self.get_object()
        serializer = ReviewSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.review_submit(by=request.user, review=review, **serializer.validated_data)
        return self._detail(review)

    @extend_schema(request=ReviewAcknowledgeSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        review = self.get_object()
        serializer = ReviewAcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.review_acknowledge(
            by=request.user, review=review, comment=serializer.validated_data["comment"]
        )
        return self._detail(review)


class ReviewFeedbackViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """360 feedback: the requests made of the caller, and on the reviews they see the
    self, manager and customer answers (peer and subordinate answers only appear, averaged,
    in the review's `feedback_summary`). POST invites a rater; `answer` gives the caller's
    answers once."""

    serializer_class = ReviewFeedbackSerializer
    ordering = ["-id"]

    def get_queryset(self):
        return selectors.feedback_list(viewer=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_invite(by=request.user, **serializer.validated_data)
        fresh = selectors.feedback_get(viewer=request.user, pk=feedback.pk)
        data = ReviewFeedbackSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FeedbackAnswerSerializer, responses=ReviewFeedbackSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        feedback = self.get_object()
        serializer = FeedbackAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.feedback_answer(by=request.user, feedback=feedback, **serializer.validated_data)
        fresh = selectors.feedback_get(viewer=request.user, pk=feedback.pk)
        return Response(ReviewFeedbackSerializer(fresh, context={"request": request}).data)


class ImprovementPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Improvement plans of the people the caller sees (a rep: their own), with their
    actions and check-ins. A plan made from a `review` is for its reviewee."""

    ordering = ["-start", "-id"]

    def get_queryset(self):
        return selectors.plan_list(viewer=self.request.user)

    def get_serializer_class(self):
        return ImprovementPlanListSerializer if self.action == "list" else ImprovementPlanSerializer

    def _detail(self, plan, status_code=status.HTTP_200_OK):
        fresh = selectors.plan_get(viewer=self.request.user, pk=plan.pk)
        data = ImprovementPlanSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.plan_create(by=request.user, **serializer.validated_data)
        return self._detail(plan, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        serializer = self.get_serializer(plan, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        for fixed in ("review", "person"):
            if fixed in data and data.pop(fixed) != getattr(plan, fixed):
                raise DRFValidationError({fixed: [_("A plan cannot move to someone else.")]})
        services.plan_update(by=request.user, plan=plan, **data)
        return self._detail(plan)

    @extend_schema(request=ImprovementActionSerializer, responses=ImprovementPlanSerializer)
    @action(detail=True, methods=["post"], url_path="actions")
    def add_action(self, request, pk=None):
        plan = self.get_object()
        serializer = ImprovementActionSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.plan_add_action(by=request.user, plan=plan, **serializer.validated_data)
        return self._detail(plan, status.HTTP_201_CREATED)

    @extend_schema(request=ActionDoneSerializer, responses=ImprovementPlanSerializer)
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<action_id>\d+)/done")
    def action_done(self, request, pk=None, action_id=None):
        plan = self.get_object()
        improvement_action = get_object_or_404(plan.actions.all(), pk=action_id)
        serializer = ActionDoneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.action_set_done(
            by=request.user, action=improvement_action, done=serializer.validated_data["done"]
        )
        return self._detail(plan)

    @extend_schema(request=PlanCheckInSerializer, responses=ImprovementPlanSerializer)
    @action(detail=True, methods=["post"], url_path="check-ins")
    def check_in(self, request, pk=None):
        plan = self.get_object()
        serializer = PlanCheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.plan_check_in(by=request.user, plan=plan, **serializer.validated_data)
        return self._detail(plan, status.HTTP_201_CREATED)


# Expenses


class ExpenseViewSet(viewsets.ModelViewSet):
    """Expenses of the people the caller sees. The submitter changes or withdraws an
    expense until a manager who sees them `approve`s or `reject`s it (with a reason);
    approved expenses count in the expense-to-revenue KPI of reviews."""

    serializer_class = ExpenseSerializer
    filterset_class = ExpenseFilterSet
    ordering_fields = ["date", "amount", "updated_at"]
    ordering = ["-date", "-id"]

    def get_queryset(self):
        return selectors.expense_list(viewer=self.request.user)

    def _detail(self, expense, status_code=status.HTTP_200_OK):
        fresh = selectors.expense_get(viewer=self.request.user, pk=expense.pk)
        data = ExpenseSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        expense = services.expense_submit(by=request.user, **serializer.validated_data)
        return self._detail(expense, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        expense = self.get_object()
        serializer = self.get_serializer(
            expense, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.expense_update(by=request.user, expense=expense, **serializer.validated_data)
        return self._detail(expense)

    def perform_destroy(self, instance):
        services.expense_withdraw(by=self.request.user, expense=instance)

    @extend_schema(request=None, responses=ExpenseSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        expense = self.get_object()
        services.expense_approve(by=request.user, expense=expense)
        return self._detail(expense)

    @extend_schema(request=ExpenseRejectSerializer, responses=ExpenseSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        expense = self.get_object()
        serializer = ExpenseRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.expense_reject(
            by=request.user, expense=expense, reason=serializer.validated_data["reason"]
        )
        return self._detail(expense)
