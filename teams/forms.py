from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from teams.models import User
from teams.services import PROFILE_FIELDS, user_set_password

# Fields a person can never set on themselves; posting them is refused, not ignored,
# so a tampered form gets a clear answer.
SELF_PROTECTED_FIELDS = (
    "role",
    "team",
    "ladder_level",
    "is_staff",
    "is_superuser",
    "is_active",
    "username",
    "hire_date",
)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = list(PROFILE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        tampered = [name for name in SELF_PROTECTED_FIELDS if name in self.data]
        if tampered:
            raise forms.ValidationError(
                _("You cannot change these yourself: %(fields)s."),
                params={"fields": ", ".join(tampered)},
                code="protected",
            )
        return cleaned


class ServicePasswordChangeForm(PasswordChangeForm):
    """Django's password change form, saved through the service that also revokes tokens."""

    def save(self, commit=True):
        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"])


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=User.Language.choices)
    next = forms.CharField(required=False)
