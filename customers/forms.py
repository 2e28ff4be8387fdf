"""Browser forms of the customers app. They check input; the services decide and write."""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.models import Account, Contact, FollowUp, Industry, Interaction, Region, Tag
from teams.models import User
from teams.selectors import is_manager


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _https_urls(field, **kwargs):
    """Model fields as form fields; a website typed without a scheme is taken as https."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


def _person_choices(user: User):
    return User.objects.visible_to(user).filter(is_active=True).order_by("username")


class AccountForm(forms.ModelForm):
    """Create and edit an account. Owner is offered to managers only (among the people they
    see); a rep's accounts are their own."""

    allow_duplicate = forms.BooleanField(
        label=_("Create anyway, it is a different company"), required=False
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "owner",
            "status",
            "industry",
            "region",
            "size_band",
            "revenue_band",
            "source",
            "website",
            "phone",
            "email",
            "address",
            "tags",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4}), "tags": forms.SelectMultiple()}
        formfield_callback = _https_urls

    def __init__(self, *args, user: User, duplicates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.duplicates = list(duplicates or [])
        editing = self.instance.pk is not None
        self.fields["industry"].queryset = _active_or_current(
            Industry, self.instance.industry_id if editing else None
        )
        self.fields["region"].queryset = _active_or_current(
            Region, self.instance.region_id if editing else None
        )
        self.fields["tags"].queryset = Tag.objects.order_by("name")
        self.fields["tags"].widget.attrs["size"] = 5
        if is_manager(user) and not (editing and self.instance.owner_id is None):
            self.fields["owner"].queryset = _person_choices(user)
            self.fields["owner"].required = True
            if not editing:
                self.fields["owner"].initial = user.pk
        else:
            del self.fields["owner"]
        # "Create anyway" is offered once the service has found look-alikes, and honoured
        # when the form comes back with it ticked.
        if editing or not (self.duplicates or self.data.get("allow_duplicate")):
            del self.fields["allow_duplicate"]

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
        data["tags"] = list(data["tags"])
        return data


def _active_or_current(model, current_id):
    qs = model.objects.filter(active=True)
    if current_id:
        qs = model.objects.filter(pk=current_id) | qs
    return qs.order_by("order", "name")


class AccountBulkForm(forms.Form):
    """Bulk actions of the account list (managers): tag, untag or reassign the ticked rows."""

    ACTIONS = [
        ("tag", _("Add tags")),
        ("untag", _("Remove tags")),
        ("reassign", _("Reassign to")),
    ]
    accounts = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("Accounts"))
    action = forms.ChoiceField(choices=ACTIONS, label=_("Action"))
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.order_by("name"), required=False, label=_("Tags")
    )
    to_user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("To"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["to_user"].queryset = _person_choices(user)
        ids = self.data.getlist("accounts") if hasattr(self.data, "getlist") else []
        visible = selectors.account_list(viewer=user).filter(
            pk__in=[int(pk) for pk in ids if str(pk).isdigit()]
        )
        self.fields["accounts"].choices = [(pk, pk) for pk in visible.values_list("pk", flat=True)]

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in ("tag", "untag") and not cleaned.get("tags"):
            self.add_error("tags", _("Choose at least one tag."))
        if action == "reassign" and not cleaned.get("to_user"):
            self.add_error("to_user", _("Choose who takes the accounts."))
        return cleaned


class AccountMergeForm(forms.Form):
    survivor = forms.ModelChoiceField(queryset=Account.objects.none(), label=_("Keep"))
    merged = forms.ModelChoiceField(
        queryset=Account.objects.none(), label=_("Merge into it and remove")
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = selectors.editable_accounts(user).select_related("owner").order_by("name", "pk")
        self.fields["survivor"].queryset = accounts
        self.fields["merged"].queryset = accounts
        for name in ("survivor", "merged"):
            self.fields[name].label_from_instance = _account_label

    def clean(self):
        cleaned = super().clean()
        survivor, merged = cleaned.get("survivor"), cleaned.get("merged")
        if survivor and merged and survivor.pk == merged.pk:
            self.add_error("merged", _("Choose two different accounts."))
        return cleaned


def _account_label(account: Account) -> str:
    owner = account.owner.display_name if account.owner_id else _("public pool")
    return f"{account.name} (#{account.pk}, {owner})"


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "account",
            "name",
            "title",
            "department",
            "phone",
            "mobile",
            "email",
            "wechat_id",
            "preferred_channel",
            "decision_role",
            "is_primary",
            "preferences",
        ]
        widgets = {"preferences": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = selectors.editable_accounts(user).order_by("name", "pk")

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "account"}


class InteractionForm(forms.Form):
    """The inline "log interaction" form of the account page."""

    kind = forms.ChoiceField(
        choices=Interaction.Kind.choices, initial=Interaction.Kind.CALL, label=_("Kind")
    )
    subject = forms.CharField(max_length=200, label=_("Subject"))
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label=_("Contact")
    )
    outcome = forms.ChoiceField(
        choices=[("", "—"), *Interaction.Outcome.choices], required=False, label=_("Outcome")
    )
    occurred_at = forms.DateTimeField(
        required=False,
        widget=DateTimeLocalInput(),
        label=_("When"),
        help_text=_("Leave empty for now."),
    )
    summary = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Summary")
    )
    next_step = forms.CharField(max_length=300, required=False, label=_("Next step"))
    next_step_due = forms.DateTimeField(
        required=False, widget=DateTimeLocalInput(), label=_("Next step due")
    )

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(account=account)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("next_step_due") and not cleaned.get("next_step"):
            self.add_error("next_step", _("Describe the next step that is due."))
        return cleaned


class FollowUpForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label=_("Account"))
    title = forms.CharField(max_length=300, label=_("What to do"))
    due_at = forms.DateTimeField(widget=DateTimeLocalInput(), label=_("Due"))
    priority = forms.TypedChoiceField(
        coerce=int,
        choices=FollowUp.Priority.choices,
        initial=FollowUp.Priority.NORMAL,
        label=_("Priority"),
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Note")
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = selectors.editable_accounts(user).order_by("name", "pk")


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(
        coerce=int,
        choices=[(1, _("1 day")), (3, _("3 days")), (7, _("1 week"))],
        label=_("Snooze"),
    )


class LeadCaptureForm(forms.Form):
    """The public enquiry form. `homepage` is a honeypot: hidden from people, filled by
    bots."""

    company = forms.CharField(max_length=200, label=_("Company"))
    name = forms.CharField(max_length=100, label=_("Your name"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    email = forms.EmailField(required=False, label=_("Email"))
    industry = forms.ModelChoiceField(
        queryset=Industry.objects.filter(active=True).order_by("order", "name"),
        required=False,
        label=_("Industry"),
    )
    region = forms.ModelChoiceField(
        queryset=Region.objects.filter(active=True).order_by("order", "name"),
        required=False,
        label=_("Region"),
    )
    message = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("How can we help?"),
    )
    homepage = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email") and not self.errors:
            self.add_error("phone", _("Leave a phone number or an email address."))
        return cleaned

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("homepage", "").strip())


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
