"""Base classes shared by every app's REST API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Window
from rest_framework import pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler


class StandardPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class PageOfKeysPagination(StandardPagination):
    """Pages over the primary keys only, with the list's filters and ordering (an
    index-only scan where an index covers them), and returns the page's keys in order; the
    view then loads those rows by key, so a deep page never reads or sorts whole rows. The
    page's keys and the total come from one statement (a window count), so the filters and
    the visibility rule are planned and run once."""

    def paginate_queryset(self, queryset, request, view=None):
        keys = queryset.values_list("pk", flat=True)
        page_size = self.get_page_size(request)
        number = request.query_params.get(self.page_query_param, "1")
        # A DISTINCT list would count its rows before removing duplicates; "last" and bad
        # numbers need the count first. Those take the count, then the page.
        if not page_size or queryset.query.distinct or not number.isdigit() or number == "0":
            return super().paginate_queryset(keys, request, view)
        number = int(number)
        start = (number - 1) * page_size
        rows = list(
            queryset.annotate(page_total=Window(Count("pk"))).values_list("pk", "page_total")[
                start : start + page_size
            ]
        )
        if not rows and number > 1:
            return super().paginate_queryset(keys, request, view)
        self.request = request
        paginator = self.django_paginator_class(keys, page_size)
        paginator.count = rows[0][1] if rows else 0
        self.page = paginator.page(number)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return [pk for pk, _total in rows]


def exception_handler(exc, context):
    """DRF's handler; services' Django ValidationErrors become 400s with field messages."""
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
