"""The manager dashboard's pickers: scope, pipeline and period. They check the shape of the
input; whether the viewer may look at a team or a person is `resolve_scope`'s decision (an
invisible one answers 404, like any record out of sight)."""

import re
from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from pipeline import selectors as pipeline_selectors
from pipeline.models import Pipeline
from teams.models import User

SCOPE_PATTERN = re.compile(r"^(all|me|team:[0-9]{1,18}|rep:[0-9]{1,18})$")
# The longest custom range: two years, enough for a year-on-year look.
MAX_RANGE_DAYS = 731


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DashboardForm(forms.Form):
    MONTH, QUARTER, CUSTOM = "month", "quarter", "custom"

    scope = forms.CharField(label=_("Showing"), widget=forms.Select)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"),
        queryset=Pipeline.objects.filter(active=True),
        required=False,
        empty_label=None,
    )
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[
            (MONTH, _("This month")),
            (QUARTER, _("This quarter")),
            (CUSTOM, _("Date range")),
        ],
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput)

    def __init__(self, *args, viewer: User, manages: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].widget.choices = scope_choices(viewer, manages)

    def clean_scope(self):
        value = self.cleaned_data["scope"]
        if not SCOPE_PATTERN.match(value):
            raise forms.ValidationError(_("Choose whose figures to show from the list."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("period") != self.CUSTOM:
            return data
        start, end = data.get("start"), data.get("end")
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Give the first day of the range."))
        if end is None and "end" not in self.errors:
            self.add_error("end", _("Give the last day of the range."))
        if start and end:
            if end < start:
                self.add_error("end", _("The end comes before the start."))
            elif end - start > timedelta(days=MAX_RANGE_DAYS - 1):
                self.add_error("end", _("Choose a range of at most two years."))
        return data

    def scope_arguments(self) -> dict:
        """The cleaned scope as `resolve_scope` arguments."""
        kind, _sep, number = self.cleaned_data["scope"].partition(":")
        if kind == "team":
            return {"kind": "team", "team_id": int(number)}
        if kind == "rep":
            return {"kind": "rep", "user_id": int(number)}
        return {"kind": kind}


def scope_choices(viewer: User, manages: bool) -> list:
    """Everything the viewer sees (their subtree), their own deals, each team they may look
    at, and each person they see; a rep only has their own deals."""
    if not manages:
        return [("me", _("My own deals"))]
    teams = [
        (f"team:{team.pk}", team.name) for team in pipeline_selectors.scope_teams(viewer=viewer)
    ]
    people = [
        (f"rep:{person.pk}", person.display_name)
        for person in User.objects.visible_to(viewer)
        .filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    ]
    choices = [
        ("all", _("Everyone") if viewer.is_admin else _("My subtree")),
        ("me", _("My own deals")),
    ]
    if teams:
        choices.append((_("Teams"), teams))
    if len(people) > 1:
        choices.append((_("People"), people))
    return choices
