"""The dashboard: one card per KPI for the period picked, with its comparison, target
status, uncertainty and a sparkline. Charts are drawn by Chartkick's bundled Chart.js."""
from datetime import date, timedelta

from chartkick.django import LineChart
from django.shortcuts import render

from kpis.models import KpiSettings
from kpis.periods import RANGE, period_of
from kpis.registry import KPIS, contract_order
from kpis.selectors.values import UNCERTAINTY, dashboard_cards, kpi_direction, kpi_series
from kpis.views.common import current_label, form_status, freshness, partial_lines, period_form, sparkline_span
from tenants.accounts.decorators import member_required
from tenants.accounts.selectors import workspace_setup_counts


@member_required
def dashboard(request):
    form, query = period_form(request)
    if query["period"] == RANGE:
        cards = _range_cards(query["start"], query["end"] + timedelta(days=1))
        title = f"{query['start']:%-d %b %Y} – {query['end']:%-d %b %Y}"
    else:
        cards = dashboard_cards(period=query["period"], anchor=query["date"])
        for card in cards:
            card["chart"] = LineChart(
                partial_lines(card["spark"], name=card["kpi"].label, partial=card["partial"],
                              partial_name=f"{card['current_label']} (to date)"),
                height="48px", points=False, discrete=True,
                library={"plugins": {"legend": {"display": False}, "tooltip": {"enabled": True}},
                         "scales": {"x": {"display": False}, "y": {"display": False}}})
        title = period_of(query["period"], query["date"]).label
    fresh = freshness(request, keys=list(KPIS), kind=query["period"], segment_kind="",
                           **sparkline_span(query["period"], query["date"]))
    # Every card of one period shares its comparison (revenue KPIs may differ: whole months).
    comparison = next((card for card in cards if card["supported"]), None)
    return render(request, "kpis/dashboard.html", {
        "form": form, "query": query, "cards": cards, "title": title, "comparison": comparison,
        **workspace_setup_counts(), **fresh}, status=form_status(form))


def _range_cards(start: date, end: date) -> list[dict]:
    settings = KpiSettings.load()
    cards = []
    for kpi in sorted(KPIS.values(), key=lambda kpi: contract_order(kpi.key)):
        [entry] = kpi_series(key=kpi.key, period=RANGE, start=start, end=end, settings=settings)
        cards.append({"kpi": kpi, "direction": kpi_direction(kpi=kpi, targets=settings.targets), "supported": True,
                      "value": entry["value"], "previous": entry["previous_value"],
                      "change": None if entry["value"] is None or entry["previous_value"] is None
                      else entry["value"] - entry["previous_value"],
                      "target": entry["target"], "status": entry["status"], "spark": [], "partial": False,
                      "period_complete": entry["period_complete"], "comparison": entry["comparison"],
                      "current_label": current_label(entry),
                      "previous_start": entry["previous_start"], "previous_end": entry["previous_end"],
                      **{name: entry[name] for name in UNCERTAINTY}})
    return cards

