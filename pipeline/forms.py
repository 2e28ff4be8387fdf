"""Browser forms of the pipeline pages. They check input; the services decide and write."""

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers import selectors as customer_selectors
from customers.models import Account, Contact
from pipeline.models import Competitor, Deal, ProductCategory, Stage
from teams.models import User
from teams.selectors import is_manager


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _people(user: User):
    return User.objects.visible_to(user).filter(is_active=True).order_by("username")


def _offered(model, current_ids=()):
    """Active rows, plus those the deal already has, so editing keeps a retired choice."""
    return model.objects.filter(Q(active=True) | Q(pk__in=list(current_ids))).order_by("name")


def _contacts_of(account_id):
    if not account_id:
        return Contact.objects.none()
    return Contact.objects.filter(account_id=account_id).order_by("-is_primary", "name")


class DealForm(forms.ModelForm):
    """Edit a deal's fields; the stage changes by moving the deal. `version` is the one the
    page showed, so a change made meanwhile by someone else is not overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Deal
        fields = [
            "name",
            "owner",
            "contact",
            "amount",
            "product_category",
            "expected_close",
            "forecast_category",
            "probability_override",
            "source",
            "campaign_ref",
            "competitors",
            "lost_note",
        ]
        widgets = {
            "expected_close": DateInput(),
            "competitors": forms.SelectMultiple(attrs={"size": 5}),
            "lost_note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        deal = self.instance
        self.fields["contact"].queryset = _contacts_of(deal.account_id)
        self.fields["product_category"].queryset = _offered(
            ProductCategory, [deal.product_category_id] if deal.product_category_id else []
        )
        self.fields["competitors"].queryset = _offered(
            Competitor, deal.competitors.values_list("pk", flat=True)
        )
        self.fields["amount"].localize = False
        if is_manager(user):
            self.fields["owner"].queryset = _people(user) | User.objects.filter(pk=deal.owner_id)
        else:
            del self.fields["owner"]
        if deal.status != Deal.Status.LOST:
            del self.fields["lost_note"]
        if not self.is_bound:
            self.initial["version"] = deal.version

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
        data["competitors"] = list(data["competitors"])
        return data


class DealValueFields(forms.Form):
    """The deal fields that entry criteria ask for, shared by the create and move forms."""

    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, label=_("Amount")
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label=_("Primary contact")
    )
    expected_close = forms.DateField(
        required=False, widget=DateInput(), label=_("Expected close date")
    )
    product_category = forms.ModelChoiceField(
        queryset=ProductCategory.objects.none(), required=False, label=_("Product category")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_category"].queryset = _offered(ProductCategory)
        self.fields["amount"].localize = False


class DealCreateForm(DealValueFields):
    """A new deal. Without an owner the assignment rules choose one (else the writer)."""

    name = forms.CharField(max_length=200, label=_("Name"))
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label=_("Account"))
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Owner"),
        help_text=_("Leave empty to let the assignment rules choose."),
    )
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(),
        required=False,
        label=_("Stage"),
        help_text=_("Leave empty to start in the first stage of the default pipeline."),
    )
    source = forms.ChoiceField(
        choices=Deal.Source.choices, initial=Deal.Source.MANUAL, label=_("Source")
    )
    competitors = forms.ModelMultipleChoiceField(
        queryset=Competitor.objects.none(),
        required=False,
        label=_("Competitors"),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    checklist = forms.MultipleChoiceField(
        choices=[],
        required=False,
        label=_("Confirmed"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Items the starting stage asks you to confirm."),
    )

    field_order = [
        "name",
        "account",
        "contact",
        "owner",
        "stage",
        "amount",
        "product_category",
        "expected_close",
    ]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = customer_selectors.editable_accounts(user).order_by(
            "name", "pk"
        )
        # Choosing the account reloads the contact choices with htmx (the page's own field).
        self.fields["account"].widget.attrs.update(
            {
                "hx-get": reverse("pipeline:deal_create"),
                "hx-select": "#contact-field",
                "hx-target": "#contact-field",
                "hx-swap": "outerHTML",
            }
        )
        account_id = self.data.get("account") or self.initial.get("account")
        self.fields["contact"].queryset = _contacts_of(
            account_id if str(account_id).isdigit() else None
        )
        self.fields["owner"].queryset = _people(user)
        stages = (
            Stage.objects.filter(pipeline__active=True, is_won=False, is_lost=False)
            .select_related("pipeline")
            .order_by("pipeline__order", "pipeline__name", "order")
        )
        self.fields["stage"].queryset = stages
        self.fields["stage"].label_from_instance = lambda stage: (
            f"{stage.pipeline.display_name} · {stage.display_name}"
        )
        self.fields["competitors"].queryset = _offered(Competitor)
        labels = dict.fromkeys(item for stage in stages for item in stage.checklist)
        self.fields["checklist"].choices = [(label, label) for label in labels]

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["confirmed_checklist"] = data.pop("checklist")
        data["competitors"] = list(data["competitors"])
        return data


class DealMoveForm(DealValueFields):
    """A move to another stage with whatever the target stage asks for. Only the fields the
    service reports missing are shown; empty ones are left out of the move, so a move never
    clears what the deal already has."""

    CRITERIA = (
        "amount",
        "contact",
        "expected_close",
        "product_category",
        "competitors",
        "checklist",
        "closed_at",
        "lost_reason",
        "lost_note",
    )

    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), label=_("Move to"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    competitors = forms.ModelMultipleChoiceField(
        queryset=Competitor.objects.none(),
        required=False,
        label=_("Competitors"),
        widget=forms.CheckboxSelectMultiple,
    )
    checklist = forms.MultipleChoiceField(
        choices=[], required=False, label=_("Confirm"), widget=forms.CheckboxSelectMultiple
    )
    closed_at = forms.DateField(required=False, widget=DateInput(), label=_("Close date"))
    lost_reason = forms.ChoiceField(
        choices=[("", "—"), *Deal.LostReason.choices], required=False, label=_("Lost reason")
    )
    lost_note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Lost note")
    )

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, **kwargs)
        self.deal = deal
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id)
        self.fields["contact"].queryset = _contacts_of(deal.account_id)
        self.fields["competitors"].queryset = _offered(Competitor)
        self.fields["closed_at"].initial = timezone.localdate()
        self.missing: list[str] = []
        stage_id = self.data.get("stage")
        target = (
            self.fields["stage"].queryset.filter(pk=stage_id).first()
            if str(stage_id).isdigit()
            else None
        )
        self.target = target
        if target is not None:
            self.fields["checklist"].choices = [(item, item) for item in target.checklist]

    def move_arguments(self) -> dict:
        """Keyword arguments for services.deal_move (with `values` for the deal fields)."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in ("amount", "contact", "expected_close", "product_category")
            if data.get(name) is not None
        }
        if data.get("competitors"):
            values["competitors"] = list(data["competitors"])
        return {
            "stage": data["stage"],
            "expected_version": data["version"],
            "values": values,
            "checklist": data.get("checklist") or [],
            "closed_at": data.get("closed_at"),
            "lost_reason": data.get("lost_reason") or "",
            "lost_note": data.get("lost_note") or "",
        }

    def show_missing(self, error, *, attempted: bool) -> None:
        """Shows the fields the service found missing; their messages only when the user
        already tried to fill them in."""
        messages = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, texts in messages.items():
            if field in self.CRITERIA:
                self.missing.append(field)
                if field == "checklist":
                    self.fields["checklist"].choices = [(item, item) for item in texts]
                    if attempted:
                        self.add_error("checklist", _("Confirm every item to enter the stage."))
                elif attempted:
                    self.add_error(field, texts)
            else:
                self.add_error(field if field in self.fields else None, texts)
        if self.target is not None and self.target.is_lost:
            # Whoever loses a deal is asked against whom, even when it is not required.
            for extra in ("lost_note", "competitors"):
                if extra not in self.missing:
                    self.missing.append(extra)

    @property
    def missing_fields(self):
        return [self[name] for name in self.CRITERIA if name in self.missing or name in self.errors]
