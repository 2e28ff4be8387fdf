from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from salesmgmt.core.permissions import IsAdminRoleOrReadOnly
from teams import selectors, services
from teams.api.serializers import (
    LadderLevelSerializer,
    NotificationSerializer,
    ProfileSerializer,
    TeamSerializer,
    UserSerializer,
)
from teams.filtersets import TeamFilterSet, UserFilterSet
from teams.models import LadderLevel, User


class TokenView(ObtainAuthToken):
    """Exchanges a username and password for an API token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"


class UserViewSet(viewsets.ModelViewSet):
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    permission_classes = [IsAdminRoleOrReadOnly]
    ordering_fields = ["username", "last_name", "hire_date", "updated_at"]
    ordering = ["username"]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def get_queryset(self):
        return User.objects.visible_to(self.request.user).select_related("team", "ladder_level")

    def perform_create(self, serializer):
        serializer.instance = services.user_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            by=self.request.user, user=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.user_deactivate(by=self.request.user, user=instance)

    @extend_schema(request=ProfileSerializer, responses=ProfileSerializer)
    @action(
        detail=False,
        methods=["get", "patch"],
        permission_classes=[IsAuthenticated],
        serializer_class=ProfileSerializer,
    )
    def me(self, request):
        """The caller's own profile; only name, email, phone and language can be changed."""
        if request.method == "GET":
            return Response(ProfileSerializer(request.user).data)
        serializer = ProfileSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, **serializer.validated_data)
        return Response(ProfileSerializer(user).data)

    class ReassignSerializer(serializers.Serializer):
        to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())

    @extend_schema(request=ReassignSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Moves everything this user owns to another user, in one transaction."""
        from_user = self.get_object()
        serializer = self.ReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = services.user_reassign_ownership(
            by=request.user, from_user=from_user, to_user=serializer.validated_data["to_user"]
        )
        return Response({"id": transfer.pk, "counts": transfer.counts})


class TeamViewSet(viewsets.ModelViewSet):
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    permission_classes = [IsAdminRoleOrReadOnly]
    ordering_fields = ["name", "path", "updated_at"]
    ordering = ["path"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self):
        return selectors.team_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.team_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        team = serializer.instance
        if "parent" in data or "name" in data or "region" in data:
            team = services.team_update(
                by=self.request.user,
                team=team,
                name=data.get("name"),
                region=data.get("region"),
                parent=data.get("parent", services.UNSET),
            )
        if "manager" in data:
            team = services.team_set_manager(
                by=self.request.user, team=team, manager=data["manager"]
            )
        serializer.instance = selectors.team_get(viewer=self.request.user, pk=team.pk)


class LadderLevelViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LadderLevelSerializer
    queryset = LadderLevel.objects.all()
    pagination_class = None


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NotificationSerializer
    filterset_fields = []

    def get_queryset(self):
        return selectors.notification_list(
            user=self.request.user, unread_only=self.request.query_params.get("unread") == "1"
        )

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        services.notification_mark_read(user=request.user, notification_id=notification.pk)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        count = services.notification_mark_all_read(user=request.user)
        return Response({"marked": count}, status=status.HTTP_200_OK)
