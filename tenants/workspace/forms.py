from django import forms

from tenants.workspace.models import Weekday
from tenants.inputs import CalendarDateField


class BusinessHoursForm(forms.Form):
    """One row per weekday: open or closed, and the opening hours."""

    def __init__(self, *args, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        for weekday, label in Weekday.choices:
            span = current.get(weekday)
            self.fields[f"open_{weekday}"] = forms.BooleanField(label=f"{label} open", required=False, initial=span is not None)
            self.fields[f"opens_{weekday}"] = forms.TimeField(
                label=f"{label} opens at", required=False, initial=span[0] if span else "09:00",
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
            self.fields[f"closes_{weekday}"] = forms.TimeField(
                label=f"{label} closes at", required=False, initial=span[1] if span else "17:00",
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def rows(self):
        return [(label, self[f"open_{day}"], self[f"opens_{day}"], self[f"closes_{day}"]) for day, label in Weekday.choices]

    def clean(self):
        data = super().clean()
        hours = {}
        for weekday, label in Weekday.choices:
            if not data.get(f"open_{weekday}"):
                hours[weekday] = None
                continue
            opens, closes = data.get(f"opens_{weekday}"), data.get(f"closes_{weekday}")
            if opens is None or closes is None:
                self.add_error(f"opens_{weekday}", f"{label}: give opening and closing times, or mark the day closed.")
            else:
                hours[weekday] = (opens, closes)
        data["hours"] = hours
        return data


class HolidayForm(forms.Form):
    date = CalendarDateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label="Name", max_length=120)
