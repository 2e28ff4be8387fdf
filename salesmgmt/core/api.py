"""Base classes shared by every app's REST API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, with a form of only the filters that the request sets. A
    list has up to twenty filters and a request sets one or two: building and validating a
    form field for each of the others cost more than the filtering, and a filter without a
    value filters nothing. Every filter reads the one parameter of its name (a test holds
    them to it). Browser pages keep the whole form, since they show it."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            filterset.filters = {
                name: filter_
                for name, filter_ in filterset.filters.items()
                if name in request.query_params
            }
        return filterset


class StandardPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class PageOfKeysPagination(StandardPagination):
    """Pages over the primary keys only, with the list's filters and ordering (an
    index-only scan where an index covers them), and returns the page's keys in order; the
    view then loads those rows by key, so a deep page never reads or sorts whole rows.
    (A window count in the same statement would save the count's round trip, but
    PostgreSQL then walks the ordering index through every row for the first page.)"""

    def paginate_queryset(self, queryset, request, view=None):
        return super().paginate_queryset(queryset.values_list("pk", flat=True), request, view)


def exception_handler(exc, context):
    """DRF's handler; services' Django ValidationErrors become 400s with field messages."""
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
