"""Forms of the results pages: the responses filter and the follow-up of one response."""
from django import forms

from surveys.models import Response
from surveys.selectors.results import BAND_LABELS, BANDS, ResponseFilters
from tenants.accounts.models import Role, User
from tenants.inputs import CalendarDateField


class ResponseFilterForm(forms.Form):
    band = forms.ChoiceField(label="Score", required=False)
    channel = forms.ChoiceField(label="Channel", required=False)
    agent = forms.ChoiceField(label="Agent", required=False)
    since = CalendarDateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = CalendarDateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    followup = forms.ChoiceField(label="Follow-up", required=False, choices=[
        ("", "Any"), ("open", "Open"), ("mine", "Open, assigned to me"), ("done", "Followed up")])
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any"), *Response.Source.choices])
    q = forms.CharField(label="Search comments, emails, customers", required=False, max_length=200)

    def __init__(self, *args, kind: str, options: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["band"].choices = [("", "Any")] + [(band, BAND_LABELS[band]) for band in BANDS.get(kind, {})]
        if not kind:
            del self.fields["band"]
        # A value picked before may no longer be among the options: keep it selectable.
        for name, values in (("channel", options["channels"]), ("agent", options["agents"])):
            current = self.data.get(name, "") if self.is_bound else ""
            extra = [current] if current and current not in values else []
            self.fields[name].choices = [("", "Any"), *((v, v) for v in [*values, *extra])]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> ResponseFilters:
        data = self.cleaned_data
        return ResponseFilters(band=data.get("band", ""), channel=data["channel"], agent=data["agent"],
                               since=data["since"], until=data["until"], followup=data["followup"],
                               source=data["source"], q=data["q"].strip())


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label="Follow-up", choices=[("", "Not needed"), ("open", "Open"), ("done", "Followed up")],
                               required=False)
    assignee = forms.ModelChoiceField(label="Assigned to", queryset=User.objects.none(), required=False,
                                      empty_label="Nobody")
    note = forms.CharField(label="Note", required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="What was done: called the customer, refunded, fixed the bug…")

    def __init__(self, *args, can_assign: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.AGENT, Role.TEAM_LEAD]).order_by("full_name", "email")
        if not can_assign:
            del self.fields["assignee"]
