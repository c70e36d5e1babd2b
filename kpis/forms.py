"""The KPI pages' forms: the period picker, the drill-down's narrowing, and the KPI
settings. Fields only parse what was typed; the settings' rules (bounds, at least one event
name, business hours set) live in ``kpis.services.settings.kpi_settings_update``, so every caller
gets the same messages."""
import datetime
from datetime import timedelta

from django import forms

from kpis.alerting import ANOMALY_MIN_HISTORY
from kpis.periods import KINDS, RANGE

from kpis.registry import HIGHER, KPIS, LOWER
from kpis.services.settings import SETTING_BOUNDS
from kpis.settings_uses import SETTING_LABELS
from tenants.inputs import CalendarDateField

DIRECTIONS = [(HIGHER, "Higher is better"), (LOWER, "Lower is better")]
UNIT_LABELS = {"%": "%", "hours": "hours", "score": "points", "count": "count", "users": "users"}


def _number(value) -> str | None:
    """24.0 as 24, 0.5 as 0.5."""
    return None if value is None else f"{value:g}"


def _bounded(field_class, name: str, label: str, help_text: str, step: str, required: bool = True):
    low, high, _ = SETTING_BOUNDS[name]
    return field_class(label=label, help_text=help_text, required=required,
                       widget=forms.NumberInput(attrs={"min": low, "max": high, "step": step}))


def _event_names(name: str, help_text: str):
    return forms.CharField(label=SETTING_LABELS[name], max_length=4000, help_text=help_text,
                           widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}))


class KpiSettingsForm(forms.Form):
    visit_events = _event_names("visit_events", "Conversion rate's denominator. Comma-separated, e.g. visit, page_view.")
    conversion_events = _event_names(
        "conversion_events", "Conversion rate's numerator and completed checkouts. Comma-separated.")
    checkout_events = _event_names("checkout_events", "Initiated checkouts, for checkout abandonment. Comma-separated.")
    activation_events = _event_names("activation_events", "Events that make a new user activated. Comma-separated.")
    activation_window_days = _bounded(forms.IntegerField, "activation_window_days", "Activation window (days)",
                                      "A new user counts as activated with an activation event this many days "
                                      "after signing up, at most.", "1")
    repeat_contact_window_days = _bounded(
        forms.IntegerField, "repeat_contact_window_days", "Repeat-contact window (days)",
        "FCR: a customer coming back within this many days of the resolution was not helped at first contact.", "1")
    fcr_include_abandoned = forms.BooleanField(
        label="Count abandoned conversations in first contact resolution", required=False,
        help_text="Off: FCR's denominator leaves abandoned conversations out (the default).")
    sla_target_hours = _bounded(forms.FloatField, "sla_target_hours", "Resolution SLA target (hours)",
                                "SLA attainment: the share of conversations resolved within this many hours.", "any")
    business_hours_mttr = forms.BooleanField(
        label="Count only business hours in mean time to resolution", required=False,
        help_text="Only the opening hours set in Workspace settings count, holidays excluded; editing them "
                  "recomputes it.")
    min_sample_size = _bounded(
        forms.IntegerField, "min_sample_size", "Minimum sample size",
        "Below this many answers, conversations or users a value is greyed \"too few to judge\": no confidence "
        "interval, no target status, no significance claim. Counts and money KPIs are never too few. Left empty: unchanged.", "1", required=False)
    voice_channels = forms.MultipleChoiceField(
        label="Voice channels", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Conversation KPIs split by channel kind: these are voice, every other channel is text.")

    def __init__(self, *args, settings, channels: list[str], **kwargs):
        initial = {name: getattr(settings, name) for name in SETTING_LABELS}
        for name in ("visit_events", "conversion_events", "checkout_events", "activation_events"):
            initial[name] = ", ".join(initial[name])
        initial["sla_target_hours"] = _number(settings.sla_target_hours)
        initial["min_sample_size"] = settings.min_sample_size
        for key, kpi in KPIS.items():
            target = settings.targets.get(key) or {}
            initial[f"target_{key}"] = _number(target.get("target"))
            initial[f"direction_{key}"] = target.get("direction") or kpi.direction
        super().__init__(*args, initial=initial, **kwargs)
        # Channels set as voice earlier but absent from the data stay offered, so they can be unset.
        offered = [*channels, *(c for c in settings.voice_channels if c not in channels)]
        self.fields["voice_channels"].choices = [(channel, channel) for channel in offered]
        for key, kpi in KPIS.items():
            unit = UNIT_LABELS.get(kpi.unit, kpi.unit)
            self.fields[f"target_{key}"] = forms.FloatField(
                label=f"{kpi.label} target ({unit})", required=False,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
            self.fields[f"direction_{key}"] = forms.ChoiceField(label=f"{kpi.label}: better when", choices=DIRECTIONS)

    def target_rows(self):
        """(KPI, its unit's label, target field, direction field) per registered KPI."""
        return [(kpi, UNIT_LABELS.get(kpi.unit, kpi.unit), self[f"target_{key}"], self[f"direction_{key}"])
                for key, kpi in KPIS.items()]

    def changes(self) -> dict:
        """The valid form as the arguments of ``kpi_settings_update``."""
        data = self.cleaned_data
        changes = {name: data[name] for name in SETTING_LABELS}
        if data.get("min_sample_size") is not None:
            changes["min_sample_size"] = data["min_sample_size"]
        changes["targets"] = {key: {"target": data[f"target_{key}"], "direction": data[f"direction_{key}"]}
                              for key, kpi in KPIS.items()
                              if data.get(f"target_{key}") is not None or data[f"direction_{key}"] != kpi.direction}
        return changes


PERIOD_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year", RANGE: "Custom"}


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=list(PERIOD_LABELS.items()), required=False)
    date = CalendarDateField(required=False, label="Showing the period of", widget=forms.DateInput(attrs={"type": "date"}))
    start = CalendarDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = CalendarDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "month"
        data["date"] = data.get("date") or self.today
        if data["period"] == RANGE:
            data["end"] = data.get("end") or self.today
            data["start"] = data.get("start") or data["end"] - timedelta(days=29)
            if data["start"] > data["end"]:
                self.add_error("start", "The first day must be on or before the last.")
        return data


class DrilldownForm(forms.Form):
    """?segment=<kind>&value=<v> narrows the list to one segment value; ?band= to one band."""

    segment = forms.CharField(required=False)
    value = forms.CharField(required=False, max_length=255)
    band = forms.CharField(required=False, max_length=40)

    def __init__(self, *args, kpi, **kwargs):
        super().__init__(*args, **kwargs)
        self.kpi = kpi

    def clean_segment(self):
        segment = self.cleaned_data["segment"] or None
        return segment if segment in self.kpi.segments else None



class AlertRuleForm(forms.Form):
    """A new alert rule. Every combination that could never fire, or could never be
    judged, is a form error here: the service trusts what this lets through."""

    kpi = forms.ChoiceField(label="KPI")
    kind = forms.ChoiceField(label="Alert when the value", choices=[
        ("threshold", "Crosses a bound"), ("off_target", "Turns off target"), ("anomaly", "Leaves its usual range")])
    period_kind = forms.ChoiceField(label="Judged per", choices=[(k, PERIOD_LABELS[k]) for k in KINDS], initial="day")
    segment_kind = forms.ChoiceField(label="For", required=False, help_text="The whole workspace, or each value of a segment "
                                     "on its own (CSAT by channel: one alert per channel).")
    low = forms.FloatField(label="Below", required=False, help_text="Crosses a bound: alert below this value.")
    high = forms.FloatField(label="Above", required=False, help_text="Crosses a bound: alert above this value.")
    k = forms.FloatField(label="Standard deviations", initial=3.0, min_value=0.5, max_value=10,
                         help_text="Usual range: the mean of the previous periods ± this many standard deviations.")
    history = forms.IntegerField(label="Previous periods", initial=28, min_value=ANOMALY_MIN_HISTORY, max_value=366,
                                 help_text="How many finished periods make the usual range.")
    direction = forms.ChoiceField(label="Leaving the usual range", initial="both", required=False, choices=[
        ("both", "Above or below"), ("above", "Above only (spikes)"), ("below", "Below only (drops)")])
    min_history = forms.IntegerField(label="Judge after (periods)", initial=ANOMALY_MIN_HISTORY, min_value=ANOMALY_MIN_HISTORY,
                                     max_value=366, required=False, help_text="Finished periods with data needed before "
                                     "the usual range is trusted (quiet periods of a count are data: 0).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].choices = [(key, kpi.label) for key, kpi in KPIS.items()]
        segments = sorted({segment for kpi in KPIS.values() for segment in kpi.segments})
        self.fields["segment_kind"].choices = [("", "The whole workspace"), *((s, f"Each {s.replace('_', ' ')}") for s in segments)]

    def clean(self):
        data = super().clean()
        kpi = KPIS.get(data.get("kpi"))
        if kpi is None:
            return data
        if data.get("period_kind") and data["period_kind"] not in kpi.period_kinds:
            self.add_error("period_kind", f"{kpi.label} is computed per {', '.join(kpi.period_kinds)}.")
        if data.get("segment_kind") and data["segment_kind"] not in kpi.segments:
            self.add_error("segment_kind", f"{kpi.label} is not split by {data['segment_kind'].replace('_', ' ')}"
                           f"{'; it is split by ' + ', '.join(kpi.segments) if kpi.segments else ''}.")
        data["direction"] = data.get("direction") or "both"
        if data.get("min_history") is None and "min_history" not in self.errors:
            data["min_history"] = ANOMALY_MIN_HISTORY
        history, needed = data.get("history"), data.get("min_history")
        if data.get("kind") == "anomaly" and history is not None and needed is not None and needed > history:
            self.add_error("min_history", f"Judge after at most the {history} previous periods the usual range is made of.")
        low, high = data.get("low"), data.get("high")
        if data.get("kind") == "threshold":
            if low is None and high is None and not {"low", "high"} & set(self.errors):
                self.add_error("low", "Give a value to alert below, above, or both.")
            elif low is not None and high is not None and low >= high:
                self.add_error("high", f"Above ({high:g}) must be more than below ({low:g}): otherwise every value alerts.")
        return data


# --- Digests --------------------------------------------------------------------------------

DIGEST_MAX_CARDS = 12


class DigestSettingsForm(forms.Form):
    """The team lead's choice of the digest's KPI cards: a checkbox per KPI and an optional
    position (1 first); unnumbered ones follow in the dashboard's order."""

    kpis = forms.MultipleChoiceField(label="KPI cards", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, choices, chosen: list[str], **kwargs):
        super().__init__(*args, initial={"kpis": chosen}, **kwargs)
        self.fields["kpis"].choices = choices
        self.order = [key for key, _ in choices]
        for key, label in choices:
            self.fields[f"position_{key}"] = forms.IntegerField(
                label=f"Position of {label}", required=False, min_value=1, max_value=99,
                initial=chosen.index(key) + 1 if key in chosen else None,
                widget=forms.NumberInput(attrs={"min": 1, "max": 99, "class": "position-input"}))

    def rows(self):
        """(checkbox, KPI label, position field) per KPI, for the page's table."""
        boxes = {box.data["value"]: box for box in self["kpis"]}
        return [(boxes[key], label, self[f"position_{key}"]) for key, label in self.fields["kpis"].choices]

    def clean(self):
        data = super().clean()
        chosen = data.get("kpis") or []
        if not chosen and not self.errors:
            raise forms.ValidationError("Choose at least one KPI: a digest without cards says nothing.")
        if len(chosen) > DIGEST_MAX_CARDS:
            raise forms.ValidationError(f"Choose at most {DIGEST_MAX_CARDS} KPIs: a digest is read in a minute.")
        big = DIGEST_MAX_CARDS * 100

        def place(key):
            # On a tie a position just typed wins over one kept from before: typing 1 puts
            # a card first even though the former first card still says 1.
            name = f"position_{key}"
            kept = data.get(name) is not None and data.get(name) == self.fields[name].initial
            return (data.get(name) or big, kept, self.order.index(key))

        data["ordered"] = sorted(chosen, key=place)
        return data


class DigestSubscriptionForm(forms.Form):
    active = forms.BooleanField(label="Email me the digest", required=False)
    frequency = forms.ChoiceField(label="How often", widget=forms.RadioSelect)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["frequency"].choices = choices
