"""Forms of the distribution pages (Send, invitation filters, suppression list)."""
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from surveys.models import InvitationSource, InvitationStatus
from surveys.selectors.distribution import audience_customers
from surveys.services.invitations import audience_csv, audience_pasted
from tenants.inputs import CalendarDateTimeField

AUDIENCES = [("customers", "Customers from the customers dataset"), ("paste", "A pasted list of addresses"),
             ("csv", "A CSV file")]
REMINDER_CHOICES = [("", "No reminder"), *[(str(n), f"After {n} day{'s' if n > 1 else ''}") for n in (1, 2, 3, 4, 5, 7, 10, 14)]]


class SendForm(forms.Form):
    name = forms.CharField(label="Campaign name", max_length=200, required=False,
                           help_text="For your records; default: the survey's name and the date.")
    audience = forms.ChoiceField(label="Who gets the survey", choices=AUDIENCES, initial="customers",
                                 widget=forms.RadioSelect)
    plan = forms.ChoiceField(label="Plan", required=False)
    country = forms.ChoiceField(label="Country", required=False)
    active_only = forms.BooleanField(label="Active customers only (not churned)", required=False, initial=True)
    pasted = forms.CharField(label="Addresses", required=False, widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                             help_text="One per line: ada@example.com, Ada Lovelace <ada@example.com> or ada@example.com,Ada Lovelace")
    file = forms.FileField(label="CSV file", required=False,
                           help_text="Columns: email (required), name, customer_external_id, channel, agent; "
                                     "header names are matched whatever their case.")
    scheduled_at = CalendarDateTimeField(label="Send at", required=False,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    reminder_days = forms.TypedChoiceField(label="Reminder to those who have not answered", choices=REMINDER_CHOICES,
                                           coerce=int, empty_value=None, required=False, initial="3")

    def __init__(self, *args, plans=(), countries=(), time_zone="UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", "Every plan"), *[(p, p) for p in plans]]
        self.fields["country"].choices = [("", "Every country"), *[(c, c) for c in countries]]
        self.fields["scheduled_at"].help_text = f"In the workspace's time zone ({time_zone}). Leave empty to send now."
        self.recipients: list[dict] = []
        self.audience_label = ""

    def clean_scheduled_at(self):
        moment = self.cleaned_data.get("scheduled_at")
        if moment and moment < timezone.now():
            raise ValidationError("This time has passed. Leave it empty to send now.")
        return moment

    def clean(self):
        data = super().clean()
        audience = data.get("audience")
        try:
            if audience == "customers":
                self.recipients = audience_customers(plan=data.get("plan") or "", country=data.get("country") or "",
                                                     active_only=bool(data.get("active_only")))
                parts = [f"plan {data['plan']}" if data.get("plan") else "every plan",
                         data["country"] if data.get("country") else "every country"]
                self.audience_label = f"Customers: {', '.join(parts)}{', active only' if data.get('active_only') else ''}"
                if not self.recipients:
                    self.add_error("plan", "No customer matches these filters.")
            elif audience == "paste":
                self.recipients = audience_pasted(data.get("pasted") or "")
                self.audience_label = "Pasted list"
                if not self.recipients:
                    self.add_error("pasted", "Paste at least one address.")
            elif audience == "csv":
                upload = data.get("file")
                if upload is None:
                    self.add_error("file", "Choose a CSV file.")
                else:
                    self.recipients = audience_csv(upload)
                    self.audience_label = f"CSV file {upload.name}"[:300]
        except ValidationError as exc:
            self.add_error({"paste": "pasted", "csv": "file"}.get(audience, "plan"), exc)
        return data


class InvitationFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Every status"), *InvitationStatus.choices, ("refused", "Refused")])
    source = forms.ChoiceField(required=False, choices=[("", "Every source"), *InvitationSource.choices])
    campaign = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", "Every campaign"), *[(c.pk, c.name) for c in campaigns]]


class SuppressionAddForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="No survey is emailed to this address until it is removed.")
