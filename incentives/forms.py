"""Browser forms of the incentives pages."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incentives.models import AwardKind, Contest
from performance import periods
from teams.models import User


class DisputeForm(forms.Form):
    comment = forms.CharField(
        label=_("What is wrong with this line?"), widget=forms.Textarea(attrs={"rows": 3})
    )


class DisputeResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept: adjust the next statement")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    adjustment = forms.DecimalField(
        label=_("Adjustment"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("When accepting: the amount added (or, negative, taken) next time."),
    )
    resolution = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class PayrollForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def for_request(cls, data):
        if data.get("start") or data.get("end"):
            return cls(data)
        # By default the last quarter, whose statements are the ones to pay.
        this_quarter = periods.period_bounds("quarter", periods.today())

        start, end = periods.period_bounds("quarter", this_quarter[0] - dt.timedelta(days=1))
        return cls({"start": start.isoformat(), "end": end.isoformat()})

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError({"end": _("The end cannot be before the start.")})
        return data


class KudosForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Colleague"), queryset=User.objects.none())
    message = forms.CharField(
        label=_("Message"), max_length=280, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = (
            User.objects.filter(is_active=True).exclude(pk=viewer.pk).order_by("username")
        )


class AwardForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=AwardKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    note = forms.CharField(label=_("Why"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.visible_to(viewer).filter(is_active=True).exclude(pk=viewer.pk)
        )


class ContestForm(forms.ModelForm):
    class Meta:
        model = Contest
        fields = ["name", "metric", "start", "end", "participants", "prizes"]
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}),
            "end": forms.DateInput(attrs={"type": "date"}),
            "prizes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = (
            User.objects.visible_to(viewer).filter(is_active=True).order_by("username")
        )
