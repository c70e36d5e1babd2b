"""Computing KPI snapshots. Each KPI is aggregated in PostgreSQL once per local day (and
segment) over a range of days; weeks, months, quarters and years are summed from the day
rows in SQL. Values come from the KPI's own pure ``value`` function, applied to the
aggregated rows. Recomputing a range replaces its snapshots in one transaction, so a
task killed midway leaves the previous, consistent snapshots."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from psycopg.types.json import Jsonb
from django.utils import timezone

from ingestion.models import TouchedDay
from kpis.models import KpiRecompute, KpiSettings
from kpis.periods import period_end, period_start, periods_between
from kpis.registry import HIGHER, KPIS, LOWER, Kpi, Query
from kpis.settings_uses import SETTING_LABELS, kpis_affected
from tenants.tasking import enqueue


def kpi_settings_get() -> KpiSettings:
    settings = KpiSettings.objects.first()
    if settings is None:
        settings = KpiSettings.objects.create(**KpiSettings.DEFAULTS)
    return settings


def _query(since: date, until: date) -> Query:
    return Query(since=since, until=until, time_zone=connection.tenant.time_zone, settings=kpi_settings_get().as_params())


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
    touched = list(TouchedDay.objects.values_list("id", "dataset", "day", "recorded_at"))
    if not touched:
        return 0
    settings, written = kpi_settings_get().as_params(), 0
    for kpi in KPIS.values():
        inputs = {kpi.dataset, *kpi.datasets}
        before, after = kpi.reach(settings)
        days = [day + timedelta(days=shift) for _, dataset, day, _ in touched if dataset in inputs
                for shift in range(-before, after + 1)]
        for since, until in _ranges(days):
            written += kpi_compute(kpi=kpi, since=since, until=until)
    # Forget only the days not touched again meanwhile: a write during the recompute renews
    # its row's recorded_at (ON CONFLICT DO UPDATE), and that row must stay for the next run.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TouchedDay._meta.db_table} t USING unnest(%s::bigint[], %s::timestamptz[]) "
                       "AS consumed(id, recorded_at) WHERE t.id = consumed.id AND t.recorded_at = consumed.recorded_at",
                       [[row[0] for row in touched], [row[3] for row in touched]])
    return written


def kpis_recompute_current(*, today: date | None = None) -> int:
    """Recompute the current day, week and month (and so the current quarter and year,
    rolled up from days): hourly, for KPIs that move with time alone."""
    today = today or timezone.localdate()
    since = min(period_start("week", today), period_start("month", today))
    return kpis_compute(since=since, until=today + timedelta(days=1))


def kpis_recompute_all(*, recompute: KpiRecompute | None = None) -> int:
    """Recompute every KPI over every day holding data (nightly, and on request). With a
    ``recompute`` job, its progress is saved after each KPI, and only the job's ``keys``
    are recomputed when it names some (a settings change)."""
    from kpis.selectors import data_days

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
    return written


@transaction.atomic
def kpi_recompute_request() -> KpiRecompute:
    """Queue a full recompute of the workspace's snapshots (the "recompute now" button)."""
    from kpis.tasks import recompute

    job = KpiRecompute.objects.create()
    enqueue(recompute, str(job.pk))
    return job


def _lock_key(job: KpiRecompute) -> int:
    return int.from_bytes(job.pk.bytes[:8], "big", signed=True)


def kpi_recompute_run(*, recompute_id: str) -> None:
    """Run a requested recompute under a session advisory lock on the job (released if the
    worker dies), so a redelivered or resumed task never runs beside a live one."""
    job = KpiRecompute.objects.filter(pk=recompute_id).first()
    if job is None or job.status not in (KpiRecompute.Status.QUEUED, KpiRecompute.Status.RUNNING):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(job)])
        if not cursor.fetchone()[0]:
            return
    try:
        kpis_recompute_all(recompute=job)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(job)])


def kpi_recomputes_resume() -> int:
    """Re-queue the requested recomputes that no worker is running (their worker died):
    run when a worker starts and every 5 minutes. Each KPI's snapshots were replaced in
    their own transaction, so the values meanwhile are the old or the new ones, never a
    mix; running it again completes it."""
    from kpis.tasks import recompute

    requeued = 0
    for job in KpiRecompute.objects.filter(status=KpiRecompute.Status.RUNNING):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(job)])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(job)])
        with transaction.atomic():
            enqueue(recompute, str(job.pk))
        requeued += 1
    return requeued


def kpi_recompute_fail(*, recompute_id: str, message: str) -> None:
    KpiRecompute.objects.filter(pk=recompute_id).exclude(status=KpiRecompute.Status.DONE).update(
        status=KpiRecompute.Status.FAILED, error=message, finished_at=timezone.now())


# --- KPI settings (the settings page) ------------------------------------------------------

EVENT_SETTINGS = ("visit_events", "conversion_events", "checkout_events", "activation_events")
# (lowest, highest) allowed, and how the message names them.
SETTING_BOUNDS = {
    "activation_window_days": (1, 365, "The activation window must be between 1 and 365 days."),
    "repeat_contact_window_days": (1, 90, "The repeat-contact window must be between 1 and 90 days."),
    "sla_target_hours": (0.25, 720, "The SLA target must be between 0.25 hours (15 minutes) and 720 hours (30 days)."),
    "min_sample_size": (1, 1_000_000, "The minimum sample size must be a whole number from 1 to 1,000,000."),
}
# Settings judged when a value is shown, like targets: no SQL reads them, nothing to recompute.
DISPLAY_SETTINGS = ("min_sample_size",)
TARGET_BOUNDS = {"%": (0, 100), "score": (-100, 100)}  # other units: any number >= 0


@dataclass(frozen=True)
class KpiSettingsUpdate:
    settings: KpiSettings
    affected: dict[str, list[str]]  # each changed setting → the KPI keys it affects ([] for targets)
    recompute: KpiRecompute | None  # the recompute of those KPIs, when there are some

    @property
    def keys(self) -> list[str]:
        return [key for key in KPIS if any(key in keys for keys in self.affected.values())]


def _names(value, label: str, max_length: int, *, required: bool) -> tuple[list[str], str | None]:
    """A list of names (or comma-separated text) stripped, without blanks or repeats."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    if required and not names:
        return names, f"{label}: give at least one event name."
    if any(len(name) > max_length for name in names):
        return names, f"{label}: a name is at most {max_length} characters."
    return names, None


def _number(name: str, value, integer: bool) -> tuple[float | int | None, str | None]:
    low, high, message = SETTING_BOUNDS[name]
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        return None, message
    if isinstance(value, bool) or (integer and number != float(value)) or not low <= number <= high:
        return None, message
    return number, None


def _targets(value: dict) -> tuple[dict, dict[str, str]]:
    """{key: {"target": number or None, "direction": "higher"|"lower"}} for the KPIs given
    a target or a direction other than the registry's; errors keyed ``target_<key>``."""
    targets, errors = {}, {}
    for key, setting in (value or {}).items():
        kpi, setting = KPIS.get(key), setting or {}
        if kpi is None:
            errors[f"target_{key}"] = f"Unknown KPI '{key}'."
            continue
        target, direction = setting.get("target"), setting.get("direction") or kpi.direction
        if direction not in (HIGHER, LOWER):
            errors[f"target_{key}"] = f"{kpi.label}: better when higher or lower, not '{direction}'."
            continue
        if target is None or target == "":
            # A reversed direction is kept without a target too: it still decides whether
            # a change is shown as better or worse.
            if direction != kpi.direction:
                targets[key] = {"target": None, "direction": direction}
            continue
        low, high = TARGET_BOUNDS.get(kpi.unit, (0, None))
        try:
            target = float(target)
        except (TypeError, ValueError):
            target = None
        if target is None or target < low or (high is not None and target > high):
            bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
            errors[f"target_{key}"] = f"{kpi.label}: the target must be a number {bounds} ({kpi.unit})."
            continue
        targets[key] = {"target": target, "direction": direction}
    return targets, errors


def _settings_clean(changes: dict) -> dict:
    """The changes, normalised; a ValidationError naming each bad setting."""
    from tenants.workspace.models import BusinessHours

    cleaned, errors = {}, {}
    for name, value in changes.items():
        if name in EVENT_SETTINGS or name == "voice_channels":
            label = SETTING_LABELS[name]
            cleaned[name], error = _names(value, label, 50 if name == "voice_channels" else 255,
                                          required=name != "voice_channels")
        elif name in SETTING_BOUNDS:
            cleaned[name], error = _number(name, value, integer=name.endswith("_days") or name == "min_sample_size")
        elif name == "targets":
            cleaned[name], target_errors = _targets(value)
            errors.update(target_errors)
            error = None
        else:
            cleaned[name], error = bool(value), None
        if error:
            errors[name] = error
    if cleaned.get("business_hours_mttr") and not BusinessHours.objects.exists():
        errors["business_hours_mttr"] = ("The workspace has no business hours yet: set them in Workspace settings "
                                         "first, or every resolution would take 0 hours.")
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def kpi_settings_update(*, settings: KpiSettings, **changes) -> KpiSettingsUpdate:
    """Change some KPI settings (the fields of ``KpiSettings``: event names as lists or
    comma-separated text, windows in days, SLA hours, flags, voice channels, and
    ``targets`` as {kpi key: {"target", "direction"}} replacing every target, and
    ``min_sample_size``, the n below which values are too few to judge). Refuses bad
    values with a ValidationError keyed by setting (``target_<key>`` for a target). Then
    queues a recompute of just the KPIs whose snapshots the changed settings affect (a
    target changes no snapshot) and says which those are."""
    unknown = set(changes) - {*SETTING_LABELS, *DISPLAY_SETTINGS, "targets"}
    if unknown:
        raise TypeError(f"Unknown KPI settings: {', '.join(sorted(unknown))}")
    cleaned = _settings_clean(changes)
    locked = KpiSettings.objects.select_for_update().get(pk=settings.pk)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save()
    affected = kpis_affected(changed)
    keys = KpiSettingsUpdate(settings=locked, affected=affected, recompute=None).keys
    return KpiSettingsUpdate(settings=locked, affected=affected, recompute=_recompute_queue(keys) if keys else None)


def _recompute_queue(keys: list[str]) -> KpiRecompute:
    """Queue a recompute of just the KPIs ``keys`` (after the transaction commits)."""
    from kpis.tasks import recompute

    job = KpiRecompute.objects.create(keys=keys)
    enqueue(recompute, str(job.pk))
    return job


@transaction.atomic
def kpis_joined_changed(*, dataset: str) -> KpiRecompute | None:
    """Existing rows of ``dataset`` changed a field other datasets' KPIs join to (a
    customer's plan or is_test): queue a recompute of every KPI reading ``dataset`` over
    all its days, since the rows joined to them (conversations, events, revenue, responses)
    lie on days the write did not touch. A recompute of those KPIs still queued (not
    started: it will read this committed write) already covers it, so an import of many
    chunks queues one, not one per chunk. None when one was already queued."""
    keys = [key for key, kpi in KPIS.items() if dataset in (kpi.dataset, *kpi.datasets)]
    if not keys or KpiRecompute.objects.filter(status=KpiRecompute.Status.QUEUED, keys=keys).exists():
        return None
    return _recompute_queue(keys)


@transaction.atomic
def kpi_calendar_changed() -> KpiRecompute | None:
    """The workspace's business hours or holidays changed: in business-hours mode, queue a
    recompute of the KPIs that count working hours (mean time to resolution)."""
    if not kpi_settings_get().business_hours_mttr:
        return None
    return _recompute_queue(kpis_affected(["business_hours_mttr"])["business_hours_mttr"])
