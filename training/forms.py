"""Browser forms of the training app."""

from django import forms
from django.utils.translation import gettext_lazy as _

from performance.models import ImprovementPlan
from pipeline.models import Deal
from teams.models import LadderLevel, User
from training import selectors
from training.models import (
    Article,
    CareerTrack,
    Course,
    DevelopmentAction,
    DevelopmentPlan,
    Mentorship,
)


class DateInput(forms.DateInput):
    input_type = "date"


class AssignForm(forms.Form):
    """A course for several people at once, among those below the manager."""

    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    users = forms.ModelMultipleChoiceField(
        label=_("People"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    due = forms.DateField(
        label=_("Due"),
        widget=DateInput,
        required=False,
        help_text=_("Leave empty to use the course's usual time to complete."),
    )

    def __init__(self, *args, user: User, course: Course | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(is_active=True)
        self.fields["users"].queryset = selectors.assignable_people(user)
        if course is not None:
            self.fields["course"].initial = course.pk
            self.fields["course"].widget = forms.HiddenInput()


class QuickAssignForm(forms.Form):
    """One click: a recommended course for one person."""

    course = forms.ModelChoiceField(queryset=Course.objects.filter(is_active=True))
    user = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.assignable_people(user)


class CompleteForm(forms.Form):
    score = forms.IntegerField(label=_("Score"), min_value=0, max_value=100, required=False)


class PromoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    override_criteria = forms.BooleanField(
        label=_("Promote although not every criterion is met (admins)"), required=False
    )


class PlanCourseForm(forms.Form):
    """A recommended course added to one of the person's improvement plans."""

    plan = forms.ModelChoiceField(label=_("Improvement plan"), queryset=ImprovementPlan.objects)
    course = forms.ModelChoiceField(queryset=Course.objects.filter(is_active=True))
    due = forms.DateField(label=_("Due"), widget=DateInput)

    def __init__(self, *args, viewer: User, person: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = ImprovementPlan.objects.visible_to(viewer).filter(
            person=person,
            status__in=[ImprovementPlan.Status.DRAFT, ImprovementPlan.Status.ACTIVE],
        )


class MentorshipForm(forms.ModelForm):
    class Meta:
        model = Mentorship
        fields = ["mentor", "mentee", "start", "goals"]
        widgets = {"start": DateInput, "goals": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = (
            User.objects.visible_to(user).filter(is_active=True).order_by("username")
        )
        self.fields["mentee"].queryset = selectors.assignable_people(user)


class CheckInForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}))


class DevelopmentPlanForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    track = forms.ChoiceField(label=_("Career track"), choices=CareerTrack.choices)
    target_level = forms.ModelChoiceField(
        label=_("Target level"), queryset=LadderLevel.objects.all(), required=False
    )
    goals = forms.CharField(label=_("Goals"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.visible_to(user).filter(is_active=True).order_by("username")
        )
        self.fields["user"].initial = user.pk


class DevelopmentPlanStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=DevelopmentPlan.Status.choices)


class DevelopmentActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DevelopmentAction.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=300)
    course = forms.ModelChoiceField(
        label=_("Course"), queryset=Course.objects.filter(is_active=True), required=False
    )
    mentorship = forms.ModelChoiceField(
        label=_("Mentorship"), queryset=Mentorship.objects.none(), required=False
    )
    due = forms.DateField(label=_("Due"), widget=DateInput)

    def __init__(self, *args, plan: DevelopmentPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentorship"].queryset = Mentorship.objects.filter(
            mentee_id=plan.user_id
        ).select_related("mentor")


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["kind", "title", "tags", "body", "deal", "published"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # A picker over the deals the writer sees; only closed deals make cases.
        self.fields["deal"].queryset = (
            Deal.objects.visible_to(user).exclude(status=Deal.Status.OPEN).order_by("-closed_at")
        )
        self.fields["deal"].widget = forms.NumberInput()
        self.fields["deal"].help_text = _("The id of a won or lost deal, when there is one.")
