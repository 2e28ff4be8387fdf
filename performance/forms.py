"""Browser forms of the performance app."""

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from customers.models import Account, Contact
from performance import services
from performance.models import (
    CriterionKind,
    Expense,
    ImprovementPlan,
    KpiKind,
    Metric,
    PeriodType,
    RaterKind,
    ReviewKind,
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


# Reviews, 360 feedback and improvement plans


class ReviewCycleForm(forms.Form):
    """A cycle with its template: one weight (and target) per KPI, one weight per
    criterion; a weight of 0 leaves the line out. The weights must add up to 100."""

    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=ReviewKind.choices)
    start = forms.DateField(label=_("Period start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Period end"), widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ModelChoiceField(label=_("Participants (team subtree)"), queryset=Team.objects)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = review_cycle_teams(user)
        kpis, criteria = services.default_cycle_template(ReviewKind.QUARTERLY)
        for line in kpis:
            kind = line["kind"]
            self.fields[f"kpi_{kind}_weight"] = forms.IntegerField(
                label=KpiKind(kind).label,
                min_value=0,
                max_value=100,
                initial=line["weight"],
                required=False,
            )
            self.fields[f"kpi_{kind}_target"] = forms.DecimalField(
                label=_("Target"),
                min_value=0,
                max_digits=14,
                decimal_places=2,
                initial=line["target"],
                disabled=kind == KpiKind.ATTAINMENT,
                required=False,
            )
        for line in criteria:
            kind = line["kind"]
            self.fields[f"criterion_{kind}_weight"] = forms.IntegerField(
                label=CriterionKind(kind).label,
                min_value=0,
                max_value=100,
                initial=line["weight"],
                required=False,
            )

    def kpi_rows(self):
        return [(self[f"kpi_{kind}_weight"], self[f"kpi_{kind}_target"]) for kind in KpiKind.values]

    def criterion_rows(self):
        return [self[f"criterion_{kind}_weight"] for kind in CriterionKind.values]

    def template(self) -> tuple[list[dict], list[dict]]:
        data = self.cleaned_data
        kpis = [
            {
                "kind": kind,
                "weight": data[f"kpi_{kind}_weight"],
                "target": 100 if kind == KpiKind.ATTAINMENT else data[f"kpi_{kind}_target"],
            }
            for kind in KpiKind.values
            if data.get(f"kpi_{kind}_weight")
        ]
        criteria = [
            {"kind": kind, "weight": data[f"criterion_{kind}_weight"]}
            for kind in CriterionKind.values
            if data.get(f"criterion_{kind}_weight")
        ]
        return kpis, criteria


def review_cycle_teams(user):
    """The teams a user may run a review cycle for: those in the subtrees they manage."""
    from teams.selectors import managed_team_paths

    if user.is_admin:
        return Team.objects.all()
    q = Q(pk__in=[])
    for path in managed_team_paths(user):
        q |= Q(path__startswith=path)
    return Team.objects.filter(q)


LEVEL_CHOICES = [("", "—")] + [(str(level), str(level)) for level in range(1, 6)]


class CriteriaScoresForm(forms.Form):
    """A level 1-5 per criterion of the cycle, with the level descriptions as help."""

    def __init__(self, *args, criteria, initial_scores=None, require_all=False, **kwargs):
        super().__init__(*args, **kwargs)
        initial_scores = initial_scores or {}
        for criterion in criteria:
            help_text = " · ".join(
                escape(f"{level}: {text}") for level, text in enumerate(criterion.levels, start=1)
            )
            self.fields[f"score_{criterion.kind}"] = forms.ChoiceField(
                label=criterion.get_kind_display(),
                choices=LEVEL_CHOICES,
                required=require_all,
                initial=str(initial_scores.get(criterion.kind, "")),
                help_text=help_text,
            )
        self.kinds = [criterion.kind for criterion in criteria]

    def scores(self) -> dict[str, str]:
        return {
            kind: self.cleaned_data.get(f"score_{kind}")
            for kind in self.kinds
            if self.cleaned_data.get(f"score_{kind}")
        }


class ReviewScoreForm(CriteriaScoresForm):
    strengths = forms.CharField(
        label=_("Strengths"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    improvements = forms.CharField(
        label=_("Areas to improve"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FeedbackAnswerForm(CriteriaScoresForm):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, require_all=True, **kwargs)


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("Your comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FeedbackInviteForm(forms.Form):
    rater_kind = forms.ChoiceField(label=_("Rater"), choices=RaterKind.choices)
    rater = forms.ModelChoiceField(
        label=_("Colleague"), queryset=User.objects.none(), required=False
    )
    contact = forms.ModelChoiceField(
        label=_("Customer contact"), queryset=Contact.objects.none(), required=False
    )

    def __init__(self, *args, user, review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rater"].queryset = (
            User.objects.visible_to(user).filter(is_active=True).order_by("username")
        )
        # The customers the reviewee looks after.
        self.fields["contact"].queryset = (
            Contact.objects.visible_to(user)
            .filter(account__owner_id=review.reviewee_id)
            .select_related("account")
            .order_by("account__name", "name")
        )
        self.fields["contact"].label_from_instance = lambda c: f"{c.name} · {c.account.name}"


class ImprovementPlanForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    goals = forms.CharField(label=_("Goals"), widget=forms.Textarea(attrs={"rows": 4}))
    start = forms.DateField(label=_("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("End"), widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_("Status"),
        choices=ImprovementPlan.Status.choices,
        initial=ImprovementPlan.Status.ACTIVE,
    )

    def __init__(self, *args, user, review=None, **kwargs):
        super().__init__(*args, **kwargs)
        if review is not None:
            del self.fields["person"]
        else:
            self.fields["person"].queryset = (
                User.objects.visible_to(user).filter(is_active=True).exclude(pk=user.pk)
            )


class PlanStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ImprovementPlan.Status.choices)


class ImprovementActionForm(forms.Form):
    description = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    due = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.ModelChoiceField(
        label=_("About the account"),
        queryset=Account.objects.none(),
        required=False,
        help_text=_("Becomes a follow-up of the owner on this account."),
    )

    def __init__(self, *args, user, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.visible_to(user).filter(is_active=True)
        self.fields["owner"].initial = plan.person_id
        self.fields["account"].queryset = Account.objects.visible_to(user).filter(
            owner_id=plan.person_id
        )


class CheckInForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


# Expenses


class ExpenseForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ChoiceField(label=_("Category"), choices=Expense.Category.choices)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=Account.objects.none(), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    receipt = forms.FileField(label=_("Receipt"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user).filter(owner_id=user.pk)


class ExpenseRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
