"""FilterSets shared by the pipeline pages and the API (DESIGN.md §11.4).

Accounts are filtered by id with a number filter rather than a model choice: a choice filter
would answer "invalid choice" for a missing id and "no rows" for an invisible one, which
would let ids be probed.
"""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from customers.text import search_terms
from pipeline.models import (
    AssignmentRule,
    Competitor,
    Deal,
    ForecastCategory,
    Pipeline,
    ProductCategory,
    Stage,
)
from teams.filtersets import OwnerFilterMixin, UpdatedAfterFilterMixin


class DealFilterSet(OwnerFilterMixin, UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account"))
    pipeline = django_filters.ModelChoiceFilter(
        queryset=Pipeline.objects.all(), label=_("Pipeline")
    )
    stage = django_filters.ModelMultipleChoiceFilter(queryset=Stage.objects.all(), label=_("Stage"))
    status = django_filters.MultipleChoiceFilter(choices=Deal.Status.choices, label=_("Status"))
    forecast_category = django_filters.MultipleChoiceFilter(
        choices=ForecastCategory.choices, label=_("Forecast category")
    )
    min_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    max_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount up to")
    )
    expected_close_after = django_filters.DateFilter(
        field_name="expected_close", lookup_expr="gte", label=_("Expected close from")
    )
    expected_close_before = django_filters.DateFilter(
        field_name="expected_close", lookup_expr="lte", label=_("Expected close until")
    )
    product_category = django_filters.ModelMultipleChoiceFilter(
        queryset=ProductCategory.objects.all(), label=_("Product category")
    )
    competitor = django_filters.ModelChoiceFilter(
        queryset=Competitor.objects.all(), method="filter_competitor", label=_("Competitor")
    )
    source = django_filters.MultipleChoiceFilter(choices=Deal.Source.choices, label=_("Source"))
    over_sla = django_filters.BooleanFilter(method="filter_over_sla", label=_("Over SLA"))
    external_id = django_filters.CharFilter(label=_("External id"))

    class Meta:
        model = Deal
        fields = [
            "q",
            "owner",
            "team",
            "account",
            "pipeline",
            "stage",
            "status",
            "forecast_category",
            "min_amount",
            "max_amount",
            "expected_close_after",
            "expected_close_before",
            "product_category",
            "competitor",
            "source",
            "over_sla",
            "external_id",
            "updated_after",
        ]

    def filter_search(self, queryset, name, value):
        """Deal name, or the account's name, pinyin, initials, phone or email."""
        from customers.models import Account

        value = value.strip()
        if not value:
            return queryset
        condition = Q(name__icontains=value)
        terms = search_terms(value)
        if terms:
            account_q = Q(pk__in=[])
            for term in sorted(terms):
                account_q |= Q(search_text__contains=term)
            condition |= Q(account__in=Account.objects.filter(account_q).values("pk"))
        return queryset.filter(condition)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_owner_team(self, queryset, name, value):
        return super().filter_owner_team(queryset, name, value)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_competitor(self, queryset, name, value):
        # A subquery keeps rows unique without DISTINCT.
        if not value:
            return queryset
        through = Deal.competitors.through.objects.filter(competitor=value)
        return queryset.filter(pk__in=through.values("deal_id"))

    def filter_over_sla(self, queryset, name, value):
        if value is None:
            return queryset
        over = Q(status=Deal.Status.OPEN, stage_due_at__lte=timezone.now())
        return queryset.filter(over) if value else queryset.exclude(over)


class PipelineFilterSet(django_filters.FilterSet):
    class Meta:
        model = Pipeline
        fields = ["active", "is_default"]


class StageFilterSet(django_filters.FilterSet):
    class Meta:
        model = Stage
        fields = ["pipeline", "is_won", "is_lost", "forecast_category"]


class ProductCategoryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = ProductCategory
        fields = ["q", "active", "code"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(name_zh__icontains=value))


class CompetitorFilterSet(ProductCategoryFilterSet):
    class Meta:
        model = Competitor
        fields = ["q", "active"]


class AssignmentRuleFilterSet(django_filters.FilterSet):
    class Meta:
        model = AssignmentRule
        fields = ["active", "action", "team", "user"]
