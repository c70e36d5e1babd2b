from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from tenants.models import TIME_ZONES
from tenants.services import CURRENCIES


class SignupForm(forms.Form):
    """Fields only: validation rules live in ``workspace_create`` so the form, the command
    line and the API all answer with the same messages."""

    name = forms.CharField(label="Company name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    slug = forms.CharField(
        label="Workspace address",
        max_length=40,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false", "pattern": "[a-z][a-z0-9\\-]{2,39}"}),
    )
    time_zone = forms.ChoiceField(label="Time zone", choices=[(tz, tz) for tz in TIME_ZONES], initial="UTC",
                                  help_text="KPI periods (days, weeks, months) start at midnight in this time zone.")
    currency = forms.ChoiceField(label="Currency", choices=[(c, c) for c in CURRENCIES], initial="USD")
    lead_name = forms.CharField(label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    lead_email = forms.EmailField(label="Your work email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    lead_password = forms.CharField(
        label="Password",
        strip=False,
        help_text="At least 10 characters, not a common password, not only digits.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = (
            f"Lowercase letters, digits and hyphens. Your team will sign in at <address>.{settings.PULSE_BASE_DOMAIN}."
        )


class FindWorkspaceForm(forms.Form):
    workspace = forms.CharField(label="Workspace address", max_length=40,
                                widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}))

    def clean_workspace(self):
        return self.cleaned_data["workspace"].strip().lower().removesuffix(f".{settings.PULSE_BASE_DOMAIN}")


class WorkspaceForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=[(tz, tz) for tz in TIME_ZONES])
    currency = forms.ChoiceField(label="Currency", choices=[(c, c) for c in CURRENCIES])


def form_add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names when there is one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_apply(request, form: forms.Form, action, success_message) -> bool:
    """Call the service ``action`` with a valid form's data; show its ValidationError on the
    form, or ``success_message`` (a string, or a function of the service's result) as a
    flash message. True when the service succeeded."""
    from django.contrib import messages

    if not form.is_valid():
        return False
    try:
        result = action(form.cleaned_data)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return False
    messages.success(request, success_message(result) if callable(success_message) else success_message)
    return True


def action_report(request, action, success_message: str) -> None:
    """For one-button actions without a form: flash the service's refusal or the success."""
    from django.contrib import messages

    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success_message)
