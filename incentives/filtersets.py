"""FilterSets shared by the incentives pages and the API (DESIGN.md §11.4)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from incentives.models import (
    BonusKind,
    BonusRule,
    CommissionPlan,
    CommissionRule,
    Dispute,
    Statement,
)
from teams.filtersets import UpdatedAfterFilterMixin
from teams.models import Team, User


class CommissionPlanFilterSet(UpdatedAfterFilterMixin):
    on = django_filters.DateFilter(method="filter_on", label=_("In effect on"))

    class Meta:
        model = CommissionPlan
        fields = ["on", "period"]

    def filter_on(self, queryset, name, value):
        return queryset.filter(effective_from__lte=value).exclude(effective_to__lt=value)


class CommissionRuleFilterSet(UpdatedAfterFilterMixin):
    class Meta:
        model = CommissionRule
        fields = ["plan", "basis", "product_category"]


class BonusRuleFilterSet(UpdatedAfterFilterMixin):
    kind = django_filters.MultipleChoiceFilter(choices=BonusKind.choices, label=_("Kind"))

    class Meta:
        model = BonusRule
        fields = ["plan", "kind"]


class StatementFilterSet(UpdatedAfterFilterMixin):
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Person"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(),
        field_name="user__team",
        method="filter_team",
        label=_("Team (and the teams below it)"),
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Statement.Status.choices, label=_("Status")
    )
    starts_after = django_filters.DateFilter(
        field_name="start", lookup_expr="gte", label=_("Starts on or after")
    )
    ends_before = django_filters.DateFilter(
        field_name="end", lookup_expr="lte", label=_("Ends on or before")
    )

    class Meta:
        model = Statement
        fields = ["user", "team", "status", "starts_after", "ends_before"]

    def filter_team(self, queryset, name, value):
        return queryset.filter(user__team__path__startswith=value.path)


class DisputeFilterSet(UpdatedAfterFilterMixin):
    status = django_filters.MultipleChoiceFilter(choices=Dispute.Status.choices, label=_("Status"))
    statement = django_filters.NumberFilter(field_name="line__statement_id", label=_("Statement"))

    class Meta:
        model = Dispute
        fields = ["status", "statement"]
