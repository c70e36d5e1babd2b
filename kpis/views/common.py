"""What every KPI page shares: the period picker's reading of the query, the freshness of
the snapshots shown (and the "Recompute now" progress), and trend lines with the period
under way drawn apart."""
from datetime import date, timedelta

from chartkick.django import LineChart

from kpis import periods as kpi_periods
from kpis.forms import PERIOD_LABELS, PeriodForm
from kpis.periods import RANGE, Period, period_of, periods_ending
from kpis.registry import KPIS
from kpis.selectors.recomputes import kpi_recompute_latest, snapshots_computed_at


def local_today(request) -> date:
    """Today in the workspace's time zone (``kpis.periods.local_today``, the clock of the
    like-for-like comparisons): the default period is the one it falls in."""
    return kpi_periods.local_today(request.tenant.time_zone)


def period_form(request) -> tuple[PeriodForm, dict]:
    today = local_today(request)
    form = PeriodForm(request.GET or None, today=today)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data
    fallback = {"period": "month", "date": today, "start": today - timedelta(days=29), "end": today}
    if form.is_bound:  # invalid: say why, and show the current month meanwhile
        return form, fallback
    return PeriodForm(initial=fallback, today=today), fallback


def form_status(form) -> int:
    """A page whose period picker was refused still shows (the current month, with the
    form's errors), but answers 400: the request asked for something it did not get."""
    return 400 if form.errors else 200


def selected_period(query: dict, kinds=PERIOD_LABELS) -> Period:
    """The period picked with the period picker (a custom range, or the period of its kind
    containing the date; month when the kind does not apply)."""
    if query["period"] == RANGE:
        return Period(RANGE, query["start"], query["end"] + timedelta(days=1))
    return period_of(query["period"] if query["period"] in kinds else "month", query["date"])


def page_context(request) -> tuple[Period, dict]:
    form, query = period_form(request)
    period = selected_period(query)
    return period, {"form": form, "query": query, "period": period, "period_last": period.end - timedelta(days=1),
                    "periods": list(PERIOD_LABELS.items())}


def freshness(request, *, keys: list[str], kind: str, since: date, until: date, segment_kind: str | None = None) -> dict:
    """When the snapshots shown were computed (custom ranges are computed live), and for team
    leads the latest recompute, for the "Recompute now" button and its progress."""
    computed_at = None if kind == RANGE else snapshots_computed_at(
        keys=keys, period_kind=kind, since=since, until=until, segment_kind=segment_kind)
    return {"computed_at": computed_at, "computed_live": kind == RANGE,
            **(recompute_context(kpi_recompute_latest()) if request.user.is_team_lead else {})}


def sparkline_span(kind: str, anchor: date) -> dict:
    """The days of the dashboard's sparklines: the 12 periods ending with the one shown."""
    if kind == RANGE:
        return {"since": anchor, "until": anchor}
    shown = periods_ending(kind, anchor)
    return {"since": shown[0].start, "until": shown[-1].end}


def recompute_context(job) -> dict:
    if job is None:
        return {"recompute": None}
    labels = [KPIS[key].label for key in job.keys if key in KPIS]
    return {"recompute": job, "recompute_labels": labels, "recompute_total": job.kpis_total or len(labels) or len(KPIS)}


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


def current_label(point: dict) -> str:
    """"Dec 1–5" of "Dec 1–5 vs Nov 1–5"."""
    return point["comparison"].split(" vs ")[0]


def trend_line(series_by_name: dict[str, list[dict]], *, missing=None, plain=(), **options) -> LineChart:
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
                              partial_name=f"{name} · {current_label(begun[-1]) if begun else ''} (to date)")
    return LineChart(data, height="280px", curve=False, legend="bottom" if len(data) > 1 else False, **options)

