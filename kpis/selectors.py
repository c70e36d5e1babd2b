"""Reads of KPI values: series of snapshots per period, live values for custom ranges."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from kpis.definitions._sql import local_day
from kpis.models import KpiSnapshot
from kpis.periods import RANGE, Period, periods_between
from kpis.registry import KPIS, Kpi, Query


def kpi_status(*, kpi: Kpi, value: float | None, targets: dict) -> tuple[float | None, str | None]:
    """(target, "on_target" | "off_target") for a value, or (target, None) without one."""
    setting = targets.get(kpi.key) or {}
    target = setting.get("target")
    if target is None or value is None:
        return target, None
    higher = (setting.get("direction") or kpi.direction) == "higher"
    return target, "on_target" if (value >= target if higher else value <= target) else "off_target"


def _live(kpi: Kpi, period: Period, segment: str | None, settings: dict) -> dict[str, tuple]:
    """Numerator, denominator and extras per segment value of one period, computed from
    the data (custom ranges)."""
    query = Query(since=period.start, until=period.end, time_zone=connection.tenant.time_zone, settings=settings)
    with connection.cursor() as cursor:
        if kpi.rollup == "sum":
            cursor.execute(kpi.day_sql(segment), query.params())
            totals: dict[str, list] = {}
            for _, seg, *figures in cursor.fetchall():
                sums = totals.setdefault(seg or "", [0.0] * len(figures))
                for i, figure in enumerate(figures):
                    sums[i] += float(figure or 0)
            return {seg: tuple(figures) for seg, figures in totals.items()}
        cursor.execute(kpi.period_sql(segment), query.params(starts=[period.start], ends=[period.end]))
        return {(seg or ""): tuple(figures) for _, seg, *figures in cursor.fetchall()}


def kpi_series(*, key: str, period: str, start: date, end: date, segment: str | None = None,
               settings=None) -> list[dict]:
    """The KPI's value for every period of kind ``period`` overlapping [start, end) (or one
    value for the whole range when ``period`` is "range", computed live from the data),
    with the previous period's value, the target and its status; one entry per segment
    value when ``segment`` is given. Periods without data have value None, never 0."""
    from kpis.services import kpi_settings_get

    kpi = KPIS[key]
    settings = settings or kpi_settings_get()
    periods = periods_between(period, start, end)
    figures: dict[tuple[date, str], tuple] = {}  # (period start, segment) → (numerator, denominator, …)
    if period == RANGE:
        for p in (periods[0], periods[0].previous()):
            figures.update({(p.start, seg): f for seg, f in _live(kpi, p, segment, settings.as_params()).items()})
    else:
        starts = {p.start for p in periods} | {p.previous().start for p in periods}
        for row in KpiSnapshot.objects.filter(kpi=key, period_kind=period, segment_kind=segment or "",
                                              period_start__in=starts):
            figures[(row.period_start, row.segment)] = (row.numerator, row.denominator)
    segments = sorted({seg for (_, seg) in figures}) if segment else [""]
    series = []
    for p in periods:
        for seg in segments:
            current, prior = figures.get((p.start, seg)), figures.get((p.previous().start, seg))
            value = kpi.value(*current[:2]) if current else None
            target, status = kpi_status(kpi=kpi, value=value, targets=settings.targets)
            series.append({
                "period_start": p.start, "period_end": p.end - timedelta(days=1), "value": value,
                "numerator": current[0] if current else None, "denominator": current[1] if current else None,
                "previous_value": kpi.value(*prior[:2]) if prior else None,
                "target": target, "status": status, "segment": seg if segment else None,
            })
    return series


def data_days() -> tuple[date, date] | None:
    """The local days [first, last + 1) holding any dataset row, or None when empty."""
    tz = connection.tenant.time_zone
    sql = " UNION ALL ".join(
        f"SELECT min(({column} AT TIME ZONE %(tz)s)::date), max(({column} AT TIME ZONE %(tz)s)::date) FROM {table}"
        for table, column in (("ingestion_customer", "signed_up_at"), ("ingestion_conversation", "created_at"),
                              ("ingestion_conversation", "resolved_at"), ("ingestion_event", "occurred_at"),
                              ("ingestion_surveyresponse", "responded_at"), ("ingestion_socialmention", "posted_at")))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(lo), max(hi) FROM ({sql} UNION ALL SELECT min(month), max(month + 31) "
                       f"FROM ingestion_revenue) bounds(lo, hi)", {"tz": tz})
        first, last = cursor.fetchone()
    return None if first is None else (first, last + timedelta(days=1))



def dashboard_cards(*, period: str, anchor: date, count: int = 12, settings=None) -> list[dict]:
    """One card per KPI for the period of kind ``period`` containing ``anchor``: value,
    previous period's value, change, target status, margin of error (NPS, CSAT) and the
    last ``count`` periods' values for a sparkline. One query for every KPI."""
    from kpis.periods import period_of
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    periods = [period_of(period, anchor)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    rows = KpiSnapshot.objects.filter(period_kind=period, segment_kind="", period_start__gte=periods[0].start,
                                      period_start__lte=periods[-1].start)
    snapshots = {(row.kpi, row.period_start): row for row in rows}
    cards = []
    for kpi in KPIS.values():
        current = snapshots.get((kpi.key, periods[-1].start))
        previous = snapshots.get((kpi.key, periods[-2].start)) if count > 1 else None
        value = current.value if current else None
        before = previous.value if previous else None
        target, status = kpi_status(kpi=kpi, value=value, targets=settings.targets)
        cards.append({
            "kpi": kpi, "supported": period in kpi.period_kinds, "value": value, "previous": before,
            "change": None if value is None or before is None else value - before,
            "target": target, "status": status, "margin": margin_of_error(kpi, current),
            "spark": [(p.start.isoformat(), getattr(snapshots.get((kpi.key, p.start)), "value", None)) for p in periods],
        })
    return cards


def margin_of_error(kpi: Kpi, snapshot: KpiSnapshot | None) -> float | None:
    """The 95% margin of error of NPS and CSAT, in points, from a snapshot's figures."""
    if snapshot is None or not snapshot.denominator:
        return None
    if kpi.key == "nps" and "promoters" in snapshot.extra:
        return kpi.margin_of_error(snapshot.extra["promoters"], snapshot.extra["detractors"], snapshot.denominator)
    if kpi.key == "csat":
        return kpi.margin_of_error(snapshot.numerator, snapshot.denominator)
    return None


# --- Social (kpis.md #9) -------------------------------------------------------------------

SPIKE_WINDOW_DAYS = 28
SPIKE_DEVIATIONS = 3


@dataclass(frozen=True)
class Spike:
    day: date
    volume: int
    mean: float  # of the trailing 28 days
    stddev: float  # sample standard deviation of the trailing 28 days


# Own-brand mentions per local day, every day from the window before ``since`` (or the first
# own-brand mention, when later) to ``until`` - 1, days without mentions counting 0. A day
# is judged against the 28 days before it (not itself), and only when it has all 28: before
# the workspace's first mention there is no history, not a run of empty days.
_SPIKES_SQL = f"""
    WITH history AS (
        SELECT greatest(%(since)s::date - {SPIKE_WINDOW_DAYS},
                        (SELECT {local_day('min(posted_at)')} FROM ingestion_socialmention WHERE brand = '')) AS day
    ), counts AS (
        SELECT {local_day('m.posted_at')} AS day, count(*) AS volume
        FROM ingestion_socialmention m, history
        WHERE m.brand = '' AND m.posted_at >= (history.day::timestamp AT TIME ZONE %(tz)s)
          AND m.posted_at < (%(until)s::timestamp AT TIME ZONE %(tz)s)
        GROUP BY 1
    ), daily AS (
        SELECT d.day::date AS day, coalesce(c.volume, 0) AS volume
        FROM history, generate_series(history.day::timestamp, (%(until)s::date - 1)::timestamp, interval '1 day') AS d(day)
        LEFT JOIN counts c ON c.day = d.day::date
    ), judged AS (
        SELECT day, volume, avg(volume) OVER w AS mean, stddev_samp(volume) OVER w AS stddev,
               count(*) OVER w AS days
        FROM daily
        WINDOW w AS (ORDER BY day ROWS BETWEEN {SPIKE_WINDOW_DAYS} PRECEDING AND 1 PRECEDING)
    )
    SELECT day, volume, mean, stddev FROM judged
    WHERE day >= %(since)s AND days = {SPIKE_WINDOW_DAYS} AND volume > mean + {SPIKE_DEVIATIONS} * stddev
    ORDER BY day"""


def social_spikes(*, since: date, until: date) -> list[Spike]:
    """Spike alerts (kpis.md #9): the local days in [since, until) whose own-brand mention
    volume exceeds the trailing 28-day mean by more than 3 standard deviations, oldest
    first, with that mean and (sample) standard deviation."""
    with connection.cursor() as cursor:
        cursor.execute(_SPIKES_SQL, {"since": since, "until": until, "tz": connection.tenant.time_zone})
        return [Spike(day, volume, float(mean), float(stddev)) for day, volume, mean, stddev in cursor.fetchall()]


# --- Recomputes and computed-at (the "recompute now" button, the settings page) -----------

def kpi_recompute_latest():
    """The most recently requested recompute, or None."""
    from kpis.models import KpiRecompute

    return KpiRecompute.objects.order_by("-requested_at").first()


def snapshots_computed_at(*, keys: list[str], period_kind: str, since: date, until: date,
                          segment_kind: str | None = None):
    """When the newest of the snapshots of KPIs ``keys`` of kind ``period_kind`` starting in
    [since, until) (of one segment kind, or of all) was computed; None without snapshots.
    One query, on the snapshots' key index."""
    from django.db.models import Max

    rows = KpiSnapshot.objects.filter(kpi__in=keys, period_kind=period_kind, period_start__gte=since,
                                      period_start__lt=until)
    if segment_kind is not None:
        rows = rows.filter(segment_kind=segment_kind)
    return rows.aggregate(at=Max("computed_at"))["at"]


def conversation_channels() -> list[str]:
    """The known channels, then any other channel found in the conversations (sorted). One
    query."""
    from ingestion.datasets import KNOWN_CHANNELS

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT channel FROM ingestion_conversation WHERE channel <> '' ORDER BY 1")
        found = [channel for (channel,) in cursor.fetchall()]
    return [*KNOWN_CHANNELS, *(channel for channel in found if channel not in KNOWN_CHANNELS)]
