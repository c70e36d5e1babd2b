"""KPI pages: the dashboard of every KPI and one page per KPI. Views validate the query,
call selectors and render; charts are drawn by Chartkick's bundled Chart.js (no CDN)."""
from datetime import date, timedelta

from chartkick.django import BarChart, ColumnChart, LineChart
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kpis import periods as kpi_periods
from kpis import selectors
from kpis.forms import KpiSettingsForm
from kpis.models import KpiRecompute
from kpis.periods import RANGE, Period, period_of, period_start
from kpis.registry import KPIS, SEGMENTS, contract_order
from kpis.selectors import UNCERTAINTY, dashboard_cards, kpi_direction, kpi_series, segment_labels
from kpis.services import kpi_recompute_request, kpi_settings_get, kpi_settings_update
from kpis.settings_uses import settings_in_force
from tenants.accounts.decorators import member_required, team_lead_required
from tenants.forms import form_apply

PERIOD_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year", RANGE: "Custom"}


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=list(PERIOD_LABELS.items()), required=False)
    date = forms.DateField(required=False, label="Showing the period of", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, today: date, **kwargs):
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


def _today(request) -> date:
    """Today in the workspace's time zone (``kpis.periods.local_today``, the clock of the
    like-for-like comparisons): the default period is the one it falls in."""
    return kpi_periods.local_today(request.tenant.time_zone)


def _period_form(request) -> tuple[PeriodForm, dict]:
    today = _today(request)
    form = PeriodForm(request.GET or None, today=today)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data
    fallback = {"period": "month", "date": today, "start": today - timedelta(days=29), "end": today}
    if form.is_bound:  # invalid: say why, and show the current month meanwhile
        return form, fallback
    return PeriodForm(initial=fallback, today=today), fallback


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
            card["chart"] = LineChart(
                partial_lines(card["spark"], name=card["kpi"].label, partial=card["partial"],
                              partial_name=f"{card['current_label']} (to date)"),
                height="48px", points=False, discrete=True,
                library={"plugins": {"legend": {"display": False}, "tooltip": {"enabled": True}},
                         "scales": {"x": {"display": False}, "y": {"display": False}}})
        title = period_of(query["period"], query["date"]).label
    freshness = _freshness(request, keys=list(KPIS), kind=query["period"], segment_kind="",
                           **_sparkline_span(query["period"], query["date"]))
    # Every card of one period shares its comparison (revenue KPIs may differ: whole months).
    comparison = next((card for card in cards if card["supported"]), None)
    return render(request, "kpis/dashboard.html", {
        "form": form, "query": query, "cards": cards, "title": title, "comparison": comparison,
        **workspace_setup_counts(), **freshness})


def _range_cards(start: date, end: date) -> list[dict]:
    settings = kpi_settings_get()
    cards = []
    for kpi in sorted(KPIS.values(), key=lambda kpi: contract_order(kpi.key)):
        [entry] = kpi_series(key=kpi.key, period=RANGE, start=start, end=end, settings=settings)
        cards.append({"kpi": kpi, "direction": kpi_direction(kpi=kpi, targets=settings.targets), "supported": True,
                      "value": entry["value"], "previous": entry["previous_value"],
                      "change": None if entry["value"] is None or entry["previous_value"] is None
                      else entry["value"] - entry["previous_value"],
                      "target": entry["target"], "status": entry["status"], "spark": [], "partial": False,
                      "period_complete": entry["period_complete"], "comparison": entry["comparison"],
                      "current_label": _current_label(entry),
                      "previous_start": entry["previous_start"], "previous_end": entry["previous_end"],
                      **{name: entry[name] for name in UNCERTAINTY}})
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
        labels = segment_labels(segment, [row["segment"] for row in rows])
        for row in rows:
            row["label"] = labels[row["segment"]]
        breakdowns.append({"segment": SEGMENTS[segment], "rows": rows,
                           "chart": ColumnChart({row["label"]: round(row["value"], 2) for row in rows[:20]},
                                                height="220px") if rows else None})
    points = [(row["period_start"].isoformat(), None if row["value"] is None else round(row["value"], 2))
              for row in trend]
    trend_chart = LineChart(partial_lines(points, name=kpi.label, partial=not latest["period_complete"],
                                          partial_name=f"{_current_label(latest)} (to date)"),
                            height="280px", suffix=kpi.unit if kpi.unit == "%" else "")
    return render(request, "kpis/kpi.html", {
        "kpi": kpi, "form": form, "query": query, "kind": kind, "trend": list(reversed(trend)), "latest": latest,
        "trend_chart": trend_chart, "breakdowns": breakdowns, "settings": settings.as_params(),
        "in_force": settings_in_force(kpi, settings.as_params()), "target": settings.targets.get(key),
        **_freshness(request, keys=[key], kind=kind, since=start, until=end),
        "periods": [(k, v) for k, v in PERIOD_LABELS.items() if k in kpi.period_kinds or k == RANGE],
        **_drilldown_context(request, kpi, latest, settings),
    })




# The period under way, drawn apart on every trend: dashed, with diamond points, in the
# first series' colour (Chartkick's first default colour), named "Dec 1–5 (to date)" in
# the legend. Plain Chart.js dataset options passed through Chartkick's per-series
# ``dataset``: no script of ours runs on the page.
PARTIAL_DATASET = {"borderDash": [6, 4], "borderColor": "#3366CC", "backgroundColor": "#3366CC",
                   "pointStyle": "rectRot", "pointRadius": 5, "pointHoverRadius": 6}


def partial_lines(points: list[tuple[str, float | None]], *, name: str, partial: bool, partial_name: str) -> list[dict]:
    """Chartkick series for a trend whose last point may be a period still under way: the
    complete periods as one solid line and, when ``partial``, the last segment (from the
    last complete period to the one under way) as a dashed one named ``partial_name``."""
    if not partial or not points:
        return [{"name": name, "data": dict(points)}]
    return [{"name": name, "data": dict(points[:-1])},
            {"name": partial_name, "data": dict(points[-2:]), "dataset": PARTIAL_DATASET}]


def _current_label(point: dict) -> str:
    """"Dec 1–5" of "Dec 1–5 vs Nov 1–5"."""
    return point["comparison"].split(" vs ")[0]


# --- Recompute now, computed-at and the KPI settings page ---------------------------------

def _freshness(request, *, keys: list[str], kind: str, since: date, until: date, segment_kind: str | None = None) -> dict:
    """When the snapshots shown were computed (custom ranges are computed live), and for team
    leads the latest recompute, for the "Recompute now" button and its progress."""
    from kpis.selectors import kpi_recompute_latest, snapshots_computed_at

    computed_at = None if kind == RANGE else snapshots_computed_at(
        keys=keys, period_kind=kind, since=since, until=until, segment_kind=segment_kind)
    return {"computed_at": computed_at, "computed_live": kind == RANGE,
            **(_recompute_context(kpi_recompute_latest()) if request.user.is_team_lead else {})}


def _sparkline_span(kind: str, anchor: date) -> dict:
    """The days of the dashboard's sparklines: the 12 periods ending with the one shown."""
    if kind == RANGE:
        return {"since": anchor, "until": anchor}
    current = first = period_of(kind, anchor)
    for _ in range(11):
        first = first.previous()
    return {"since": first.start, "until": current.end}


def _recompute_context(job) -> dict:
    if job is None:
        return {"recompute": None}
    labels = [KPIS[key].label for key in job.keys if key in KPIS]
    return {"recompute": job, "recompute_labels": labels, "recompute_total": job.kpis_total or len(labels) or len(KPIS)}


def _back(request, fallback: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_POST
@team_lead_required
def recompute_now(request):
    """The "Recompute now" button: queue a recompute of every snapshot, back to the page."""
    kpi_recompute_request()
    messages.success(request, "Recomputing every KPI. This page shows the progress.")
    return redirect(_back(request, reverse("dashboard")))


@team_lead_required
def recompute_progress(request, pk):
    """The state of a recompute, polled by the pages showing its progress."""
    job = get_object_or_404(KpiRecompute, pk=pk)
    return JsonResponse({
        "status": job.status, "status_label": job.get_status_display(), "progress": job.progress,
        "kpis_done": job.kpis_done, "kpis_total": job.kpis_total, "finished": job.is_finished, "error": job.error,
    })


def _settings_saved(update) -> str:
    if update.recompute is not None:
        return f"KPI settings saved. Recomputing {', '.join(KPIS[key].label for key in update.keys)}."
    if update.affected:
        return "KPI settings saved. Targets only change a value's status: nothing to recompute."
    return "Nothing changed."


@team_lead_required
def kpi_settings(request):
    """Settings → KPIs: the definitions in force and the targets (team lead)."""
    from kpis.selectors import conversation_channels, kpi_recompute_latest

    settings = kpi_settings_get()
    form = KpiSettingsForm(request.POST or None, settings=settings, channels=conversation_channels())
    if request.method == "POST" and form_apply(
            request, form, lambda data: kpi_settings_update(settings=settings, **form.changes()), _settings_saved):
        return redirect("kpis:kpi_settings")
    return render(request, "kpis/settings.html", {"form": form, **_recompute_context(kpi_recompute_latest())},
                  status=400 if form.errors else 200)


# --- Drill-down (the records behind a KPI's value) -----------------------------------------

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


def _drilldown_query(request, kpi, latest) -> dict:
    """The drill-down's period (the one the KPI page shows last), segment value and band."""
    form = DrilldownForm(request.GET, kpi=kpi)
    data = form.cleaned_data if form.is_valid() else {"segment": None, "value": "", "band": ""}
    return {"since": latest["period_start"], "until": latest["period_end"] + timedelta(days=1),
            "segment": data["segment"], "value": data["value"] if data["segment"] else "", "band": data["band"]}


def _drilldown_context(request, kpi, latest, settings) -> dict:
    if not selectors.kpi_has_drilldown(kpi):
        return {"drilldown": None}
    query = _drilldown_query(request, kpi, latest)
    bands, rows = selectors.kpi_drilldown(kpi=kpi, settings=settings, **query)
    page = Paginator(rows, selectors.DRILLDOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {"drilldown": {"page": page, "columns": rows.columns, "bands": bands, "query": query,
                          "segment": SEGMENTS.get(query["segment"]) if query["segment"] else None,
                          "total": sum(bands.values()), "params": params.urlencode(),
                          "band_label": kpi.drilldown_band,
                          "value_label": segment_labels(query["segment"], [query["value"]])[query["value"]]
                          if query["segment"] else ""}}


@member_required
def kpi_drilldown_csv(request, key):
    """The whole drill-down list of the KPI page's period (segment value, band) as CSV,
    streamed."""
    kpi = KPIS.get(key)
    if kpi is None or not selectors.kpi_has_drilldown(kpi):
        raise Http404("No such KPI or no records behind it")
    _, query = _period_form(request)
    period = _selected_period(query, kpi.period_kinds)
    latest = {"period_start": period.start, "period_end": period.end - timedelta(days=1)}
    drill = _drilldown_query(request, kpi, latest)
    response = StreamingHttpResponse(selectors.kpi_drilldown_csv(kpi=kpi, **drill), content_type="text/csv; charset=utf-8")
    suffix = f"-{drill['segment']}-{drill['value']}" if drill["segment"] else ""
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{key}-{period.start}{suffix}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# --- Support efficiency, active users, social ----------------------------------------------

def _selected_period(query: dict, kinds=PERIOD_LABELS) -> Period:
    """The period picked with the period picker (a custom range, or the period of its kind
    containing the date; month when the kind does not apply)."""
    if query["period"] == RANGE:
        return Period(RANGE, query["start"], query["end"] + timedelta(days=1))
    return period_of(query["period"] if query["period"] in kinds else "month", query["date"])


def _page_context(request) -> tuple[Period, dict]:
    form, query = _period_form(request)
    period = _selected_period(query)
    return period, {"form": form, "query": query, "period": period, "period_last": period.end - timedelta(days=1),
                    "periods": list(PERIOD_LABELS.items())}


def _line(series_by_name: dict[str, list[dict]], *, missing=None, plain=(), **options) -> LineChart:
    """One line per named series of kpi_series entries (``missing`` where a period has no
    value: None leaves a gap), the period under way dashed (``partial_lines``) except for
    the ``plain`` ones (marks such as spike alerts); periods not begun yet are left out
    (no value yet, not a value of ``missing``). A legend only for several lines."""
    data = []
    for name, series in series_by_name.items():
        begun = [row for row in series if row["period_complete"] or row["previous_start"] is not None]
        points = [(row["period_start"].isoformat(), missing if row["value"] is None else round(row["value"], 2))
                  for row in begun]
        partial = name not in plain and bool(begun) and not begun[-1]["period_complete"]
        data += partial_lines(points, name=name, partial=partial,
                              partial_name=f"{name} · {_current_label(begun[-1]) if begun else ''} (to date)")
    return LineChart(data, height="280px", curve=False, legend="bottom" if len(data) > 1 else False, **options)


@member_required
def support_efficiency(request):
    period, context = _page_context(request)
    settings = kpi_settings_get()
    support = selectors.support_efficiency(period=period, settings=settings)
    by_agent = {row["agent"] or "(none)": row["conversations"] for row in support["agents"] if row["conversations"]}
    by_channel = {channel or "(none)": round(row["value"], 2) for channel, row in support["by_channel"].items()
                  if row["value"] is not None}
    return render(request, "kpis/support.html", {
        **context, "support": support, "kpis": KPIS, "sla_note": f"within {settings.sla_target_hours:g} h",
        "agents_chart": BarChart(by_agent, height=f"{max(160, 28 * len(by_agent))}px") if by_agent else None,
        "channel_chart": ColumnChart(by_channel, height="220px", suffix="%") if by_channel else None,
    })


@member_required
def active_users(request):
    period, context = _page_context(request)
    figures = selectors.active_users(period=period)
    series = figures["series"]
    users = {KPIS[key].label: series[key] for key in ("dau", "wau", "mau") if key in series}
    # Cohorts: sign-up weeks of the period, and at least the 12 weeks up to its end.
    last_week = period_start("week", period.end - timedelta(days=1))
    since = period_start("week", min(period.start, last_week - timedelta(weeks=11)))
    return render(request, "kpis/active_users.html", {
        **context, "figures": figures, "kpis": KPIS,
        "users_chart": _line(users) if users else None,
        "stickiness_chart": _line({"Stickiness": series["stickiness"]}, suffix="%") if "stickiness" in series else None,
        "cohorts": selectors.signup_cohorts(since=since, until=period.end, today=_today(request)),
        "cohorts_since": since,
    })


@member_required
def social(request):
    period, context = _page_context(request)
    figures = selectors.social_page(period=period)
    spikes = {spike.day for spike in figures["spikes"]}
    lines = {"Own-brand mentions": figures["volume"]}
    if figures["chart_kind"] == "day" and spikes:
        lines["Spike alert"] = [row for row in figures["volume"] if row["period_start"] in spikes]
    return render(request, "kpis/social.html", {
        # A day without mentions had a volume of 0; a day without mentions has no sentiment.
        **context, "figures": figures, "kpis": KPIS, "volume_chart": _line(lines, missing=0, plain=("Spike alert",)),
        "sentiment_chart": _line({"Net sentiment": figures["sentiment"]}, library={"spanGaps": True}),
    })
