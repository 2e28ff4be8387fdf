"""Browser forms of the performance app."""

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from performance import services
from performance.models import (
    Metric,
    PeriodType,
)
from teams.models import Team, User

# Targets, attainment and leaderboards


class DateInput(forms.DateInput):
    input_type = "date"


class TargetForm(forms.Form):
    """A new target for a person or a team below the manager (admins: anyone)."""

    period_type = forms.ChoiceField(label=_("Period"), choices=PeriodType.choices)
    start = forms.DateField(
        label=_("Starting"),
        widget=DateInput,
        help_text=_("Any day of the period; a week gives its Monday."),
    )
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    value = forms.DecimalField(label=_("Value"), min_value=0, max_digits=14, decimal_places=2)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.visible_to(user).filter(is_active=True).exclude(pk=user.pk)
        self.fields["user"].queryset = people.order_by("username")
        teams = Team.objects.all()
        if not user.is_admin:
            teams = teams.filter(manager_id=user.pk)
            paths = list(teams.values_list("path", flat=True))
            condition = Q(pk__in=[])
            for path in paths:
                condition |= Q(path__startswith=path)
            teams = Team.objects.filter(condition)
        self.fields["team"].queryset = teams.order_by("path")

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError(_("Choose a person or a team, not both."))
        return data


class TargetGridForm(forms.Form):
    """One value per target shown in the planning grid, each field named after its id."""

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = {target.pk: target for target in targets}
        for target in targets:
            self.fields[f"t{target.pk}"] = forms.DecimalField(
                label=str(target),
                min_value=0,
                max_digits=14,
                decimal_places=2,
                initial=target.value,
            )

    def values(self) -> dict[int, Decimal]:
        return {pk: self.cleaned_data[f"t{pk}"] for pk in self.targets}


class DecomposeForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Weights"),
        choices=[
            (services.MODE_EVEN, _("Even (weeks by working days)")),
            (services.MODE_SEASONAL, _("By last year's actuals")),
        ],
        initial=services.MODE_EVEN,
    )
    overwrite = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CopyLastYearForm(forms.Form):
    overwrite = forms.BooleanField(required=False, widget=forms.HiddenInput)


class LeaderboardForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices, required=False)
    period = forms.ChoiceField(label=_("Period"), choices=PeriodType.choices, required=False)
    on = forms.DateField(label=_("As of"), widget=DateInput, required=False)
