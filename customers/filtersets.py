"""FilterSets shared by the customer pages and the API (DESIGN.md §11.4).

Related accounts and contacts are filtered by id with number filters rather than model
choices: a choice filter would answer "invalid choice" for a missing id and "no rows" for
an invisible one, which would let ids be probed.

Choice filters match one column of the row itself (or a subquery, for tags), so none of them
can repeat a row: they are built with distinct=False, because django-filter's default
SELECT DISTINCT over every column of the table, before paging, is what makes a filtered list
slow on a large table.
"""

from datetime import timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from customers.models import Account, Contact, FollowUp, Industry, Interaction, Region, Tag
from teams.filtersets import OwnerFilterMixin, UpdatedAfterFilterMixin
from teams.models import Team, User


class AccountFilterSet(OwnerFilterMixin, UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    industry = django_filters.ModelMultipleChoiceFilter(
        distinct=False, queryset=Industry.objects.all(), label=_("Industry")
    )
    region = django_filters.ModelMultipleChoiceFilter(
        distinct=False, queryset=Region.objects.all(), label=_("Region")
    )
    size_band = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Account.SizeBand.choices, label=_("Size")
    )
    min_size = django_filters.NumberFilter(
        field_name="size_band", lookup_expr="gte", label=_("At least employees")
    )
    status = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Account.Status.choices, label=_("Status")
    )
    tier = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Account.Tier.choices, label=_("Tier")
    )
    source = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Account.Source.choices, label=_("Source")
    )
    tags = django_filters.ModelMultipleChoiceFilter(
        distinct=False, queryset=Tag.objects.all(), method="filter_tags", label=_("Tags")
    )
    last_contacted_after = django_filters.IsoDateTimeFilter(
        field_name="last_contacted_at", lookup_expr="gte", label=_("Last contacted after")
    )
    last_contacted_before = django_filters.IsoDateTimeFilter(
        field_name="last_contacted_at", lookup_expr="lt", label=_("Last contacted before")
    )
    no_contact_days = django_filters.NumberFilter(
        method="filter_no_contact_days", min_value=1, label=_("No contact in N days")
    )
    in_pool = django_filters.BooleanFilter(method="filter_in_pool", label=_("In the public pool"))
    external_id = django_filters.CharFilter(label=_("External id"))

    class Meta:
        model = Account
        fields = [
            "q",
            "owner",
            "team",
            "industry",
            "region",
            "size_band",
            "min_size",
            "status",
            "tier",
            "source",
            "tags",
            "last_contacted_after",
            "last_contacted_before",
            "no_contact_days",
            "in_pool",
            "external_id",
            "updated_after",
        ]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_owner_team(self, queryset, name, value):
        # Pool accounts have no owner; they belong to the team whose pool holds them.
        if not value:
            return queryset
        return queryset.filter(
            Q(owner__team__path__startswith=value.path)
            | Q(owner__isnull=True, pool_team__path__startswith=value.path)
        )

    def filter_tags(self, queryset, name, value):
        # Any of the chosen tags; a subquery keeps rows unique without DISTINCT.
        if not value:
            return queryset
        through = Account.tags.through.objects.filter(tag__in=value)
        return queryset.filter(pk__in=through.values("account_id"))

    def filter_no_contact_days(self, queryset, name, value):
        if value is None:
            return queryset
        cutoff = timezone.now() - timedelta(days=int(value))
        return queryset.filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=cutoff))

    def filter_in_pool(self, queryset, name, value):
        if value is None:
            return queryset
        pool = Q(owner__isnull=True, pool_team__isnull=False)
        return queryset.filter(pool) if value else queryset.exclude(pool)


class ContactFilterSet(UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account"))
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), field_name="account__owner", label=_("Account owner")
    )
    decision_role = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Contact.DecisionRole.choices, label=_("Decision role")
    )
    preferred_channel = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Contact.Channel.choices, label=_("Preferred channel")
    )
    is_primary = django_filters.BooleanFilter(label=_("Primary contact"))
    external_id = django_filters.CharFilter(label=_("External id"))

    class Meta:
        model = Contact
        fields = [
            "q",
            "account",
            "owner",
            "decision_role",
            "preferred_channel",
            "is_primary",
            "external_id",
            "updated_after",
        ]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class InteractionFilterSet(UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(field_name="subject", lookup_expr="icontains", label=_("Search"))
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account"))
    contact = django_filters.NumberFilter(field_name="contact_id", label=_("Contact"))
    kind = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Interaction.Kind.choices, label=_("Kind")
    )
    outcome = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Interaction.Outcome.choices, label=_("Outcome")
    )
    logged_by = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Logged by"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), method="filter_team", label=_("Team")
    )
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Occurred after")
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Occurred before")
    )
    external_id = django_filters.CharFilter(label=_("External id"))

    class Meta:
        model = Interaction
        fields = [
            "q",
            "account",
            "contact",
            "kind",
            "outcome",
            "logged_by",
            "team",
            "occurred_after",
            "occurred_before",
            "external_id",
            "updated_after",
        ]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_team(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(logged_by__team__path__startswith=value.path)


class FollowUpFilterSet(UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Search"))
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account"))
    assignee = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Assignee"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), method="filter_team", label=_("Team")
    )
    status = django_filters.MultipleChoiceFilter(
        distinct=False, choices=FollowUp.Status.choices, label=_("Status")
    )
    priority = django_filters.MultipleChoiceFilter(
        distinct=False, choices=FollowUp.Priority.choices, label=_("Priority")
    )
    due_after = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label=_("Due after")
    )
    due_before = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="lt", label=_("Due before")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = FollowUp
        fields = [
            "q",
            "account",
            "assignee",
            "team",
            "status",
            "priority",
            "due_after",
            "due_before",
            "overdue",
            "updated_after",
        ]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_team(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(assignee__team__path__startswith=value.path)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(status=FollowUp.Status.OPEN, due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
