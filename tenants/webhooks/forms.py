from django import forms
from django.core.exceptions import ValidationError

from tenants.webhooks.models import SUBSCRIBABLE
from tenants.webhooks.urlcheck import URL_MAX_LENGTH, webhook_url_clean


class WebhookEndpointForm(forms.Form):
    # A CharField, not a URLField: Django's URL validation would refuse hosts such as
    # "receiver" or "localhost:8080" that integrators legitimately use, and word its
    # errors differently from the API's (both use webhook_url_clean).
    url = forms.CharField(label="Endpoint URL", max_length=URL_MAX_LENGTH, strip=True,
                          widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false",
                                                        "placeholder": "https://example.com/pulse-webhooks"}),
                          help_text="Pulse POSTs each event here as JSON, signed with the endpoint's secret.")
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(label="Events", choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one event to send."})
    is_active = forms.BooleanField(label="Active (send events)", required=False, initial=True)

    def clean_url(self):
        try:
            return webhook_url_clean(self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
