"""FilterSets shared by the browser lists and the API, and the mixins other apps reuse."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from teams.models import LadderLevel, Role, Team, User


class VisibleChoicesFilterSet(django_filters.FilterSet):
    """Offers only the users and teams the requesting user may see as filter choices, so a
    filter cannot be used to probe for records outside the visible set."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        for filter_ in self.filters.values():
            queryset = getattr(filter_, "queryset", None)
            if queryset is None:
                continue
            if queryset.model is User:
                filter_.queryset = User.objects.visible_to(user)
            elif queryset.model is Team:
                filter_.queryset = Team.objects.visible_to(user)


class UpdatedAfterFilterMixin(VisibleChoicesFilterSet):
    """Lets sync clients ask for what changed since their last pull."""

    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gt", label=_("Updated after")
    )


class OwnerFilterMixin(VisibleChoicesFilterSet):
    """Owner and owner's team (the whole subtree below the chosen team)."""

    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), label=_("Owner"), field_name="owner"
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), label=_("Team"), method="filter_owner_team"
    )

    def filter_owner_team(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(owner__team__path__startswith=value.path)


class UserFilterSet(UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), method="filter_team", label=_("Team")
    )
    role = django_filters.ChoiceFilter(choices=Role.choices, label=_("Role"))
    ladder_level = django_filters.ModelChoiceFilter(
        queryset=LadderLevel.objects.all(), label=_("Ladder level")
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = User
        fields = ["q", "team", "role", "ladder_level", "is_active", "updated_after"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(phone__icontains=value)
        )

    def filter_team(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(team__path__startswith=value.path)


class TeamFilterSet(UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    parent = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Parent team"))
    manager = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Manager"))

    class Meta:
        model = Team
        fields = ["q", "parent", "manager", "region", "updated_after"]
