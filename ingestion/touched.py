"""The touched-days queue (``TouchedDay``): the one owner of writes to it and of reading it
back. Every write to a dataset records the workspace-local days of the rows it created or
changed; the KPI engine recomputes the periods holding those days and then forgets them.

Writers that change rows in one SQL statement (the upsert merge, the answer upsert, the
sentiment scorer) add ``touched_days_sql`` as one of their CTEs, so the days are recorded in
the same statement as the change; everything else calls ``touched_days_record``."""
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection

from ingestion.models import TouchedDay

TABLE = TouchedDay._meta.db_table


def touched_days_sql(*, dataset: str, day: str, source: str) -> str:
    """An ``INSERT`` recording the days ``day`` (an SQL expression, NULLs skipped) of the
    rows of ``source`` (an SQL ``FROM`` clause body, with any ``WHERE``) for ``dataset``
    (an SQL expression: a parameter or a literal), renewing ``recorded_at`` of a day
    already queued so a recompute running meanwhile does not forget it. ``RETURNING day``."""
    return f"""
        INSERT INTO {TABLE} (dataset, day, recorded_at)
        SELECT DISTINCT {dataset}, d.day, now() FROM (SELECT {day} AS day FROM {source}) AS d
        WHERE d.day IS NOT NULL
        ON CONFLICT (dataset, day) DO UPDATE SET recorded_at = EXCLUDED.recorded_at
        RETURNING day"""


def local_day_sql(expression: str, *, tz: str = "%(tz)s") -> str:
    """The workspace-local day of a timestamptz SQL expression (``tz``: its time zone)."""
    return f"({expression} AT TIME ZONE {tz})::date"


def touched_days_record(*, dataset: str, moments: Iterable[datetime | None]) -> None:
    """Record the workspace-local days of ``moments`` (None skipped) as touched for
    ``dataset``: one statement, whatever the number of moments."""
    stamps = sorted({moment for moment in moments if moment is not None})
    if not stamps:
        return
    sql = touched_days_sql(dataset="%(dataset)s", day=local_day_sql("moment"),
                           source="unnest(%(stamps)s::timestamptz[]) AS moment")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"dataset": dataset, "tz": connection.tenant.time_zone, "stamps": stamps})


def touched_days_pending() -> list[tuple[int, str, date, datetime]]:
    """The queue as (id, dataset, day, recorded_at) rows, to hand to ``touched_days_forget``."""
    return list(TouchedDay.objects.values_list("id", "dataset", "day", "recorded_at"))


def touched_days_forget(*, rows: list[tuple[int, str, date, datetime]]) -> None:
    """Delete the consumed ``rows`` (from ``touched_days_pending``), except the days touched
    again meanwhile: such a write renewed the row's recorded_at (``ON CONFLICT DO UPDATE``),
    and that row must stay for the next run."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} t USING unnest(%s::bigint[], %s::timestamptz[]) "
                       "AS consumed(id, recorded_at) WHERE t.id = consumed.id AND t.recorded_at = consumed.recorded_at",
                       [[row[0] for row in rows], [row[3] for row in rows]])


def touched_days_clear() -> None:
    """Forget every queued day (the demo loader, after computing everything)."""
    TouchedDay.objects.all().delete()
