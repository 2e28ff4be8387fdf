"""FilterSets shared by the training pages and the API (DESIGN.md §11.4)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.text import search_text
from performance.models import CriterionKind
from pipeline.models import Stage
from teams.filtersets import UpdatedAfterFilterMixin
from teams.models import LadderLevel, Team, User
from training.models import (
    Article,
    CareerTrack,
    Course,
    DevelopmentPlan,
    Enrollment,
    Mentorship,
)


def text_search(queryset, value: str, field: str = "search_text"):
    """Every word of the query as a substring of the folded search column (trigram-indexed
    on PostgreSQL): Chinese has no spaces, so a substring finds a Chinese word as well as an
    English one."""
    for word in search_text(value or "").split():
        queryset = queryset.filter(**{f"{field}__contains": word})
    return queryset


class CourseFilterSet(UpdatedAfterFilterMixin):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    category = django_filters.MultipleChoiceFilter(
        choices=Course.Category.choices, label=_("Category")
    )
    format = django_filters.MultipleChoiceFilter(choices=Course.Format.choices, label=_("Format"))
    stage = django_filters.ModelChoiceFilter(
        queryset=Stage.objects.filter(is_lost=False, is_won=False),
        field_name="stages",
        label=_("Strengthens stage"),
    )
    criterion = django_filters.ChoiceFilter(
        choices=CriterionKind.choices, field_name="criteria__criterion", label=_("Review criterion")
    )
    required_for_level = django_filters.ModelChoiceFilter(
        queryset=LadderLevel.objects.all(),
        field_name="required_for_levels",
        label=_("Required for level"),
    )

    class Meta:
        model = Course
        fields = ["q", "category", "format", "stage", "criterion", "required_for_level"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(title_zh__icontains=value)
            | Q(description__icontains=value)
        )


class EnrollmentFilterSet(UpdatedAfterFilterMixin):
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Person"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), field_name="user__team", method="filter_team", label=_("Team")
    )
    course = django_filters.ModelChoiceFilter(queryset=Course.objects.all(), label=_("Course"))
    status = django_filters.MultipleChoiceFilter(
        choices=Enrollment.Status.choices, label=_("Status")
    )
    source = django_filters.ChoiceFilter(choices=Enrollment.Source.choices, label=_("Source"))
    due_after = django_filters.DateFilter(
        field_name="due", lookup_expr="gte", label=_("Due on or after")
    )
    due_before = django_filters.DateFilter(
        field_name="due", lookup_expr="lte", label=_("Due on or before")
    )

    class Meta:
        model = Enrollment
        fields = ["user", "team", "course", "status", "source", "due_after", "due_before"]

    def filter_team(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(user__team__path__startswith=value.path)


class MentorshipFilterSet(UpdatedAfterFilterMixin):
    mentor = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Mentor"))
    mentee = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Mentee"))
    status = django_filters.ChoiceFilter(choices=Mentorship.Status.choices, label=_("Status"))

    class Meta:
        model = Mentorship
        fields = ["mentor", "mentee", "status"]


class DevelopmentPlanFilterSet(UpdatedAfterFilterMixin):
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Person"))
    track = django_filters.ChoiceFilter(choices=CareerTrack.choices, label=_("Career track"))
    status = django_filters.ChoiceFilter(choices=DevelopmentPlan.Status.choices, label=_("Status"))

    class Meta:
        model = DevelopmentPlan
        fields = ["user", "track", "status"]


class ArticleFilterSet(UpdatedAfterFilterMixin):
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    kind = django_filters.MultipleChoiceFilter(choices=Article.Kind.choices, label=_("Kind"))
    author = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Author"))
    published = django_filters.BooleanFilter(label=_("Published"))
    deal = django_filters.NumberFilter(field_name="deal_id", label=_("Deal"))

    class Meta:
        model = Article
        fields = ["search", "kind", "author", "published", "deal"]

    def filter_search(self, queryset, name, value):
        return text_search(queryset, value)
