"""Reads of KPI values: series of snapshots per period, live values for custom ranges."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from kpis import periods as kpi_periods
from kpis.definitions._sql import in_days, local_day, not_test_customer
from kpis.definitions.conversations import RESOLUTION_HOURS
from kpis.models import KpiSnapshot
from kpis.periods import RANGE, Period, comparison_of, periods_between
from kpis.registry import KPIS, Kpi, Query, contract_order
from kpis.stats import change_significant


def kpi_direction(*, kpi: Kpi, targets: dict) -> str:
    """The direction in force ("higher" or "lower" is better): the team lead's override in
    the KPI settings, else the registry's. Every status and change colour goes through it."""
    return (targets.get(kpi.key) or {}).get("direction") or kpi.direction


def kpi_status(*, kpi: Kpi, value: float | None, targets: dict) -> tuple[float | None, str | None]:
    """(target, "on_target" | "off_target") for a value, or (target, None) without one."""
    target = (targets.get(kpi.key) or {}).get("target")
    if target is None or value is None:
        return target, None
    higher = kpi_direction(kpi=kpi, targets=targets) == "higher"
    return target, "on_target" if (value >= target if higher else value <= target) else "off_target"


def snapshot_figures(kpi: Kpi, snapshot: KpiSnapshot | None) -> tuple | None:
    """(numerator, denominator, *extra_columns) of a snapshot, as ``_live`` gives them
    (an extra figure missing from a snapshot written before it existed is None)."""
    if snapshot is None:
        return None
    return (snapshot.numerator, snapshot.denominator, *(snapshot.extra.get(name) for name in kpi.extra_columns))


# The fields kpi_uncertainty adds to a card or a series point.
UNCERTAINTY = ("ci_low", "ci_high", "n", "small_sample", "change_significant")


def kpi_uncertainty(*, kpi: Kpi, current: tuple | None, previous: tuple | None, min_sample_size: int) -> dict:
    """The sampling uncertainty of a value from its figures (numerator, denominator,
    *extras) and those of the value it is compared with, whichever period the comparison
    takes them from: ``ci_low``/``ci_high`` (95%), ``n``, ``small_sample`` (n below the
    workspace's minimum: too few to judge) and ``change_significant`` (z test, p < 0.05;
    None when either side has no interval or too few). All None for KPIs without one."""
    # Figures come as Decimal from some SQL sums and as float from snapshots.
    current, previous = (None if f is None else tuple(None if x is None else float(x) for x in f)
                         for f in (current, previous))
    interval = kpi.interval(current) if current else None
    before = kpi.interval(previous) if previous else None
    small = interval is not None and interval.n < min_sample_size
    significant = None
    if interval and before and not small and before.n >= min_sample_size:
        value, prior = kpi.value(*current[:2]), kpi.value(*previous[:2])
        if value is not None and prior is not None:
            significant = change_significant(interval.se, before.se, value - prior)
    return {"ci_low": interval.low if interval else None, "ci_high": interval.high if interval else None,
            "n": interval.n if interval else None, "small_sample": small, "change_significant": significant}


def _live(kpi: Kpi, period: Period, segment: str | None, settings: dict, cache: dict | None = None) -> dict[str, tuple]:
    """Numerator, denominator and extras per segment value of one period, computed from
    the data (custom ranges, and the previous span of a period under way for KPIs
    aggregated per period). ``cache`` shares one query between the KPIs of a family
    (NRR and GRR)."""
    query = Query(since=period.start, until=period.end, time_zone=connection.tenant.time_zone, settings=settings)
    if kpi.rollup == "sum":
        sql, params = kpi.day_sql(segment), query.params()
    else:
        sql, params = kpi.period_sql(segment), query.params(starts=[period.start], ends=[period.end])
    key = (sql, repr(sorted(params.items())))
    if cache is not None and key in cache:
        rows = cache[key]
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if cache is not None:
            cache[key] = rows
    if kpi.rollup == "sum":
        totals: dict[str, list] = {}
        for _, seg, *row in rows:
            figures = kpi.figures(tuple(row))
            sums = totals.setdefault(seg or "", [0.0] * len(figures))
            for i, figure in enumerate(figures):
                sums[i] += float(figure or 0)
        return {seg: tuple(figures) for seg, figures in totals.items()}
    return {(seg or ""): kpi.figures(tuple(row)) for _, seg, *row in rows}


def span_figures(*, kpis: list[Kpi], since: date, until: date, segment: str | None, settings: dict,
                 cache: dict | None = None) -> dict[tuple[str, str], tuple]:
    """(numerator, denominator, *extras) of each KPI over the local days [since, until) — a
    span that is not a whole period, such as Nov 1–5 compared with Dec 1–5 — by (KPI key,
    segment value). Additive KPIs sum their day snapshots, all of them in one query; KPIs
    aggregated per period (states at boundaries, monthly MRR) run their own SQL over that
    one span, one query per family."""
    from django.db.models import FloatField, Sum
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    figures: dict[tuple[str, str], tuple] = {}
    additive = [kpi for kpi in kpis if kpi.rollup == "sum"]
    if additive:
        names = sorted({name for kpi in additive for name in kpi.extra_columns})
        rows = (KpiSnapshot.objects.filter(kpi__in=[kpi.key for kpi in additive], period_kind="day",
                                           segment_kind=segment or "", period_start__gte=since, period_start__lt=until)
                .values("kpi", "segment")
                .annotate(sum_numerator=Sum("numerator"), sum_denominator=Sum("denominator"),
                          **{f"sum_{name}": Sum(Cast(KT(f"extra__{name}"), FloatField())) for name in names}))
        for row in rows:
            kpi = KPIS[row["kpi"]]
            figures[(kpi.key, row["segment"])] = (row["sum_numerator"], row["sum_denominator"],
                                                  *(row[f"sum_{name}"] for name in kpi.extra_columns))
    cache = {} if cache is None else cache
    for kpi in kpis:
        if kpi.rollup != "sum":
            for seg, found in _live(kpi, Period(RANGE, since, until), segment, settings, cache).items():
                figures[(kpi.key, seg)] = found
    return figures


def _comparison_figures(*, kpis: list[Kpi], kind: str, periods: list[Period], segment: str | None, settings,
                        today: date) -> tuple[dict, dict, dict]:
    """The figures of each KPI's periods and of what each is compared with: (current,
    previous, comparisons), the first two by (KPI key, period start, segment value), the
    comparisons (``kpis.periods.comparison_of``) by (KPI key, period start). Periods of a
    kind come from the snapshots in one query; a previous span that is not a whole period
    (the period is under way) from ``span_figures``, one query per distinct span for every
    additive KPI; custom ranges are computed live."""
    params = settings.as_params()
    comparisons = {(kpi.key, p.start): comparison_of(p, today, "day" if kind == RANGE else kpi.comparison_unit)
                   for kpi in kpis for p in periods}
    current: dict[tuple[str, date, str], tuple] = {}
    previous: dict[tuple[str, date, str], tuple] = {}
    cache: dict = {}
    if kind == RANGE:
        for kpi in kpis:
            for p in periods:
                c = comparisons[(kpi.key, p.start)]
                current.update({(kpi.key, p.start, seg): f for seg, f in _live(kpi, p, segment, params, cache).items()})
                if c.has_previous:
                    span = Period(RANGE, c.previous.start, c.previous_end)
                    previous.update({(kpi.key, p.start, seg): f
                                     for seg, f in _live(kpi, span, segment, params, cache).items()})
        return current, previous, comparisons
    starts = {p.start for p in periods} | {c.previous.start for c in comparisons.values() if c.previous_whole}
    snapshots: dict[tuple[str, date], dict[str, tuple]] = {}
    for row in KpiSnapshot.objects.filter(kpi__in=[kpi.key for kpi in kpis], period_kind=kind,
                                          segment_kind=segment or "", period_start__in=starts):
        snapshots.setdefault((row.kpi, row.period_start), {})[row.segment] = snapshot_figures(KPIS[row.kpi], row)
    partial: dict[tuple[date, date], list[tuple[Kpi, date]]] = {}
    for kpi in kpis:
        for p in periods:
            for seg, f in snapshots.get((kpi.key, p.start), {}).items():
                current[(kpi.key, p.start, seg)] = f
            c = comparisons[(kpi.key, p.start)]
            if c.previous_whole:
                for seg, f in snapshots.get((kpi.key, c.previous.start), {}).items():
                    previous[(kpi.key, p.start, seg)] = f
            elif c.has_previous:
                partial.setdefault((c.previous.start, c.previous_end), []).append((kpi, p.start))
    for (since, until), wanted in partial.items():
        found = span_figures(kpis=list({kpi.key: kpi for kpi, _ in wanted}.values()), since=since, until=until,
                             segment=segment, settings=params, cache=cache)
        for kpi, start in wanted:
            previous.update({(kpi.key, start, seg): f for (key, seg), f in found.items() if key == kpi.key})
    return current, previous, comparisons


def _point(*, kpi: Kpi, comparison, current: tuple | None, prior: tuple | None, settings, segment: str | None) -> dict:
    """One series point: the value, the value it is compared with (like for like: the same
    elapsed span of the previous period while this one is under way), which span that is,
    the target status and the uncertainty (``kpi_uncertainty``, on those same figures)."""
    p = comparison.period
    value = kpi.value(*current[:2]) if current else None
    uncertainty = kpi_uncertainty(kpi=kpi, current=current, previous=prior, min_sample_size=settings.min_sample_size)
    # Too few to judge: no target status, so targets never fire on it.
    target, status = kpi_status(kpi=kpi, value=None if uncertainty["small_sample"] else value, targets=settings.targets)
    return {
        "period_start": p.start, "period_end": p.end - timedelta(days=1), "value": value,
        "numerator": current[0] if current else None, "denominator": current[1] if current else None,
        "previous_value": kpi.value(*prior[:2]) if prior else None,
        "previous_start": comparison.previous.start if comparison.has_previous else None,
        "previous_end": comparison.previous_last,
        "period_complete": comparison.complete, "comparison": comparison.label,
        "target": target, "status": status, "segment": segment, **uncertainty,
    }


def _today(today: date | None) -> date:
    return today or kpi_periods.local_today(connection.tenant.time_zone)


def kpi_series(*, key: str, period: str, start: date, end: date, segment: str | None = None,
               settings=None, today: date | None = None) -> list[dict]:
    """The KPI's value for every period of kind ``period`` overlapping [start, end) (or one
    value for the whole range when ``period`` is "range", computed live from the data),
    with the value it is compared with, the target and its status; one entry per segment
    value when ``segment`` is given. Periods without data have value None, never 0.

    A period that has ended is compared with the whole previous period; one still under
    way on ``today`` (tenant-local; default: ``kpis.periods.local_today``) is period-to-date and
    compared with the same elapsed span of the previous period (``previous_start`` –
    ``previous_end``, ``period_complete`` false, ``comparison`` "Dec 1–5 vs Nov 1–5")."""
    from kpis.services import kpi_settings_get

    kpi = KPIS[key]
    settings = settings or kpi_settings_get()
    periods_shown = periods_between(period, start, end)
    current, previous, comparisons = _comparison_figures(kpis=[kpi], kind=period, periods=periods_shown,
                                                         segment=segment, settings=settings, today=_today(today))
    segments = sorted({seg for (_, _, seg) in current} | {seg for (_, _, seg) in previous}) if segment else [""]
    return [_point(kpi=kpi, comparison=comparisons[(key, p.start)], current=current.get((key, p.start, seg)),
                   prior=previous.get((key, p.start, seg)), settings=settings, segment=seg if segment else None)
            for p in periods_shown for seg in segments]


def kpi_comparisons(*, keys: list[str], period: Period, settings=None, today: date | None = None) -> dict[str, dict]:
    """``kpi_comparison`` of several KPIs for one period, by key, in a constant number of
    queries (one for the snapshots, one per distinct previous span)."""
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    kpis = [KPIS[key] for key in keys if key in KPIS]
    current, previous, comparisons = _comparison_figures(kpis=kpis, kind=period.kind, periods=[period], segment=None,
                                                         settings=settings, today=_today(today))
    found = {}
    for kpi in kpis:
        now, prior = current.get((kpi.key, period.start, "")), previous.get((kpi.key, period.start, ""))
        point = _point(kpi=kpi, comparison=comparisons[(kpi.key, period.start)], current=now, prior=prior,
                       settings=settings, segment=None)
        change = None if point["value"] is None or point["previous_value"] is None else point["value"] - point["previous_value"]
        found[kpi.key] = {**point, "key": kpi.key, "label": point["comparison"], "change": change,
                          "current_label": comparisons[(kpi.key, period.start)].current_label,
                          "direction": kpi_direction(kpi=kpi, targets=settings.targets),
                          "figures": now, "previous_figures": prior}
    return found


def kpi_comparison(*, key: str, period: Period, settings=None, today: date | None = None) -> dict:
    """A KPI's value for ``period`` against the like-for-like previous value — the digest's
    (and every page's) one comparison: ``value``, ``previous_value``, the previous span
    ``previous_start`` – ``previous_end`` (included), ``period_complete``, ``label`` ("Dec 1–5
    vs Nov 1–5", or "Nov 2025 vs Oct 2025" for a period that has ended), ``change``, the
    target status, the uncertainty of ``kpi_uncertainty`` computed on those same figures,
    and the ``figures`` / ``previous_figures`` (numerator, denominator, *extras) themselves."""
    return kpi_comparisons(keys=[key], period=period, settings=settings, today=today)[key]


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



def dashboard_cards(*, period: str, anchor: date, count: int = 12, settings=None, today: date | None = None) -> list[dict]:
    """One card per KPI for the period of kind ``period`` containing ``anchor``: value, the
    value it is compared with (``kpi_comparison``: like for like while the period is under
    way, "Dec 1–5 vs Nov 1–5"), change, target status, the 95% interval and whether the
    change is significant (``kpi_uncertainty``, on those same figures) and the last
    ``count`` periods' values for a sparkline, the last marked ``partial`` while under way.
    One query for every KPI's snapshots, plus one per previous span that is not a whole
    period (every additive KPI at once; a live one per family aggregated per period)."""
    from kpis.periods import period_of
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    shown = [period_of(period, anchor)]
    while len(shown) < count:
        shown.insert(0, shown[0].previous())
    kpis = sorted(KPIS.values(), key=lambda kpi: contract_order(kpi.key))
    current, previous, comparisons = _comparison_figures(kpis=kpis, kind=period, periods=shown, segment=None,
                                                         settings=settings, today=_today(today))
    cards = []
    for kpi in kpis:
        comparison = comparisons[(kpi.key, shown[-1].start)]
        figures, prior = current.get((kpi.key, shown[-1].start, "")), previous.get((kpi.key, shown[-1].start, ""))
        point = _point(kpi=kpi, comparison=comparison, current=figures, prior=prior if count > 1 else None,
                       settings=settings, segment=None)
        value, before = point["value"], point["previous_value"]
        spark = []
        for p in shown:
            found = current.get((kpi.key, p.start, ""))
            spark.append((p.start.isoformat(), kpi.value(*found[:2]) if found else None))
        cards.append({
            "kpi": kpi, "direction": kpi_direction(kpi=kpi, targets=settings.targets),
            "supported": period in kpi.period_kinds, "value": value, "previous": before,
            "change": None if value is None or before is None else value - before,
            "target": point["target"], "status": point["status"], **{name: point[name] for name in UNCERTAINTY},
            "period_complete": comparison.complete, "comparison": comparison.label,
            "current_label": comparison.current_label,
            "previous_start": point["previous_start"], "previous_end": point["previous_end"],
            "spark": spark, "partial": not comparison.complete,
        })
    return cards


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

# --- Drill-down: the records behind a KPI's value (issue #4, KPI pages) ---------------------

DRILLDOWN_PAGE_SIZE = 50


def kpi_has_drilldown(kpi: Kpi) -> bool:
    return hasattr(kpi, "drilldown_sql")


class DrilldownRows:
    """The drill-down rows of one KPI, period, segment value and band, for Django's
    Paginator: ``count()`` is known from the band counts, and a slice runs one query with
    LIMIT / OFFSET. ``columns`` holds the headings once a slice has been read."""

    def __init__(self, sql: str, params: dict, total: int):
        self.sql, self.params, self.total, self.columns = sql, params, total, []

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, window: slice) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"{self.sql} LIMIT %(limit)s OFFSET %(offset)s",
                           {**self.params, "limit": window.stop - window.start, "offset": window.start})
            self.columns = [column.name for column in cursor.description[2:]]
            return [row[1:] for row in cursor.fetchall()]  # the band, then the columns


def _drilldown_query(kpi: Kpi, *, since: date, until: date, segment: str | None, value: str, band: str,
                     settings: dict) -> tuple[str, dict]:
    """The drill-down SQL of ``kpi`` for the local days [since, until), filtered by band
    ('' for all), newest first, and its parameters."""
    query = Query(since=since, until=until, time_zone=connection.tenant.time_zone, settings=settings)
    sql = (f"SELECT * FROM ({kpi.drilldown_sql(segment)}) rows "
           f"WHERE %(band)s = '' OR band = %(band)s ORDER BY 1 DESC, 3")
    return sql, query.params(segment_value=value, band=band)


def kpi_drilldown(*, kpi: Kpi, since: date, until: date, segment: str | None = None, value: str = "",
                  band: str = "", settings=None) -> tuple[dict[str, int], DrilldownRows]:
    """The records behind ``kpi``'s value for the local days [since, until) (one segment
    value when ``segment`` is given): the number of rows per band, and the rows of ``band``
    ('' for all) to paginate. Two queries whatever the page."""
    from kpis.services import kpi_settings_get

    settings = (settings or kpi_settings_get()).as_params()
    sql, params = _drilldown_query(kpi, since=since, until=until, segment=segment, value=value, band=band,
                                   settings=settings)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT band, count(*) FROM ({kpi.drilldown_sql(segment)}) rows GROUP BY 1 ORDER BY 1", params)
        bands = dict(cursor.fetchall())
    total = sum(bands.values()) if not band else bands.get(band, 0)
    return bands, DrilldownRows(sql, params, total)


def kpi_drilldown_csv(*, kpi: Kpi, since: date, until: date, segment: str | None = None, value: str = "",
                      band: str = "", settings=None) -> Iterator[str]:
    """The whole drill-down list as CSV lines (band first, then the columns shown), read
    through a server-side cursor in chunks; every cell through ``csv_safe`` (formula
    injection)."""
    from ingestion.csvfiles import csv_line
    from kpis.services import kpi_settings_get

    sql, params = _drilldown_query(kpi, since=since, until=until, segment=segment, value=value, band=band,
                                   settings=(settings or kpi_settings_get()).as_params())
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        yield csv_line([getattr(kpi, "drilldown_band", "band"), *(column.name for column in cursor.description[2:])])
        while rows := cursor.fetchmany(2000):
            yield "".join(csv_line(list(row[1:])) for row in rows)


# --- Support efficiency, active users and social pages (issue #4) ----------------------------

def period_values(*, key: str, period: Period, segment: str | None = None, settings=None,
                  today: date | None = None) -> dict[str, dict]:
    """``kpi_series`` for one period (from snapshots, or live for a custom range), by segment
    value ('' without a segment); {} when the KPI is not registered."""
    return period_values_many(keys=[key], period=period, segment=segment, settings=settings, today=today).get(key, {})


def period_values_many(*, keys, period: Period, segment: str | None = None, settings=None,
                       today: date | None = None) -> dict[str, dict[str, dict]]:
    """``period_values`` of several KPIs at once, by key then segment value: one query for
    their snapshots and one for the like-for-like previous span while the period is under
    way, whatever the number of KPIs (live per KPI for a custom range). KPIs not registered
    are left out."""
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    kpis = [KPIS[key] for key in keys if key in KPIS]
    current, previous, comparisons = _comparison_figures(kpis=kpis, kind=period.kind, periods=[period], segment=segment,
                                                         settings=settings, today=_today(today))
    found: dict[str, dict[str, dict]] = {}
    for kpi in kpis:
        segments = ({seg for (key, _, seg) in current if key == kpi.key}
                    | {seg for (key, _, seg) in previous if key == kpi.key}) if segment else {""}
        found[kpi.key] = {seg: _point(kpi=kpi, comparison=comparisons[(kpi.key, period.start)],
                                      current=current.get((kpi.key, period.start, seg)),
                                      prior=previous.get((kpi.key, period.start, seg)), settings=settings,
                                      segment=seg if segment else None)
                          for seg in sorted(segments)}
    return found


# Hours to resolve (conversations resolved in the period) and to first response
# (conversations created in the period with a response), for the workspace and per agent.
# Hours to resolve are the mean time to resolution KPI's own expression, so in
# business-hours mode the median and p90 count the same working hours as its mean.
_SUPPORT_HOURS_SQL = f"""
    SELECT GROUPING(agent) = 0, coalesce(agent, ''), count(resolve) AS resolved,
           avg(resolve), percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve),
           count(respond), avg(respond), percentile_cont(0.5) WITHIN GROUP (ORDER BY respond),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY respond)
    FROM (
        SELECT c.agent,
               CASE WHEN c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')}
                    THEN {RESOLUTION_HOURS} END AS resolve,
               CASE WHEN c.first_response_at IS NOT NULL AND {in_days('c.created_at')}
                    THEN EXTRACT(EPOCH FROM (c.first_response_at - c.created_at)) / 3600.0 END AS respond
        FROM ingestion_conversation c
        WHERE ((c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')})
               OR (c.first_response_at IS NOT NULL AND {in_days('c.created_at')}))
          AND {not_test_customer('c')}
    ) hours
    GROUP BY GROUPING SETS ((), (agent))"""

HOURS_FIGURES = ("resolved", "mttr_mean", "mttr_median", "mttr_p90", "responded", "frt_mean", "frt_median", "frt_p90")


def support_hours(*, since: date, until: date, settings=None) -> dict[str | None, dict]:
    """Mean, median and 90th percentile of the hours to resolve and to first respond over the
    local days [since, until), computed live (percentile_cont): None for the workspace, then
    one entry per agent ('' for conversations without one). Hours to resolve are counted as
    the mean time to resolution KPI counts them (business hours only in that mode); hours to
    first respond are wall-clock."""
    from kpis.services import kpi_settings_get

    params = (settings or kpi_settings_get()).as_params()
    with connection.cursor() as cursor:
        cursor.execute(_SUPPORT_HOURS_SQL, {**params, "since": since, "until": until, "tz": connection.tenant.time_zone})
        return {(agent if by_agent else None): dict(zip(HOURS_FIGURES, (None if f is None else float(f) for f in figures)))
                for by_agent, agent, *figures in cursor.fetchall()}


SUPPORT_KPIS = ("conversation_abandonment_rate", "mean_time_to_resolution", "first_response_time",
                "first_contact_resolution", "sla_attainment", "csat")


def support_efficiency(*, period: Period, settings=None, today: date | None = None) -> dict:
    """The support efficiency page for one period: each support KPI's value (with the
    previous period's), abandonment by channel and by channel kind, and one row per agent
    (conversations, resolved, MTTR, FRT, FCR, SLA, CSAT) from snapshots (live for a
    custom range), beside live medians and 90th percentiles. A constant number of queries."""
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    whole = period_values_many(keys=SUPPORT_KPIS, period=period, settings=settings, today=today)
    totals = {key: whole.get(key, {}).get("") for key in SUPPORT_KPIS}
    per_agent = period_values_many(keys=SUPPORT_KPIS, period=period, segment="agent", settings=settings, today=today)
    by_agent = {key: per_agent.get(key, {}) for key in SUPPORT_KPIS}
    hours = support_hours(since=period.start, until=period.end, settings=settings)
    agents = sorted({agent for rows in by_agent.values() for agent in rows} | (set(hours) - {None}))
    rows = []
    for agent in agents:
        figures = {key: by_agent[key].get(agent) or {} for key in SUPPORT_KPIS}
        rows.append({"agent": agent, "conversations": figures["conversation_abandonment_rate"].get("denominator"),
                     **{key: figures[key].get("value") for key in SUPPORT_KPIS},
                     **hours.get(agent, {**dict.fromkeys(HOURS_FIGURES), "resolved": 0, "responded": 0})})
    rows.sort(key=lambda row: -(row["conversations"] or 0))
    conversations = (totals["conversation_abandonment_rate"] or {}).get("denominator")
    staffed = [row for row in rows if row["agent"] and row["conversations"]]
    return {
        "business_hours": settings.business_hours_mttr,
        "totals": totals, "hours": hours.get(None, {}), "agents": rows, "conversations": conversations,
        "per_agent": conversations / len(staffed) if conversations and staffed else None,
        "by_channel": period_values(key="conversation_abandonment_rate", period=period, segment="channel",
                                    settings=settings, today=today),
        "by_channel_kind": period_values(key="conversation_abandonment_rate", period=period, segment="channel_kind",
                                         settings=settings, today=today),
    }


def chart_kind(period: Period) -> str:
    """The periods a chart of ``period`` is drawn in: days up to a quarter, weeks up to a
    year, months beyond."""
    return "day" if period.days <= 92 else ("week" if period.days <= 366 else "month")


ACTIVE_USER_KPIS = ("dau", "wau", "mau", "stickiness")
RETENTION_KPIS = ("retention_d1", "retention_d7", "retention_d30")


def active_users(*, period: Period, settings=None, today: date | None = None) -> dict:
    """DAU, WAU, MAU, stickiness and D1/D7/D30 retention for ``period`` (with the previous
    period's values) and DAU/WAU/MAU/stickiness per day (week, month) across it, from
    snapshots. A KPI not registered in this workspace's build is left out (no data)."""
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    kind = chart_kind(period)
    values = period_values_many(keys=(*ACTIVE_USER_KPIS, *RETENTION_KPIS), period=period, settings=settings, today=today)
    return {
        "values": {key: values.get(key, {}).get("") for key in (*ACTIVE_USER_KPIS, *RETENTION_KPIS)},
        "series": {key: kpi_series(key=key, period=kind, start=period.start, end=period.end, settings=settings, today=today)
                   for key in ACTIVE_USER_KPIS if key in KPIS},
        "chart_kind": kind,
    }


COHORT_DAYS = (1, 7, 30)

# Non-test customers who signed up in [since, until), by local sign-up week: how many, and
# for N in 1, 7, 30 how many had day d + N on or before today (eligible) and of those how
# many were active (any event) on that local day.
_COHORTS_SQL = f"""
    WITH cohort AS (
        SELECT k.external_id, {local_day('k.signed_up_at')} AS day
        FROM ingestion_customer k
        WHERE NOT k.is_test AND {in_days('k.signed_up_at')}
    ), returned AS (
        SELECT c.external_id, c.day,
               {", ".join(f"bool_or(a.day = c.day + {n}) AS d{n}" for n in COHORT_DAYS)}
        FROM cohort c
        LEFT JOIN (SELECT DISTINCT e.user_external_id, {local_day('e.occurred_at')} AS day
                   FROM ingestion_event e
                   WHERE e.occurred_at >= (%(since)s::timestamp AT TIME ZONE %(tz)s)
                     AND e.occurred_at < ((%(until)s::date + {max(COHORT_DAYS) + 1})::timestamp AT TIME ZONE %(tz)s)
                  ) a ON a.user_external_id = c.external_id AND a.day IN ({", ".join(f"c.day + {n}" for n in COHORT_DAYS)})
        GROUP BY 1, 2
    )
    SELECT date_trunc('week', day)::date, count(*),
           {", ".join(f"count(*) FILTER (WHERE day + {n} <= %(today)s), count(*) FILTER (WHERE d{n} AND day + {n} <= %(today)s)"
                      for n in COHORT_DAYS)}
    FROM returned
    GROUP BY 1
    ORDER BY 1"""


def signup_cohorts(*, since: date, until: date, today: date) -> list[dict]:
    """Sign-up cohorts by ISO week (local) of the customers who signed up in [since, until),
    test customers excluded: the cohort's size and its D1/D7/D30 retention, Σ retained /
    Σ eligible, where a customer is eligible for day N once d + N is on or before
    ``today`` and retained when they had an event on the local day d + N. None (no data)
    while nobody in the cohort is eligible yet."""
    with connection.cursor() as cursor:
        cursor.execute(_COHORTS_SQL, {"since": since, "until": until, "today": today, "tz": connection.tenant.time_zone})
        rows = cursor.fetchall()
    cohorts = []
    for week, customers, *figures in rows:
        retention = {}
        for n, eligible, retained in zip(COHORT_DAYS, figures[::2], figures[1::2]):
            retention[f"d{n}"] = retained / eligible * 100 if eligible else None
            retention[f"d{n}_counts"] = (retained, eligible)
        cohorts.append({"week": week, "customers": customers, **retention})
    return cohorts


def social_brands(*, since: date, until: date) -> list[dict]:
    """Mentions per tracked brand ('' is the workspace's own) posted in the local days
    [since, until): count, share of voice, reach (Σ followers) and sentiment counts
    (imported, else scored), most mentioned first."""
    from kpis.definitions.social import SENTIMENT

    sql = f"""
        SELECT m.brand, count(*), coalesce(sum(m.followers), 0),
               {", ".join(f"count(*) FILTER (WHERE {SENTIMENT} = '{label}')" for label in ("positive", "neutral", "negative", ""))}
        FROM ingestion_socialmention m
        WHERE {in_days('m.posted_at')}
        GROUP BY 1
        ORDER BY 2 DESC, 1"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"since": since, "until": until, "tz": connection.tenant.time_zone})
        rows = cursor.fetchall()
    everyone = sum(row[1] for row in rows)
    return [{"brand": brand, "mentions": mentions, "share": mentions / everyone * 100, "reach": reach,
             "positive": positive, "neutral": neutral, "negative": negative, "unscored": unscored}
            for brand, mentions, reach, positive, neutral, negative, unscored in rows]


def social_latest_mentions(*, since: date, until: date, limit: int = 20):
    """The latest own-brand mentions posted in the local days [since, until), newest first,
    each with ``sentiment_shown`` (imported, else scored; '' when not scored yet)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.db.models import Value
    from django.db.models.functions import Coalesce, NullIf

    from ingestion.models import SocialMention

    tz = ZoneInfo(connection.tenant.time_zone)
    start, end = (datetime.combine(day, datetime.min.time(), tzinfo=tz) for day in (since, until))
    return list(SocialMention.objects.filter(brand="", posted_at__gte=start, posted_at__lt=end)
                .annotate(sentiment_shown=Coalesce(NullIf("sentiment", Value("")), "scored_sentiment"))
                .order_by("-posted_at", "external_id")[:limit])


SOCIAL_KPIS = ("social_mention_volume", "social_net_sentiment", "social_share_of_voice")


def social_page(*, period: Period, settings=None, today: date | None = None) -> dict:
    """The social page for one period: mention volume, net sentiment and share of voice
    (with the previous period's values) and mention volume per day (week, month) from
    snapshots, brands with reach and sentiment, spike alerts and the latest mentions."""
    from kpis.services import kpi_settings_get

    settings = settings or kpi_settings_get()
    kind = chart_kind(period)
    values = period_values_many(keys=SOCIAL_KPIS, period=period, settings=settings, today=today)
    brands = social_brands(since=period.start, until=period.end)
    return {
        "values": {key: values.get(key, {}).get("") for key in SOCIAL_KPIS},
        "volume": kpi_series(key="social_mention_volume", period=kind, start=period.start, end=period.end,
                             settings=settings, today=today),
        "sentiment": kpi_series(key="social_net_sentiment", period=kind, start=period.start, end=period.end,
                                settings=settings, today=today),
        "chart_kind": kind, "brands": brands, "own": next((b for b in brands if b["brand"] == ""), None),
        "spikes": social_spikes(since=period.start, until=period.end),
        "latest": social_latest_mentions(since=period.start, until=period.end),
    }


def segment_labels(segment: str, values) -> dict[str, str]:
    """How segment values read on pages: a survey segment's values are survey ids (stable
    when a survey is renamed), shown by name; '' is "(none)", or for surveys the responses
    imported outside Pulse surveys."""
    values = list(values)
    if segment != "survey":
        return {value: value or "(none)" for value in values}
    from surveys.models import Survey

    ids = [int(value) for value in values if value.isdigit()]
    names = dict(Survey.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {value: (names.get(int(value), f"Deleted survey #{value}") if value.isdigit() else "Imported responses")
            for value in values}
