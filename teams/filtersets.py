"""FilterSets shared by the browser lists and the API, and the mixins other apps reuse."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from teams.models import LadderLevel, Role, Team, User


def _viewer(request) -> User | None:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _visible_users(request):
    viewer = _viewer(request)
    return User.objects.all() if viewer is None else User.objects.visible_to(viewer)


def _visible_teams(request):
    viewer = _viewer(request)
    return Team.objects.all() if viewer is None else Team.objects.visible_to(viewer)


def _fresh(queryset: QuerySet):
    return lambda request: queryset.all()


class VisibleChoicesFilterSet(django_filters.FilterSet):
    """Offers only the users and teams the requesting user may see as filter choices, so a
    filter cannot be used to probe for records outside the visible set.

    Every choice filter's queryset becomes a function of the request, which django-filter
    calls when it builds the filter's form field: a user or team filter gets the viewer's
    visible set, any other a fresh copy of its queryset. (django-filter deep-copies every
    filter for each request, and deep-copying a queryset cost more than the filtering.)"""

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for filter_ in filters.values():
            queryset = getattr(filter_, "queryset", None)
            if not isinstance(queryset, QuerySet):
                continue
            if queryset.model is User:
                filter_.queryset = _visible_users
            elif queryset.model is Team:
                filter_.queryset = _visible_teams
            else:
                filter_.queryset = _fresh(queryset)
            filter_.extra["queryset"] = filter_.queryset
        return filters


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
