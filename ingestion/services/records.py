"""Writing dataset rows: validated rows go through a temporary staging table filled with
COPY, then one ``INSERT … ON CONFLICT DO UPDATE`` upserts them, updating only rows whose
values changed. Everything runs in PostgreSQL; Python only parses and streams the rows.
Imports (``ingestion.services.imports``), the records API and the demo loader all write here."""
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, TypeVar

from django.db import connection, transaction
from django_tenants.utils import tenant_context

from ingestion.copyformat import copy_line, row_converter
from ingestion.datasets import Dataset, header_match, row_parse
from ingestion.models import dataset_model
from ingestion.signals import joined_fields_changed, records_written
from ingestion.touched import local_day_sql, touched_days_sql
from tenants.inputs import text_problem

MAX_API_ROWS = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int
    # The range of local days touched by created or changed rows (not part of equality: a
    # result is its counts).
    first_day: date | None = field(default=None, compare=False)
    last_day: date | None = field(default=None, compare=False)
    # Existing rows whose joined fields (Dataset.joined_fields) changed.
    rejoined: int = field(default=0, compare=False)



def _day_sql(alias: str, column: str, kind: str) -> str:
    quoted = f"{alias}.{connection.ops.quote_name(column)}"
    # Timestamps fall on the local day of the workspace; months and dates are days already.
    return local_day_sql(quoted) if kind == "timestamp" else quoted


@transaction.atomic
def records_upsert(*, dataset: Dataset, rows: list[tuple[dict, dict]], currency: str,
                   time_zone: str | None = None) -> UpsertResult:
    """Upsert ``rows`` — (clean values, extra) pairs from ``row_parse`` — into the dataset's
    table in the current workspace schema (see ``records_upsert_lines``)."""
    defaults = {"currency": currency} if dataset.key == "revenue" else None
    lines = [copy_line(dataset, values, extra, defaults=defaults) for values, extra in rows]
    return records_upsert_lines(dataset=dataset, lines=lines, time_zone=time_zone)


@transaction.atomic
def records_upsert_lines(*, dataset: Dataset, lines: list[str], time_zone: str | None = None) -> UpsertResult:
    """Upsert rows given as COPY text lines (``ingestion.copyformat``) into the dataset's
    table in the current workspace schema. A key repeated within ``lines`` keeps its last
    occurrence; the earlier ones count as updated. The local days of every created or
    changed row (before and after the change) are recorded in TouchedDay for the KPI engine."""
    if not lines:
        return UpsertResult(0, 0, 0)
    return records_upsert_lines_overlapped(dataset=dataset, lines=lines, time_zone=time_zone, meanwhile=lambda: None)[0]


@transaction.atomic
def records_upsert_lines_overlapped(*, dataset: Dataset, lines: list[str], time_zone: str | None,
                                    meanwhile: Callable[[], T]) -> tuple[UpsertResult, T]:
    """``records_upsert_lines``, calling ``meanwhile`` while PostgreSQL runs the merge: the
    merge is sent in pipeline mode and its result read only after ``meanwhile`` returns, so
    an import parses its next chunk on one core while the database merges on the other."""
    model = dataset_model(dataset)
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in [f.name for f in dataset.fields] + ["extra"])
    tz = time_zone or getattr(connection.tenant, "time_zone", None) or "UTC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE pulse_stage ON COMMIT DROP AS SELECT {column_list} FROM {table} WITH NO DATA; "
            # Rows are numbered in the order COPY reads them, so a repeated key keeps its last row.
            "ALTER TABLE pulse_stage ADD COLUMN _ord bigint GENERATED ALWAYS AS IDENTITY"
        )
        with cursor.copy(f"COPY pulse_stage ({column_list}) FROM STDIN") as copy:
            copy.write("".join(lines))
    raw = connection.connection  # the psycopg connection, in the same transaction
    with connection.cursor() as cursor:
        # The merge sorts the chunk by key: keep that sort in memory (the default 4 MB
        # spills a 20,000-row chunk to disk).
        cursor.execute("SET LOCAL work_mem = '64MB'")
    with raw.pipeline():
        merge = raw.cursor()
        merge.execute(_merge_sql(dataset), {"dataset": dataset.key, "tz": tz})
        other = meanwhile()
    created, updated, distinct, first_day, last_day, rejoined = merge.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE pulse_stage")
    superseded = len(lines) - distinct
    result = UpsertResult(created=created, updated=updated + superseded, unchanged=distinct - created - updated,
                          first_day=first_day, last_day=last_day, rejoined=rejoined)
    if rejoined:
        _joined_fields_changed(dataset.key, rejoined)
    return result, other


def _joined_fields_changed(dataset_key: str, rows: int) -> None:
    """Send ``joined_fields_changed`` once the write commits (the recompute it leads to must
    see it), whatever wrote (an import chunk, the records API, the demo loader), in the
    workspace written to: the connection may be back in another schema by then."""
    tenant = connection.tenant

    def send():
        with tenant_context(tenant):
            joined_fields_changed.send(sender=UpsertResult, dataset=dataset_key, rows=rows)

    transaction.on_commit(send)


def _merge_sql(dataset: Dataset) -> str:
    """One statement merging pulse_stage into the dataset's table: insert new keys, update
    changed rows only, record the touched local days, and count what happened."""
    table = connection.ops.quote_name(dataset_model(dataset)._meta.db_table)
    quoted = [connection.ops.quote_name(c) for c in [f.name for f in dataset.fields] + ["extra"]]
    column_list = ", ".join(quoted)
    key_names = [connection.ops.quote_name(k) for k in dataset.key_fields]
    keys = ", ".join(key_names)
    time_columns = dataset.time_columns
    changed = " OR ".join(f"t.{q} IS DISTINCT FROM EXCLUDED.{q}" for q in quoted)
    assignments = ", ".join(f"{q} = EXCLUDED.{q}" for q in quoted)
    join = " AND ".join(f"t.{k} = s.{k}" for k in key_names)
    days_new = ", ".join(_day_sql("w", c, k) for c, k in time_columns)
    days_old = ", ".join(_day_sql("o", c, k) for c, k in time_columns)
    old_columns = ", ".join(f"t.{connection.ops.quote_name(c)}" for c, _ in time_columns)
    joined = [connection.ops.quote_name(c) for c in dataset.joined_fields]
    # An updated row's joined fields: RETURNING gives the new values, the table (read as
    # it was before the statement) the old ones.
    rejoined = " OR ".join(f"t.{q} IS DISTINCT FROM s.{q}" for q in joined) or "FALSE"
    returned = ", ".join(dict.fromkeys(key_names + [connection.ops.quote_name(c) for c, _ in time_columns] + joined))
    touched = touched_days_sql(
        dataset="%(dataset)s", day="unnest(t.days)",
        source=f"(SELECT ARRAY[{days_new}] FROM written w UNION ALL SELECT ARRAY[{days_old}] FROM old o) AS t(days)")
    return f"""
        WITH src AS (
            SELECT DISTINCT ON ({keys}) {column_list} FROM pulse_stage ORDER BY {keys}, _ord DESC
        ), written AS (
            INSERT INTO {table} AS t ({column_list}, imported_at)
            SELECT {column_list}, now() FROM src
            ON CONFLICT ({keys}) DO UPDATE SET {assignments}, imported_at = now()
            WHERE {changed}
            RETURNING (xmax = 0) AS inserted, {returned}
        ), old AS (
            -- Every part of the statement reads the table as it was before it: joined to
            -- the rows just updated, it gives their old values (no lookups for new rows).
            SELECT {old_columns}, {rejoined} AS rejoined FROM written s JOIN {table} t ON {join} WHERE NOT s.inserted
        ), touched AS ({touched}
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
               (SELECT count(*) FROM src), (SELECT min(day) FROM touched), (SELECT max(day) FROM touched),
               (SELECT count(*) FROM old WHERE rejoined)
        FROM written
    """


@dataclass(frozen=True)
class IngestResult:
    created: int
    updated: int
    unchanged: int
    rejected: list[dict]


def records_ingest(*, dataset: Dataset, items: list, workspace) -> IngestResult:
    """Validate JSON rows (field names matched case-insensitively), upsert the valid ones
    and report every rejected field of every rejected row by its index."""
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    names = sorted({key for item in items if isinstance(item, dict) for key in item})
    matched = header_match(dataset, names)
    mapping = [matched.get(name) or "" for name in names]
    defaults = {"currency": workspace.currency} if dataset.key == "revenue" else None
    # The fast path takes rows whose keys are all fields, given once each (with its
    # values as text); anything else — extra keys, non-text values — goes through row_parse.
    fields_only = {name for name, field_name in zip(names, mapping) if field_name}
    fast = len(set(filter(None, mapping))) == len(fields_only)
    convert = row_converter(dataset, names, mapping, tz=tz, defaults=defaults) if fast else None
    lines, rejected = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": index, "field": None, "error": "each row must be a JSON object"})
            continue
        line = None
        if convert is not None and item.keys() <= fields_only:
            row = [_json_text(item.get(name)) for name in names]
            # JSON text may hold lone surrogates (a CSV file cannot: it is decoded with
            # replacement characters), which the fast path does not look for.
            if None not in row and text_problem("".join(row)) is None:
                line = convert(row)
        if line is None:
            parsed = row_parse(dataset, {(matched.get(key) or key): value for key, value in item.items()}, tz=tz)
            if not parsed.ok:
                rejected.extend({"index": index, "field": field_name, "error": message}
                                for field_name, message in parsed.errors)
                continue
            line = copy_line(dataset, parsed.values, parsed.extra, defaults=defaults)
        lines.append(line)
    result = records_upsert_lines(dataset=dataset, lines=lines, time_zone=workspace.time_zone)
    if result.created or result.updated:
        records_written_announce(dataset_key=dataset.key)
    return IngestResult(result.created, result.updated, result.unchanged, rejected)


def _json_text(value) -> str | None:
    """A JSON value as the text a CSV cell would hold for it, or None when only row_parse
    can judge it (numbers that are not whole, objects, lists)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return None



def records_written_announce(*, dataset_key: str) -> None:
    """Send ``records_written`` (the KPI engine's cue) once the write commits."""
    transaction.on_commit(lambda: records_written.send(sender=UpsertResult, dataset=dataset_key))
