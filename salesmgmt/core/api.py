"""Base classes shared by every app's REST API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler


class StandardPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class PageFirstPagination(StandardPagination):
    """Pages over the primary keys first, with the list's filters and ordering (an
    index-only scan where an index covers them), then loads only the rows of the page with
    their related objects: a deep page no longer reads and sorts every matching row."""

    def paginate_queryset(self, queryset, request, view=None):
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True), request, view)
        if ids is None:
            return None
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]


def exception_handler(exc, context):
    """DRF's handler; services' Django ValidationErrors become 400s with field messages."""
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
