"""KPI pages: the dashboard of every KPI and one page per KPI. Views validate the query,
call selectors and render; charts are drawn by Chartkick's bundled Chart.js (no CDN)."""
from datetime import date, timedelta

from chartkick.django import ColumnChart, LineChart
from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from kpis.periods import RANGE, period_of
from kpis.registry import KPIS, SEGMENTS
from kpis.selectors import dashboard_cards, kpi_series, margin_of_error
from kpis.services import kpi_settings_get
from tenants.accounts.decorators import member_required

PERIOD_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year", RANGE: "Custom"}


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=list(PERIOD_LABELS.items()), required=False)
    date = forms.DateField(required=False, label="Showing the period of", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "month"
        data["date"] = data.get("date") or timezone.localdate()
        if data["period"] == RANGE:
            data["end"] = data.get("end") or timezone.localdate()
            data["start"] = data.get("start") or data["end"] - timedelta(days=29)
            if data["start"] > data["end"]:
                self.add_error("start", "The first day must be on or before the last.")
        return data


def _period_form(request) -> tuple[PeriodForm, dict]:
    form = PeriodForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data
    today = timezone.localdate()
    fallback = {"period": "month", "date": today, "start": today - timedelta(days=29), "end": today}
    if form.is_bound:  # invalid: say why, and show the current month meanwhile
        return form, fallback
    return PeriodForm(initial=fallback), fallback


@member_required
def dashboard(request):
    from tenants.accounts.selectors import workspace_setup_counts

    form, query = _period_form(request)
    if query["period"] == RANGE:
        cards = _range_cards(query["start"], query["end"] + timedelta(days=1))
        title = f"{query['start']:%-d %b %Y} – {query['end']:%-d %b %Y}"
    else:
        cards = dashboard_cards(period=query["period"], anchor=query["date"])
        for card in cards:
            card["chart"] = LineChart(dict(card["spark"]), height="48px", points=False, discrete=True,
                                      library={"plugins": {"legend": {"display": False}, "tooltip": {"enabled": True}},
                                               "scales": {"x": {"display": False}, "y": {"display": False}}})
        title = period_of(query["period"], query["date"]).label
    return render(request, "kpis/dashboard.html", {
        "form": form, "query": query, "cards": cards, "title": title, **workspace_setup_counts()})


def _range_cards(start: date, end: date) -> list[dict]:
    settings = kpi_settings_get()
    cards = []
    for kpi in KPIS.values():
        [entry] = kpi_series(key=kpi.key, period=RANGE, start=start, end=end, settings=settings)
        cards.append({"kpi": kpi, "supported": True, "value": entry["value"], "previous": entry["previous_value"],
                      "change": None if entry["value"] is None or entry["previous_value"] is None
                      else entry["value"] - entry["previous_value"],
                      "target": entry["target"], "status": entry["status"], "margin": None, "spark": []})
    return cards


@member_required
def kpi_detail(request, key):
    kpi = KPIS.get(key)
    if kpi is None:
        raise Http404("No such KPI")
    form, query = _period_form(request)
    kind = query["period"] if query["period"] in kpi.period_kinds else (RANGE if query["period"] == RANGE else "month")
    settings = kpi_settings_get()
    if kind == RANGE:
        start, end = query["start"], query["end"] + timedelta(days=1)
        trend = kpi_series(key=key, period=RANGE, start=start, end=end, settings=settings)
    else:
        current = period_of(kind, query["date"])
        first = current
        for _ in range(11):
            first = first.previous()
        start, end = first.start, current.end
        trend = kpi_series(key=key, period=kind, start=start, end=end, settings=settings)
    latest = trend[-1]
    breakdowns = []
    for segment in kpi.segments:
        rows = [row for row in kpi_series(key=key, period=kind, start=latest["period_start"],
                                           end=latest["period_end"] + timedelta(days=1), segment=segment, settings=settings)
                if row["value"] is not None]
        rows.sort(key=lambda row: row["denominator"] or 0, reverse=True)
        breakdowns.append({"segment": SEGMENTS[segment], "rows": rows,
                           "chart": ColumnChart({row["segment"] or "(none)": round(row["value"], 2) for row in rows[:20]},
                                                height="220px") if rows else None})
    trend_chart = LineChart({row["period_start"].isoformat(): None if row["value"] is None else round(row["value"], 2)
                             for row in trend}, height="280px", suffix=kpi.unit if kpi.unit == "%" else "")
    return render(request, "kpis/kpi.html", {
        "kpi": kpi, "form": form, "query": query, "kind": kind, "trend": list(reversed(trend)), "latest": latest,
        "trend_chart": trend_chart, "breakdowns": breakdowns, "settings": settings.as_params(),
        "margin": margin_of_error(kpi, _latest_snapshot(kpi, kind, latest)),
        "periods": [(k, v) for k, v in PERIOD_LABELS.items() if k in kpi.period_kinds or k == RANGE],
    })


def _latest_snapshot(kpi, kind, latest):
    from kpis.models import KpiSnapshot

    if kind == RANGE:
        return None
    return KpiSnapshot.objects.filter(kpi=kpi.key, period_kind=kind, period_start=latest["period_start"],
                                      segment_kind="").first()

