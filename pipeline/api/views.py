"""REST endpoints of the pipeline app. Querysets come from pipeline.selectors (so the
visibility rule applies) and every write goes through pipeline.services.

Optimistic locking on deals: detail responses carry an ETag naming the deal's version. A
write (PUT, PATCH, move, reopen) with an If-Match header naming an older version answers
412, one with an older `version` in the body answers 409; either way nothing is written.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.views import INCLUDE_DELETED
from pipeline import selectors, services
from pipeline.api.serializers import (
    AssignmentRuleSerializer,
    CompetitorSerializer,
    DealListSerializer,
    DealMoveSerializer,
    DealReopenSerializer,
    DealSerializer,
    ForecastQuerySerializer,
    ForecastSerializer,
    FunnelQuerySerializer,
    FunnelSerializer,
    PipelineSerializer,
    ProductCategorySerializer,
    StageChangeSerializer,
    StageSerializer,
)
from pipeline.filtersets import (
    AssignmentRuleFilterSet,
    CompetitorFilterSet,
    DealFilterSet,
    PipelineFilterSet,
    ProductCategoryFilterSet,
    StageFilterSet,
)
from pipeline.models import AssignmentRule, Competitor, Pipeline, ProductCategory, Stage
from salesmgmt.core.permissions import IsAdminRoleOrReadOnly


class IsAdminRole(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)


class PreconditionFailed(Exception):
    pass


def wants_deleted(request) -> bool:
    return request.query_params.get("include_deleted", "").lower() in {"1", "true", "yes"}


def etag_for(deal) -> str:
    return f'"deal-{deal.pk}-v{deal.version}"'


CONFLICT = OpenApiResponse(description="The deal changed since the version given; nothing written.")
PRECONDITION = OpenApiResponse(description="If-Match names an older version; nothing written.")


class ConfigViewSet(viewsets.ModelViewSet):
    """Configuration: everyone signed in reads, admins write (through the services)."""

    permission_classes = [IsAdminRoleOrReadOnly]

    def perform_create(self, serializer):
        instance = serializer.Meta.model(**serializer.validated_data)
        serializer.instance = self.save(instance)

    def perform_update(self, serializer):
        instance = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        serializer.instance = self.save(instance)

    def save(self, instance):
        return services.config_save(by=self.request.user, instance=instance)

    def perform_destroy(self, instance):
        services.config_delete(by=self.request.user, instance=instance)


class PipelineViewSet(ConfigViewSet):
    """Pipelines with their stages; exactly one is the default."""

    serializer_class = PipelineSerializer
    filterset_class = PipelineFilterSet
    ordering_fields = ["order", "name"]
    ordering = ["order", "name"]
    pagination_class = None

    def get_queryset(self):
        return Pipeline.objects.prefetch_related("stages")

    def save(self, instance):
        return services.pipeline_save(by=self.request.user, pipeline=instance)


class StageViewSet(ConfigViewSet):
    """Stages with their entry criteria (required fields, checklist) and SLA days."""

    serializer_class = StageSerializer
    filterset_class = StageFilterSet
    ordering_fields = ["order"]
    ordering = ["pipeline", "order"]
    pagination_class = None
    queryset = Stage.objects.all()

    def save(self, instance):
        return services.stage_save(by=self.request.user, stage=instance)


class ProductCategoryViewSet(ConfigViewSet):
    serializer_class = ProductCategorySerializer
    filterset_class = ProductCategoryFilterSet
    ordering_fields = ["order", "name", "code"]
    ordering = ["order", "name"]
    queryset = ProductCategory.objects.all()


class CompetitorViewSet(ConfigViewSet):
    serializer_class = CompetitorSerializer
    filterset_class = CompetitorFilterSet
    ordering_fields = ["name"]
    ordering = ["name"]
    queryset = Competitor.objects.all()


class AssignmentRuleViewSet(ConfigViewSet):
    """Ordered assignment rules; admins only, also for reading."""

    permission_classes = [IsAdminRole]
    serializer_class = AssignmentRuleSerializer
    filterset_class = AssignmentRuleFilterSet
    ordering_fields = ["order"]
    ordering = ["order", "id"]
    queryset = AssignmentRule.objects.select_related("user", "team", "last_assignee")


@extend_schema_view(list=extend_schema(parameters=[INCLUDE_DELETED]))
class DealViewSet(viewsets.ModelViewSet):
    """Deals the caller may see. Creating one without `owner` lets the assignment rules
    choose (else the caller owns it). The detail's ETag names its version (see the module
    description for 409/412)."""

    filterset_class = DealFilterSet
    ordering_fields = ["name", "amount", "expected_close", "closed_at", "created_at", "updated_at"]
    ordering = ["-updated_at", "-id"]

    def get_queryset(self):
        if self.action == "list" and wants_deleted(self.request):
            return selectors.deal_list_with_deleted(viewer=self.request.user)
        return selectors.deal_list(viewer=self.request.user)

    def get_serializer_class(self):
        return DealListSerializer if self.action == "list" else DealSerializer

    def handle_exception(self, exc):
        if isinstance(exc, services.StaleVersionError):
            return Response(
                {"detail": str(exc), "version": exc.current_version},
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, PreconditionFailed):
            return Response(
                {"detail": _("The deal changed since you read it; reload it.")},
                status=status.HTTP_412_PRECONDITION_FAILED,
            )
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        deal = getattr(self, "_etag_deal", None)
        if deal is not None and response.status_code in (200, 201):
            response["ETag"] = etag_for(deal)
        return response

    def _expected_version(self, deal, body_version):
        """The version the caller read: from If-Match (a stale one fails here with 412) or
        from the body's `version`."""
        if_match = self.request.headers.get("If-Match")
        if if_match and if_match.strip() != "*":
            if etag_for(deal) not in [tag.strip() for tag in if_match.split(",")]:
                raise PreconditionFailed
            return deal.version
        return body_version

    def _detail(self, deal, status_code=status.HTTP_200_OK):
        deal = selectors.deal_get(viewer=self.request.user, pk=deal.pk)
        self._etag_deal = deal
        data = DealSerializer(deal, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @extend_schema(responses={201: DealSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        deal = services.deal_create(by=request.user, **data)
        return self._detail(deal, status.HTTP_201_CREATED)

    @extend_schema(responses={200: DealSerializer, 409: CONFLICT, 412: PRECONDITION})
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        deal = self.get_object()
        serializer = self.get_serializer(deal, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = self._expected_version(deal, data.pop("version", None))
        for fixed in ("account", "pipeline", "stage", "confirmed_checklist"):
            if fixed in data and data.pop(fixed) != getattr(deal, fixed):
                raise_field_error(fixed)
        services.deal_update(by=request.user, deal=deal, expected_version=expected, **data)
        return self._detail(deal)

    @extend_schema(responses={200: DealSerializer, 409: CONFLICT, 412: PRECONDITION})
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.deal_delete(by=self.request.user, deal=instance)

    @extend_schema(
        request=DealMoveSerializer,
        responses={200: DealSerializer, 409: CONFLICT, 412: PRECONDITION},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Moves the deal to `stage`. Missing entry criteria answer 400 listing every missing
        field and checklist item; give them in the same call (fields by name, confirmed
        items in `checklist`). The won stage needs `closed_at`, the lost stage
        `lost_reason`; a closed deal must be reopened first."""
        deal = self.get_object()
        serializer = DealMoveSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = self._expected_version(deal, data.pop("version", None))
        values = {name: data.pop(name) for name in services.MOVE_VALUE_FIELDS if name in data}
        services.deal_move(
            by=request.user, deal=deal, expected_version=expected, values=values, **data
        )
        return self._detail(deal)

    @extend_schema(
        request=DealReopenSerializer,
        responses={200: DealSerializer, 409: CONFLICT, 412: PRECONDITION},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopens a won or lost deal, by default in the stage it was closed from."""
        deal = self.get_object()
        serializer = DealReopenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = self._expected_version(deal, data.pop("version", None))
        services.deal_reopen(
            by=request.user, deal=deal, stage=data.get("stage"), expected_version=expected
        )
        return self._detail(deal)

    @extend_schema(responses=StageChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The deal's stage changes, oldest first, with the days spent in each stage left."""
        rows = selectors.deal_history(deal=self.get_object())
        return Response(StageChangeSerializer(rows, many=True).data)


def raise_field_error(name: str):
    messages = {
        "account": _("A deal cannot move to another account."),
        "pipeline": _("A deal cannot move to another pipeline."),
        "stage": _("Change the stage with /move/."),
        "confirmed_checklist": _("Confirm checklist items with /move/."),
    }
    raise DRFValidationError({name: [messages[name]]})


def _scope(request, query):
    return selectors.resolve_scope(
        viewer=request.user,
        kind=query["scope"],
        user_id=query.get("user"),
        team_id=query.get("team"),
    )


class FunnelReportView(APIView):
    """The funnel of a pipeline for a date range and a scope. Definitions: see each field.
    A rep or team the caller may not look at answers 404; the figures only ever count deals
    the caller can see."""

    @extend_schema(parameters=[FunnelQuerySerializer], responses=FunnelSerializer)
    def get(self, request):
        query = FunnelQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        today = timezone.localdate()
        result = selectors.funnel(
            viewer=request.user,
            pipeline=data.get("pipeline") or selectors.default_pipeline(),
            start=data.get("start") or today.replace(day=1),
            end=data.get("end") or today,
            scope=_scope(request, data),
        )
        return Response(FunnelSerializer(result).data)


class ForecastReportView(APIView):
    """The forecast for the month or quarter holding `on`, for a scope; after the period,
    `accuracy` compares the snapshot of its first day with what was won. `target` stays
    empty until targets exist."""

    @extend_schema(parameters=[ForecastQuerySerializer], responses=ForecastSerializer)
    def get(self, request):
        query = ForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        scope = _scope(request, data)
        arguments = {"viewer": request.user, "scope": scope, "period": data["period"]}
        if data.get("on"):
            arguments["on"] = data["on"]
        result = selectors.forecast(**arguments)
        result["accuracy"] = selectors.forecast_accuracy(**arguments)
        return Response(ForecastSerializer(result).data)
