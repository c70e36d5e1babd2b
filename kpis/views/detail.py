"""One KPI's page: its trend over the last periods, its breakdowns by segment, the
definitions in force, and the drill-down to the records behind the value (with CSV export)."""
from datetime import timedelta

from chartkick.django import ColumnChart, LineChart
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render

from kpis.forms import PERIOD_LABELS, DrilldownForm
from kpis.models import KpiSettings
from kpis.periods import RANGE, periods_ending
from kpis.registry import KPIS, SEGMENTS
from kpis.selectors import drilldown as drilldown_selectors
from kpis.selectors.values import kpi_direction, kpi_series, segment_labels
from kpis.settings_uses import settings_in_force
from kpis.views.common import current_label, form_status, freshness, partial_lines, period_form, selected_period
from tenants.accounts.decorators import member_required


@member_required
def kpi_detail(request, key):
    kpi = KPIS.get(key)
    if kpi is None:
        raise Http404("No such KPI")
    form, query = period_form(request)
    kind = query["period"] if query["period"] in kpi.period_kinds else (RANGE if query["period"] == RANGE else "month")
    settings = KpiSettings.load()
    if kind == RANGE:
        start, end = query["start"], query["end"] + timedelta(days=1)
        trend = kpi_series(key=key, period=RANGE, start=start, end=end, settings=settings)
    else:
        shown = periods_ending(kind, query["date"])
        start, end = shown[0].start, shown[-1].end
        trend = kpi_series(key=key, period=kind, start=start, end=end, settings=settings)
    latest = trend[-1]
    breakdowns = []
    for segment in kpi.segments:
        rows = [row for row in kpi_series(key=key, period=kind, start=latest["period_start"],
                                           end=latest["period_end"] + timedelta(days=1), segment=segment, settings=settings)
                if row["value"] is not None]
        rows.sort(key=lambda row: row["denominator"] or 0, reverse=True)
        labels = segment_labels(segment, [row["segment"] for row in rows])
        for row in rows:
            row["label"] = labels[row["segment"]]
        breakdowns.append({"segment": SEGMENTS[segment], "rows": rows,
                           "chart": ColumnChart({row["label"]: round(row["value"], 2) for row in rows[:20]},
                                                height="220px") if rows else None})
    points = [(row["period_start"].isoformat(), None if row["value"] is None else round(row["value"], 2))
              for row in trend]
    trend_chart = LineChart(partial_lines(points, name=kpi.label, partial=not latest["period_complete"],
                                          partial_name=f"{current_label(latest)} (to date)"),
                            height="280px", suffix=kpi.unit if kpi.unit == "%" else "")
    return render(request, "kpis/kpi.html", {
        "kpi": kpi, "form": form, "query": query, "kind": kind, "trend": list(reversed(trend)), "latest": latest,
        "trend_chart": trend_chart, "breakdowns": breakdowns, "settings": settings.as_params(),
        "in_force": settings_in_force(kpi, settings.as_params()), "target": settings.targets.get(key),
        "direction": kpi_direction(kpi=kpi, targets=settings.targets),
        **freshness(request, keys=[key], kind=kind, since=start, until=end),
        "periods": [(k, v) for k, v in PERIOD_LABELS.items() if k in kpi.period_kinds or k == RANGE],
        **_drilldown_context(request, kpi, latest, settings),
    }, status=form_status(form))


def _drilldown_query(request, kpi, latest) -> dict:
    """The drill-down's period (the one the KPI page shows last), segment value and band."""
    form = DrilldownForm(request.GET, kpi=kpi)
    data = form.cleaned_data if form.is_valid() else {"segment": None, "value": "", "band": ""}
    return {"since": latest["period_start"], "until": latest["period_end"] + timedelta(days=1),
            "segment": data["segment"], "value": data["value"] if data["segment"] else "", "band": data["band"]}


def _drilldown_context(request, kpi, latest, settings) -> dict:
    if not drilldown_selectors.kpi_has_drilldown(kpi):
        return {"drilldown": None}
    query = _drilldown_query(request, kpi, latest)
    bands, rows = drilldown_selectors.kpi_drilldown(kpi=kpi, settings=settings, **query)
    page = Paginator(rows, drilldown_selectors.DRILLDOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {"drilldown": {"page": page, "columns": rows.columns, "bands": bands, "query": query,
                          "segment": SEGMENTS.get(query["segment"]) if query["segment"] else None,
                          "total": sum(bands.values()), "params": params.urlencode(),
                          "band_label": kpi.drilldown_band,
                          # The cell (after the band) linked to the customer's page, if any.
                          "customer_cell": rows.columns.index("Customer") + 1 if "Customer" in rows.columns else None,
                          "value_label": segment_labels(query["segment"], [query["value"]])[query["value"]]
                          if query["segment"] else ""}}


@member_required
def kpi_drilldown_csv(request, key):
    """The whole drill-down list of the KPI page's period (segment value, band) as CSV,
    streamed."""
    kpi = KPIS.get(key)
    if kpi is None or not drilldown_selectors.kpi_has_drilldown(kpi):
        raise Http404("No such KPI or no records behind it")
    form, query = period_form(request)
    if form.errors:
        messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"No CSV for that period. {messages}", content_type="text/plain; charset=utf-8")
    period = selected_period(query, kpi.period_kinds)
    latest = {"period_start": period.start, "period_end": period.end - timedelta(days=1)}
    drill = _drilldown_query(request, kpi, latest)
    response = StreamingHttpResponse(drilldown_selectors.kpi_drilldown_csv(kpi=kpi, **drill), content_type="text/csv; charset=utf-8")
    suffix = f"-{drill['segment']}-{drill['value']}" if drill["segment"] else ""
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{key}-{period.start}{suffix}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response

