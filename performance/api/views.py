"""REST endpoints of the performance app. Reads come from performance.selectors (so the
visibility rule applies) and every write goes through performance.services."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from performance import selectors, services
from performance.api.serializers import (
    TARGET_FIXED_FIELDS,
    AttainmentQuerySerializer,
    AttainmentSerializer,
    CopySerializer,
    DecomposeSerializer,
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    TargetSerializer,
    TargetUpdateResultSerializer,
)
from performance.filtersets import TargetFilterSet
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
