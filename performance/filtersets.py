"""FilterSets shared by the performance pages and the API (DESIGN.md §11.4)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from performance.models import Expense, Metric, PeriodType, Review, Target
from teams.filtersets import UpdatedAfterFilterMixin
from teams.models import Team, User


class TargetFilterSet(UpdatedAfterFilterMixin):
    scope = django_filters.ChoiceFilter(
        choices=[("user", _("Person")), ("team", _("Team"))],
        method="filter_scope",
        label=_("Scope"),
    )
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Person"))
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Team"))
    metric = django_filters.MultipleChoiceFilter(choices=Metric.choices, label=_("Metric"))
    period_type = django_filters.MultipleChoiceFilter(
        choices=PeriodType.choices, label=_("Period type")
    )
    starts_after = django_filters.DateFilter(
        field_name="start", lookup_expr="gte", label=_("Starts on or after")
    )
    ends_before = django_filters.DateFilter(
        field_name="end", lookup_expr="lte", label=_("Ends on or before")
    )
    on = django_filters.DateFilter(method="filter_on", label=_("Covers the date"))
    parent = django_filters.NumberFilter(field_name="parent_id", label=_("Parent target"))
    hand_edited = django_filters.BooleanFilter(label=_("Edited by hand"))

    class Meta:
        model = Target
        fields = [
            "scope",
            "user",
            "team",
            "metric",
            "period_type",
            "starts_after",
            "ends_before",
            "on",
            "parent",
            "hand_edited",
            "updated_after",
        ]

    def filter_scope(self, queryset, name, value):
        if value == "user":
            return queryset.filter(user__isnull=False)
        if value == "team":
            return queryset.filter(team__isnull=False)
        return queryset

    def filter_on(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(start__lte=value, end__gte=value)


# Reviews, 360 feedback and improvement plans


class ReviewFilterSet(UpdatedAfterFilterMixin):
    cycle = django_filters.NumberFilter(field_name="cycle_id", label=_("Review cycle"))
    status = django_filters.MultipleChoiceFilter(choices=Review.Status.choices, label=_("Status"))
    reviewee = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Reviewee"))
    reviewer = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Reviewer"))

    class Meta:
        model = Review
        fields = ["cycle", "status", "reviewee", "reviewer", "updated_after"]


# Expenses


class ExpenseFilterSet(UpdatedAfterFilterMixin):
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Spent by"))
    status = django_filters.MultipleChoiceFilter(choices=Expense.Status.choices, label=_("Status"))
    category = django_filters.MultipleChoiceFilter(
        choices=Expense.Category.choices, label=_("Category")
    )
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"))

    class Meta:
        model = Expense
        fields = ["user", "status", "category", "date_after", "date_before", "updated_after"]
