"""The staffing rules of one channel, in the units a team lead thinks in (percent, seconds,
hours). The same form is the page's what-if (read from the query, never saved) and, for a
team lead, the channel's saved rules (POST)."""
from datetime import date

from django import forms

from kpis.staffing.models import StaffingChannel
from kpis.staffing.planning import ChannelRules

RULE_FIELDS = ("mode", "method", "target_percent", "within_seconds", "within_hours", "handle_time_seconds",
               "patience_seconds", "concurrency", "max_occupancy_percent", "shrinkage_percent")


class StaffingRulesForm(forms.ModelForm):
    class Meta:
        model = StaffingChannel
        fields = RULE_FIELDS
        labels = {"mode": "Channel answered as", "method": "Queue formula", "target_percent": "Service level target (%)",
                  "within_seconds": "Answered within (seconds, live queue)",
                  "within_hours": "Answered within (hours, backlog)", "handle_time_seconds": "Handle time (seconds)",
                  "patience_seconds": "Patience (seconds)", "concurrency": "Conversations per agent at once",
                  "max_occupancy_percent": "Occupancy cap (%)", "shrinkage_percent": "Shrinkage (%)"}
        help_texts = {"handle_time_seconds": "Blank: measured on a live queue (resolved − first response of the "
                                             "conversations handled in one go); assumed on a backlog (480 s for "
                                             "email, 300 s for the others).",
                      "patience_seconds": "Blank: measured from the abandoned conversations' waits.",
                      "shrinkage_percent": "Paid time off the queue: breaks, training, meetings, absence."}

    def __init__(self, *args, rules: ChannelRules, **kwargs):
        initial = {"mode": rules.mode, "method": rules.method, "target_percent": round(rules.target * 100, 2),
                   "within_seconds": rules.within_seconds, "within_hours": rules.within_hours,
                   "handle_time_seconds": rules.handle_time, "patience_seconds": rules.patience,
                   "concurrency": rules.concurrency, "max_occupancy_percent": round(rules.max_occupancy * 100, 2),
                   "shrinkage_percent": round(rules.shrinkage * 100, 2)}
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["target_percent"].widget.attrs.update(step="any", min=1, max=100)
        self.fields["max_occupancy_percent"].widget.attrs.update(step="any", min=1, max=100)
        self.fields["shrinkage_percent"].widget.attrs.update(step="any", min=0, max=95)

    def rules_changes(self) -> dict:
        """The cleaned rules as ChannelRules fields (blank measured times stay measured)."""
        data = self.cleaned_data
        return {"mode": data["mode"], "method": data["method"], "target": data["target_percent"] / 100,
                "within_seconds": data["within_seconds"], "within_hours": data["within_hours"],
                "handle_time": data["handle_time_seconds"], "patience": data["patience_seconds"],
                "concurrency": data["concurrency"], "max_occupancy": data["max_occupancy_percent"] / 100,
                "shrinkage": data["shrinkage_percent"] / 100}


class StaffingQueryForm(forms.Form):
    channel = forms.CharField(required=False, max_length=50)
    weeks = forms.IntegerField(required=False, min_value=1, max_value=52, label="Weeks of history")
    week = forms.TypedChoiceField(required=False, label="Plan for", empty_value=None,
                                  coerce=lambda value: date.fromisoformat(value))

    def __init__(self, *args, mondays: list[date] = (), **kwargs):
        super().__init__(*args, **kwargs)
        labels = [("", "A typical week (the mean of the weeks read)")]
        for n, monday in enumerate(mondays):
            under_way = " (under way)" if n == 0 else ""
            labels.append((monday.isoformat(), f"The week of {monday:%-d %b %Y}{under_way}: forecast"))
        self.fields["week"].choices = labels
