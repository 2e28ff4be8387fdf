"""REST endpoints of the customers app. Every queryset comes from customers.selectors (so the
visibility rule applies) and every write goes through customers.services."""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import selectors, services
from customers.api.serializers import (
    AccountBriefSerializer,
    AccountDuplicateQuerySerializer,
    AccountListSerializer,
    AccountReassignSerializer,
    AccountSerializer,
    BulkReassignSerializer,
    BulkTagSerializer,
    ContactBriefSerializer,
    ContactSerializer,
    CountSerializer,
    FollowUpSerializer,
    IndustrySerializer,
    InteractionSerializer,
    MergeResultSerializer,
    MergeSerializer,
    RegionSerializer,
    ReleaseSerializer,
    ScoreSerializer,
    SearchQuerySerializer,
    SnoozeSerializer,
    TagSerializer,
    TimelineEntrySerializer,
)
from customers.filtersets import (
    AccountFilterSet,
    ContactFilterSet,
    FollowUpFilterSet,
    InteractionFilterSet,
)
from customers.models import Account, Contact, Industry, Interaction, Region, Tag
from salesmgmt.core.api import PageOfKeysPagination
from salesmgmt.core.permissions import IsAdminRoleOrReadOnly

INCLUDE_DELETED = OpenApiParameter(
    "include_deleted",
    OpenApiTypes.BOOL,
    description=(
        "With 1, soft-deleted rows are listed too, as tombstones "
        '{"id", "deleted": true, "deleted_at", "updated_at"}. Use together with '
        "updated_after to pull changes and deletions since the last sync."
    ),
)


class ExportRenderer(renderers.BaseRenderer):
    """Lets `?format=csv|xlsx` choose the export's file type; the export view writes the
    file itself."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CSVExportRenderer(ExportRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXExportRenderer(ExportRenderer):
    media_type = services.EXPORT_CONTENT_TYPES["xlsx"]
    format = "xlsx"


def _wants_deleted(request) -> bool:
    return request.query_params.get("include_deleted", "").lower() in {"1", "true", "yes"}


class TombstoneListMixin:
    """Lists include tombstones with ?include_deleted=1; `all_rows_queryset()` returns the
    visible rows including soft-deleted ones."""

    def get_queryset(self):
        if self.action == "list" and _wants_deleted(self.request):
            return self.all_rows_queryset()
        return self.live_queryset()


class AccountRowsListMixin:
    """An account list: a page of the visible accounts' keys, then their rows read as plain
    values (customers.selectors.account_rows)."""

    pagination_class = PageOfKeysPagination

    def list(self, request, *args, **kwargs):
        keys = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = selectors.account_rows(viewer=request.user, keys=keys)
        return self.get_paginated_response(AccountListSerializer(rows, many=True).data)


@extend_schema_view(list=extend_schema(parameters=[INCLUDE_DELETED]))
class AccountViewSet(AccountRowsListMixin, TombstoneListMixin, viewsets.ModelViewSet):
    """Customer accounts the caller may see. Creating one that looks like an existing
    visible account answers 400 with the `duplicates`, unless `allow_duplicate` is true."""

    filterset_class = AccountFilterSet
    ordering_fields = [
        "name",
        "status",
        "tier",
        "lead_score",
        "last_contacted_at",
        "created_at",
        "updated_at",
    ]
    ordering = ["-updated_at", "-id"]

    def live_queryset(self):
        return selectors.account_list(viewer=self.request.user)

    def all_rows_queryset(self):
        return Account.all_objects.visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action in ("list", "duplicates"):
            return AccountListSerializer
        return AccountSerializer

    def create(self, request, *args, **kwargs):
        try:
            return super().create(request, *args, **kwargs)
        except services.DuplicateAccountError as error:
            body = {
                **error.message_dict,
                "duplicates": AccountBriefSerializer(error.matches, many=True).data,
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        if "owner" not in data:
            data["owner"] = self.request.user
        serializer.instance = services.account_create(by=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("allow_duplicate", None)
        services.account_update(by=self.request.user, account=serializer.instance, **data)
        serializer.instance = selectors.account_get(
            viewer=self.request.user, pk=serializer.instance.pk
        )

    def perform_destroy(self, instance):
        services.account_delete(by=self.request.user, account=instance)

    def _detail(self, account, status_code=status.HTTP_200_OK):
        account = selectors.account_get(viewer=self.request.user, pk=account.pk)
        return Response(
            AccountSerializer(account, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], default="csv")
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXExportRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[CSVExportRenderer, XLSXExportRenderer],
        pagination_class=None,
    )
    def export(self, request):
        """The visible accounts matching the list filters and ordering, as a CSV or XLSX
        file; cells that a spreadsheet would run as formulas start with a single quote."""
        accounts = self.filter_queryset(self.get_queryset())
        file_format = request.accepted_renderer.format
        if file_format == "csv":
            response = StreamingHttpResponse(
                services.export_csv_lines(accounts),
                content_type=services.EXPORT_CONTENT_TYPES["csv"],
            )
        else:
            response = HttpResponse(
                services.export_xlsx(accounts), content_type=services.EXPORT_CONTENT_TYPES["xlsx"]
            )
        filename = services.export_filename(file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(request=ReleaseSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Returns the account to its team's public pool. The answer is only
        {"id", "released"}: the caller may no longer see the account afterwards."""
        account = self.get_object()
        serializer = ReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.account_release(by=request.user, account=account, **serializer.validated_data)
        return Response({"id": account.pk, "released": True})

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Claims a pool account (within the claim cap and outside the cooling-off period)."""
        account = self.get_object()
        services.account_claim(by=request.user, account=account)
        return self._detail(account)

    @extend_schema(parameters=[SearchQuerySerializer], responses=AccountBriefSerializer(many=True))
    @action(detail=False, methods=["get"])
    def search(self, request):
        """Search-as-you-type for pickers: the best visible matches, without paging or a
        count."""
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.account_search(
            viewer=request.user,
            query=query.validated_data["q"],
            limit=query.validated_data["limit"],
        )
        return Response(AccountBriefSerializer(rows, many=True).data)

    @extend_schema(parameters=[AccountDuplicateQuerySerializer], responses=AccountListSerializer)
    @action(detail=False, methods=["get"])
    def duplicates(self, request):
        """Visible accounts that look like the company described by the query parameters
        (same normalized name, phone or company email domain)."""
        query = AccountDuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        matches = selectors.duplicates_for(viewer=request.user, **query.validated_data)[:20]
        keys = list(matches.values_list("pk", flat=True))
        rows = selectors.account_rows(viewer=request.user, keys=keys)
        return Response(AccountListSerializer(rows, many=True).data)

    @extend_schema(responses=ScoreSerializer)
    @action(detail=True, methods=["get"])
    def score(self, request, pk=None):
        """The lead score explained rule by rule."""
        return Response(ScoreSerializer(selectors.score_explain(account=self.get_object())).data)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """Interactions, follow-ups and events of the account, newest first."""
        if not str(pk).isdigit():
            raise Http404
        # The selector checks that the account is visible; nothing else of it is shown.
        entries = selectors.account_timeline(viewer=request.user, account_id=int(pk))
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(request=AccountReassignSerializer, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Gives the account and its open follow-ups to someone the caller manages."""
        account = self.get_object()
        serializer = AccountReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.account_reassign(by=request.user, account=account, **serializer.validated_data)
        return self._detail(account)

    @extend_schema(request=BulkReassignSerializer, responses=CountSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-reassign")
    def bulk_reassign(self, request):
        serializer = BulkReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.accounts_reassign(
            by=request.user,
            account_ids=self._visible_ids(serializer.validated_data["accounts"]),
            to_user=serializer.validated_data["to_user"],
        )
        return Response({"changed": changed})

    @extend_schema(request=BulkTagSerializer, responses=CountSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-tag")
    def bulk_tag(self, request):
        serializer = BulkTagSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.accounts_bulk_tag(
            by=request.user,
            account_ids=self._visible_ids(serializer.validated_data["accounts"]),
            tags=serializer.validated_data["tags"],
            remove=serializer.validated_data["remove"],
        )
        return Response({"changed": changed})

    @extend_schema(request=MergeSerializer, responses=MergeResultSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Folds another account into this one (managers and admins)."""
        survivor = self.get_object()
        serializer = MergeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        record = services.accounts_merge(
            by=request.user, survivor=survivor, merged=serializer.validated_data["merged"]
        )
        return Response(MergeResultSerializer(record).data)

    def _visible_ids(self, ids: list[int]) -> list[int]:
        """Unknown and invisible ids read as "not found", the same for both."""
        ids = set(ids)
        found = set(self.live_queryset().filter(pk__in=ids).values_list("pk", flat=True))
        if found != ids:
            raise serializers.ValidationError(
                {
                    "accounts": [
                        _("Unknown account ids: %(ids)s")
                        % {"ids": ", ".join(str(pk) for pk in sorted(ids - found))}
                    ]
                }
            )
        return sorted(ids)


class PoolViewSet(AccountRowsListMixin, viewsets.GenericViewSet):
    """Accounts in the public pools the caller may see and claim
    (claim with POST /accounts/{id}/claim/)."""

    serializer_class = AccountListSerializer
    filterset_class = AccountFilterSet
    ordering_fields = ["name", "released_at", "lead_score", "last_contacted_at"]
    ordering = ["-released_at", "-id"]

    def get_queryset(self):
        return selectors.pool_list(viewer=self.request.user)


@extend_schema_view(list=extend_schema(parameters=[INCLUDE_DELETED]))
class ContactViewSet(TombstoneListMixin, viewsets.ModelViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-updated_at", "-id"]

    def live_queryset(self):
        return selectors.contact_list(viewer=self.request.user)

    def all_rows_queryset(self):
        return Contact.all_objects.visible_to(
            self.request.user, with_deleted_accounts=True
        ).select_related("account")

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(
            by=self.request.user, contact=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.contact_delete(by=self.request.user, contact=instance)

    @extend_schema(parameters=[SearchQuerySerializer], responses=ContactBriefSerializer(many=True))
    @action(detail=False, methods=["get"])
    def search(self, request):
        """Search-as-you-type for pickers over the visible contacts."""
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.contact_search(
            viewer=request.user,
            query=query.validated_data["q"],
            limit=query.validated_data["limit"],
        )
        return Response(ContactBriefSerializer(rows, many=True).data)


@extend_schema_view(list=extend_schema(parameters=[INCLUDE_DELETED]))
class InteractionViewSet(TombstoneListMixin, viewsets.ModelViewSet):
    """Calls, emails, meetings and visits. Logging one with `next_step` and `next_step_due`
    also creates a follow-up for the caller."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet
    ordering_fields = ["occurred_at", "created_at", "updated_at"]
    ordering = ["-occurred_at", "-id"]

    def live_queryset(self):
        return selectors.interaction_list(viewer=self.request.user)

    def all_rows_queryset(self):
        return Interaction.all_objects.visible_to(
            self.request.user, with_deleted_accounts=True
        ).select_related("account", "contact", "logged_by")

    def perform_create(self, serializer):
        serializer.instance = services.interaction_log(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("account", serializer.instance.account) != serializer.instance.account:
            raise serializers.ValidationError(
                {"account": [_("An interaction cannot move to another account.")]}
            )
        serializer.instance = services.interaction_update(
            by=self.request.user, interaction=serializer.instance, **data
        )

    def perform_destroy(self, instance):
        services.interaction_delete(by=self.request.user, interaction=instance)


class FollowUpViewSet(viewsets.ModelViewSet):
    """Follow-ups visible through their account or assignee; DELETE cancels one."""

    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilterSet
    ordering_fields = ["due_at", "priority", "created_at", "updated_at"]
    ordering = ["due_at", "id"]

    def get_queryset(self):
        return selectors.followup_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.followup_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("account", serializer.instance.account) != serializer.instance.account:
            raise serializers.ValidationError(
                {"account": [_("A follow-up cannot move to another account.")]}
            )
        serializer.instance = services.followup_update(
            by=self.request.user, followup=serializer.instance, **data
        )

    def perform_destroy(self, instance):
        services.followup_cancel(by=self.request.user, followup=instance)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        followup = services.followup_complete(by=request.user, followup=self.get_object())
        return Response(FollowUpSerializer(followup, context=self.get_serializer_context()).data)

    @extend_schema(request=SnoozeSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Moves the due time to `until`, or by `days` (default one day)."""
        serializer = SnoozeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        followup = services.followup_snooze(
            by=request.user, followup=self.get_object(), **serializer.validated_data
        )
        return Response(FollowUpSerializer(followup, context=self.get_serializer_context()).data)


class TagViewSet(viewsets.ModelViewSet):
    """Tags: anyone may add one; renaming and deleting are for admins."""

    serializer_class = TagSerializer
    queryset = Tag.objects.all()
    filterset_fields = {"name": ["exact", "icontains"]}
    ordering_fields = ["name"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.tag_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.tag_update(
            by=self.request.user, tag=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.tag_delete(by=self.request.user, tag=instance)


class LookupViewSet(viewsets.ModelViewSet):
    """Admin-managed lookups: everyone reads, admins write; one in use is switched off
    rather than deleted."""

    permission_classes = [IsAdminRoleOrReadOnly]
    filterset_fields = ["active", "code"]
    ordering_fields = ["order", "name", "code"]
    ordering = ["order", "name"]
    pagination_class = None

    def perform_create(self, serializer):
        serializer.instance = services.lookup_save(
            by=self.request.user, instance=serializer.Meta.model(**serializer.validated_data)
        )

    def perform_update(self, serializer):
        instance = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        serializer.instance = services.lookup_save(by=self.request.user, instance=instance)

    def perform_destroy(self, instance):
        services.lookup_delete(by=self.request.user, instance=instance)


class IndustryViewSet(LookupViewSet):
    serializer_class = IndustrySerializer
    queryset = Industry.objects.all()


class RegionViewSet(LookupViewSet):
    serializer_class = RegionSerializer
    queryset = Region.objects.all()
