"""Computing KPI snapshots. Each KPI is aggregated in PostgreSQL once per local day (and
segment) over a range of days; weeks, months, quarters and years are summed from the day
rows in SQL. Values come from the KPI's own pure ``value`` function, applied to the
aggregated rows. Recomputing a range replaces its snapshots in one transaction, so a
task killed midway leaves the previous, consistent snapshots."""
from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from ingestion.touched import touched_days_forget, touched_days_pending
from kpis.models import KpiRecompute, KpiSettings
from kpis.periods import period_end, period_start, periods_between
from kpis.registry import KPIS, Kpi, Query
from kpis.selectors.recomputes import data_days
from tenants.tasking import enqueue


def _query(since: date, until: date) -> Query:
    return Query(since=since, until=until, time_zone=connection.tenant.time_zone, settings=KpiSettings.load().as_params())


_SNAPSHOT_COLUMNS = ("kpi", "period_kind", "period_start", "segment_kind", "segment", "value", "numerator",
                     "denominator", "extra", "computed_at")


def _replace(kpi: Kpi, kind: str, since: date, until: date, rows, now) -> int:
    """Replace the snapshots of one KPI and period kind starting in [since, until), every
    segment kind, with ``rows`` (start, segment kind, segment, numerator, denominator,
    *extras); values from the KPI's pure formula. Raw DELETE and COPY."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM kpis_kpisnapshot WHERE kpi = %s AND period_kind = %s "
                       "AND period_start >= %s AND period_start < %s", [kpi.key, kind, since, until])
        with cursor.copy(f"COPY kpis_kpisnapshot ({', '.join(_SNAPSHOT_COLUMNS)}) FROM STDIN") as copy:
            for start, segment_kind, segment, numerator, denominator, *extras in rows:
                extra = {name: float(v) for name, v in zip(kpi.extra_columns, extras) if v is not None}
                copy.write_row((kpi.key, kind, start, segment_kind, segment or "", kpi.value(numerator, denominator),
                                numerator, denominator, Jsonb(extra), now))
    return len(rows)


def _rollup_sql(kpi: Kpi) -> str:
    """Weeks, months, quarters or years summed from the day snapshots, every segment kind."""
    extras = "".join(f", sum((extra->>'{name}')::float)" for name in kpi.extra_columns)
    return f"""
        SELECT date_trunc(%(kind)s, period_start)::date, segment_kind, segment, sum(numerator), sum(denominator){extras}
        FROM kpis_kpisnapshot
        WHERE kpi = %(kpi)s AND period_kind = 'day' AND period_start >= %(since)s AND period_start < %(until)s
        GROUP BY 1, 2, 3"""


def _fetch(cursor, sql: str, params: dict, cache: dict | None) -> list[tuple]:
    """Run ``sql`` once per recompute: KPIs of one family (NRR and GRR, the active-user
    KPIs) share their query and pick their figures from its rows (``Kpi.figures``)."""
    key = (sql, repr(sorted(params.items())))
    if cache is not None and key in cache:
        return cache[key]
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    if cache is not None:
        cache[key] = rows
    return rows


def _day_rows(cursor, kpi: Kpi, query: Query, cache: dict | None) -> list[tuple]:
    """The KPI's day rows for every segment kind: (day, segment kind, segment, …)."""
    if kpi.rows_sql() is not None:
        # One scan for the whole workspace and every segment (GROUPING SETS).
        return [(day, kind, seg, *kpi.figures(tuple(figures)))
                for day, kind, seg, *figures in _fetch(cursor, kpi.grouped_sql(), query.params(), cache)]
    rows = []
    for segment in (None, *kpi.segments):
        rows += [(day, segment or "", seg, *kpi.figures(tuple(figures)))
                 for day, seg, *figures in _fetch(cursor, kpi.day_sql(segment), query.params(), cache)]
    return rows


def _period_rows(cursor, kpi: Kpi, query: Query, periods, cache: dict | None) -> list[tuple]:
    rows, params = [], query.params(starts=[p.start for p in periods], ends=[p.end for p in periods])
    for segment in (None, *kpi.segments):
        rows += [(start, segment or "", seg, *kpi.figures(tuple(figures)))
                 for start, seg, *figures in _fetch(cursor, kpi.period_sql(segment), params, cache)]
    return rows


@transaction.atomic
def kpi_compute(*, kpi: Kpi, since: date, until: date, cache: dict | None = None) -> int:
    """Recompute ``kpi`` for the local days [since, until) and every longer period that
    contains them, for the whole workspace and each segment. Returns the rows written.
    ``cache`` shares query results between the KPIs of one recompute."""
    query, now, written = _query(since, until), timezone.now(), 0
    with connection.cursor() as cursor:
        # The aggregations sort and hash a period's rows: keep that in memory. JIT
        # compilation costs a second per query here and saves less than that.
        cursor.execute("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")
        if kpi.rollup == "sum":
            written += _replace(kpi, "day", since, until, _day_rows(cursor, kpi, query, cache), now)
        for kind in kpi.period_kinds:
            if kind == "day" and kpi.rollup == "sum":
                continue
            first, last = period_start(kind, since), period_end(kind, period_start(kind, until - timedelta(days=1)))
            if kpi.rollup == "sum":
                cursor.execute(_rollup_sql(kpi), {"kind": kind, "kpi": kpi.key, "since": first, "until": last})
                rows = cursor.fetchall()
            else:
                rows = _period_rows(cursor, kpi, query, periods_between(kind, first, last), cache)
            written += _replace(kpi, kind, first, last, rows, now)
    return written


def kpis_compute(*, since: date, until: date, keys: list[str] | None = None) -> int:
    """Recompute the given KPIs (default: all) for [since, until), each in its own
    transaction."""
    cache: dict = {}
    return sum(kpi_compute(kpi=KPIS[key], since=since, until=until, cache=cache) for key in (keys or list(KPIS)))


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as half-open ranges of consecutive days."""
    ranges: list[list[date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1]:
            ranges[-1][1] = day + timedelta(days=1)
        else:
            ranges.append([day, day + timedelta(days=1)])
    return [(a, b) for a, b in ranges]


def kpis_recompute_touched() -> int:
    """Recompute the KPIs whose input data changed, for just the days it touched (the
    TouchedDay rows written by imports and the records API), then forget those days.
    Returns the snapshot rows written."""
    touched = touched_days_pending()
    if not touched:
        return 0
    settings, written = KpiSettings.load().as_params(), 0
    for kpi in KPIS.values():
        inputs = {kpi.dataset, *kpi.datasets}
        before, after = kpi.reach(settings)
        days = [day + timedelta(days=shift) for _, dataset, day, _ in touched if dataset in inputs
                for shift in range(-before, after + 1)]
        for since, until in _ranges(days):
            written += kpi_compute(kpi=kpi, since=since, until=until)
    touched_days_forget(rows=touched)
    _alerts_judge(written)
    return written


ALERTS_TASK = "kpis.tasks.alerts_evaluate_task"


def _alerts_judge(written: int) -> None:
    """After a recompute that wrote snapshots, the alert rules are judged on them."""
    if written:
        enqueue(ALERTS_TASK)


def kpis_recompute_current(*, today: date | None = None) -> int:
    """Recompute the current day, week and month (and so the current quarter and year,
    rolled up from days): hourly, for KPIs that move with time alone."""
    today = today or timezone.localdate()
    since = min(period_start("week", today), period_start("month", today))
    written = kpis_compute(since=since, until=today + timedelta(days=1))
    _alerts_judge(written)
    return written


def kpis_recompute_all(*, recompute: KpiRecompute | None = None) -> int:
    """Recompute every KPI over every day holding data (nightly, and on request). With a
    ``recompute`` job, its progress is saved after each KPI, and only the job's ``keys``
    are recomputed when it names some (a settings change)."""
    bounds = data_days()
    keys = [key for key in KPIS if recompute is None or not recompute.keys or key in recompute.keys]
    if recompute is not None:
        KpiRecompute.objects.filter(pk=recompute.pk).update(
            status=KpiRecompute.Status.RUNNING, started_at=timezone.now(), kpis_total=len(keys), kpis_done=0)
    written, cache = 0, {}
    for done, key in enumerate(keys, start=1):
        if bounds:
            written += kpi_compute(kpi=KPIS[key], since=bounds[0], until=bounds[1], cache=cache)
        if recompute is not None:
            KpiRecompute.objects.filter(pk=recompute.pk).update(kpis_done=done, rows_written=written)
    if recompute is not None:
        KpiRecompute.objects.filter(pk=recompute.pk).update(status=KpiRecompute.Status.DONE, finished_at=timezone.now())
    _alerts_judge(written)
    return written

