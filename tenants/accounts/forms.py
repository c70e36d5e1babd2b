import hashlib

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

from tenants.accounts.models import ROLE_DESCRIPTIONS, Role, email_normalise
from tenants.ratelimits import client_address

MAX_FAILED_SIGN_INS = 10
LOCKOUT_SECONDS = 15 * 60


class SignInForm(AuthenticationForm):
    """Email and password, with a lockout after repeated failures for the same email from
    the same address (the cache is keyed per workspace by django-tenants)."""

    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match a member of this workspace. "
        "Check the address bar: each workspace has its own sign-in.",
        "locked": "Too many failed sign-ins. Wait 15 minutes or reset your password.",
    }

    def _throttle_key(self) -> str:
        # The address normalised exactly as the sign-in looks it up (clean_username): any
        # spelling that signs in as a member counts against that member's one counter.
        # Hashed, so a key stays short and safe whatever was typed.
        ip = client_address(None, self.request) if self.request else ""
        email = hashlib.sha256(email_normalise(self.data.get("username")).encode("utf-8", "surrogatepass")).hexdigest()
        return f"signin-failures:{email}:{ip}"

    def clean(self):
        key = self._throttle_key()
        if cache.get(key, 0) >= MAX_FAILED_SIGN_INS:
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            cache.add(key, 0, LOCKOUT_SECONDS)
            cache.incr(key)
            raise

    def clean_username(self):
        return email_normalise(self.cleaned_data["username"])


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


def _role_choices():
    return [(value, f"{label} — {ROLE_DESCRIPTIONS[value]}") for value, label in Role.choices]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=_role_choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password = forms.CharField(label="Choose a password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="At least 10 characters, not a common password, not only digits.")


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, help_text="What will use it, e.g. 'Zendesk sync' or 'CI'.")
    role = forms.ChoiceField(label="Access", choices=_role_choices, initial=Role.TEAM_LEAD)
