"""Writing dataset rows: validated rows go through a temporary staging table filled with
COPY, then one ``INSERT … ON CONFLICT DO UPDATE`` upserts them, updating only rows whose
values changed. Everything runs in PostgreSQL; Python only parses and streams the rows."""
import re
import tempfile
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import BinaryIO, Callable, Iterator, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.copyformat import copy_line, row_converter
from ingestion.csvfiles import CsvFormat, ImportFileError, Record as CsvRecord, records_read, sniff, utf16_to_utf8
from ingestion.datasets import DATASETS, Dataset, header_match, row_parse
from ingestion.models import ColumnMapping, ImportJob, ImportRejection
from ingestion.signals import joined_fields_changed, records_written
from tenants.tasking import enqueue

MAX_API_ROWS = 10_000
T = TypeVar("T")

MODELS = {
    "customers": "ingestion.Customer",
    "revenue": "ingestion.Revenue",
    "conversations": "ingestion.Conversation",
    "events": "ingestion.Event",
    "survey_responses": "ingestion.SurveyResponse",
    "social_mentions": "ingestion.SocialMention",
}


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


def dataset_model(dataset: Dataset):
    return apps.get_model(MODELS[dataset.key])


def _time_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """The dataset's time fields whose days KPI periods are built on: (column, kind)."""
    return [(f.name, f.kind) for f in dataset.fields if f.kind in ("timestamp", "month", "date")]


def _day_sql(alias: str, column: str, kind: str) -> str:
    quoted = f"{alias}.{connection.ops.quote_name(column)}"
    # Timestamps fall on the local day of the workspace; months and dates are days already.
    return f"({quoted} AT TIME ZONE %(tz)s)::date" if kind == "timestamp" else quoted


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
    time_columns = _time_columns(dataset)
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
        ), touched AS (
            INSERT INTO ingestion_touchedday (dataset, day, recorded_at)
            SELECT DISTINCT %(dataset)s, d.day, now() FROM (
                SELECT unnest(ARRAY[{days_new}]) FROM written w
                UNION ALL SELECT unnest(ARRAY[{days_old}]) FROM old o
            ) AS d(day) WHERE d.day IS NOT NULL
            ON CONFLICT (dataset, day) DO UPDATE SET recorded_at = EXCLUDED.recorded_at
            RETURNING day
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
            if None not in row:
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
        _records_written(dataset.key)
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


# ------------------------------------------------------------------------------ imports

def _normalised(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.lstrip("\ufeff").strip().lower())


def mapping_suggest(*, dataset: Dataset, headers: list[str]) -> list[str]:
    """For each header, the field it most likely feeds ('' = keep in ``extra``): the mapping
    last confirmed for this dataset first, then a case-insensitive name match. A field is
    suggested for one column only."""
    remembered = ColumnMapping.objects.filter(dataset=dataset.key).values_list("columns", flat=True).first() or {}
    matched = header_match(dataset, headers)
    suggestion, used = [], set()
    for header in headers:
        field_name = remembered.get(_normalised(header), matched.get(header)) or ""
        if field_name not in dataset.by_name or field_name in used:
            field_name = ""
        used.add(field_name)
        suggestion.append(field_name)
    return suggestion


def mapping_problems(*, dataset: Dataset, headers: list[str], mapping: list[str]) -> list[str]:
    """Why ``mapping`` cannot be used: required fields without a column, a field fed twice."""
    problems = []
    mapped = [m for m in mapping if m]
    unknown = sorted({m for m in mapped if m not in dataset.by_name})
    if unknown:
        problems.append(f"{', '.join(unknown)} {'is not a field' if len(unknown) == 1 else 'are not fields'} of {dataset.key}.")
    twice = sorted({m for m in mapped if mapped.count(m) > 1})
    if twice:
        problems.append(f"Each field takes one column; more than one column is mapped to {', '.join(twice)}.")
    missing = [name for name in dataset.required if name not in mapped]
    if missing:
        problem = f"No column is mapped to the required field{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
        likely = _likely_dataset(headers, other_than=dataset.key)
        if likely:
            problem += f" The columns look like the {likely.label.lower()} dataset: is this the right dataset?"
        problems.append(problem)
    return problems


def _likely_dataset(headers: list[str], *, other_than: str) -> Dataset | None:
    """The dataset whose required fields the headers all name, if any (wrong-dataset hint)."""
    names = {_normalised(h) for h in headers}
    for candidate in DATASETS.values():
        if candidate.key != other_than and all(name in names for name in candidate.required):
            return candidate
    return None


def _mapping_remember(*, dataset: Dataset, headers: list[str], mapping: list[str]) -> None:
    ColumnMapping.objects.update_or_create(
        dataset=dataset.key,
        defaults={"columns": {_normalised(h): m for h, m in zip(headers, mapping, strict=True)}},
    )


def _upload_name(schema: str) -> str:
    return f"imports/{schema}/{uuid.uuid4().hex}.csv"


@transaction.atomic
def import_create(*, dataset: Dataset, upload: UploadedFile, user=None, mode: str = ImportJob.Mode.VALID_ROWS,
                  source: str = "web", start: bool = False) -> ImportJob:
    """Store an uploaded CSV and describe it in an ImportJob, or raise ImportFileError.

    From the web the job waits for its mapping (status draft); from the API (``start``) the
    suggested mapping must cover every required field and the job is queued at once."""
    if mode not in ImportJob.Mode.values:
        raise ImportFileError(f"Unknown mode '{mode}'; use valid_rows or all_or_nothing.")
    limit = settings.IMPORT_MAX_BYTES
    if upload.size > limit:
        raise ImportFileError(f"The file is {_size(upload.size)}, over the {_size(limit)} limit. Split it into smaller files.")
    name = default_storage.save(_upload_name(connection.schema_name), _converted(upload))
    try:
        size = default_storage.size(name)
        with default_storage.open(name, "rb").file as stored:
            fmt = sniff(stored, size=size)
    except ImportFileError:
        default_storage.delete(name)
        raise
    job = ImportJob.objects.create(
        dataset=dataset.key, mode=mode, source=source, created_by=user, file=name,
        file_name=(upload.name or "upload.csv")[:255], file_size=size, encoding=fmt.encoding,
        delimiter=fmt.delimiter, bom=fmt.bom, headers=fmt.headers, checkpoint_offset=fmt.data_offset, checkpoint_line=2,
        mapping=mapping_suggest(dataset=dataset, headers=fmt.headers),
    )
    if start:
        problems = mapping_problems(dataset=dataset, headers=job.headers, mapping=job.mapping)
        if problems:
            default_storage.delete(name)
            raise ImportFileError(" ".join(problems))
        job = import_start(job=job, mapping=job.mapping, mode=mode)
    return job


def _converted(upload: UploadedFile):
    """The upload as stored: UTF-16 files are converted to UTF-8, everything else is kept
    byte for byte (and moved rather than copied when Django spooled it to disk)."""
    upload.seek(0)
    converted = tempfile.TemporaryFile()
    if utf16_to_utf8(upload, converted):
        converted.seek(0)
        return File(converted, name="upload.csv")
    converted.close()
    upload.seek(0)
    return upload


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:,.0f} bytes"
    for unit in ("KB", "MB"):
        n /= 1024
        if n < 1024:
            return f"{n:,.1f} {unit}"
    return f"{n / 1024:,.1f} GB"


@transaction.atomic
def import_start(*, job: ImportJob, mapping: list[str], mode: str) -> ImportJob:
    """Confirm the mapping of a draft import, remember it for the dataset, queue the job."""
    from ingestion.tasks import import_run

    dataset = DATASETS[job.dataset]
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.DRAFT:
        raise ImportFileError("This import has already started.")
    if len(mapping) != len(job.headers):
        raise ImportFileError("The mapping must give one choice per column of the file.")
    problems = mapping_problems(dataset=dataset, headers=job.headers, mapping=mapping)
    if problems:
        raise ImportFileError(" ".join(problems))
    _mapping_remember(dataset=dataset, headers=job.headers, mapping=mapping)
    job.mapping, job.mode, job.status = mapping, mode, ImportJob.Status.QUEUED
    job.phase = ImportJob.Phase.VALIDATE if mode == ImportJob.Mode.ALL_OR_NOTHING else ImportJob.Phase.LOAD
    job.save(update_fields=["mapping", "mode", "status", "phase"])
    enqueue(import_run, str(job.pk))
    return job


def import_preview(*, job: ImportJob, mapping: list[str], limit: int = 10) -> list[dict]:
    """The first ``limit`` rows of the file as they would be imported with ``mapping``:
    each with its line, its cells (value and error, if any) and errors of the whole row."""
    dataset = DATASETS[job.dataset]
    tz = zoneinfo.ZoneInfo(connection.tenant.time_zone)
    fmt = _format(job)
    column_of = {name: index for index, name in enumerate(mapping) if name}
    rows = []
    with _upload_open(job) as file:
        for record in records_read(file, fmt, offset=_data_offset(job, file, fmt), line=2):
            errors = _record_errors(dataset, job.headers, mapping, record, tz)[1]
            cells = [{"value": value, "error": ""} for value in record.values]
            row_errors = []
            for name, message in errors:
                index = column_of.get(name)
                if index is not None and index < len(cells):
                    cells[index]["error"] = f"{cells[index]['error']}; {message}" if cells[index]["error"] else message
                else:
                    row_errors.append(message)
            rows.append({"line": record.line, "cells": cells, "row_errors": row_errors, "ok": not errors})
            if len(rows) >= limit:
                break
    return rows


def _upload_open(job: ImportJob) -> BinaryIO:
    # The storage's own file object: Django's File wrapper rewinds when iterated.
    if not job.file:
        raise FileNotFoundError(job.pk)
    return default_storage.open(job.file.name, "rb").file


def _format(job: ImportJob) -> CsvFormat:
    return CsvFormat(encoding=job.encoding, delimiter=job.delimiter, headers=job.headers, data_offset=0)


def _data_offset(job: ImportJob, file, fmt: CsvFormat) -> int:
    """Byte offset of the first data row, found again by reading the header."""
    return sniff(file, size=job.file_size).data_offset


def _record_errors(dataset: Dataset, headers: list[str], mapping: list[str], record: CsvRecord, tz):
    """(parsed row or None, [(field or '', message)]) for one CSV record."""
    if record.problem:
        return None, [("", record.problem)]
    values = record.values
    if len(values) != len(headers):
        return None, [("", f"the row has {len(values)} column{'s' if len(values) != 1 else ''}, the header has {len(headers)}")]
    raw = {name: value for name, value in zip(mapping, values) if name}
    extra = {header: value for header, name, value in zip(headers, mapping, values) if not name}
    row = row_parse(dataset, raw, tz=tz, extra=extra)
    return row, row.errors


# Rows per committed chunk: the unit of progress and of resumption.
def _chunk_rows() -> int:
    return settings.IMPORT_CHUNK_ROWS


def _advisory_key(job: ImportJob) -> int:
    return int.from_bytes(job.pk.bytes[:8], "big", signed=True)


def import_job_run(*, job_id: str) -> ImportJob | None:
    """Run (or resume) an import from its last checkpoint. Each chunk of rows is upserted,
    its rejections stored and the checkpoint advanced in one transaction, so a worker
    killed at any point leaves a job that resumes with the same final result. A session
    advisory lock keeps two workers off the same job; it is released if a worker dies."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    key = _advisory_key(job)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            return job  # another worker is running it
    try:
        return _import_run_locked(job_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _import_run_locked(job_id: str) -> ImportJob:
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=job.started_at or now, heartbeat_at=now, attempts=F("attempts") + 1)
    job.refresh_from_db()
    dataset = DATASETS[job.dataset]
    fmt = _format(job)
    try:
        file = _upload_open(job)
    except OSError:
        return _import_fail(job, "The uploaded file is no longer stored; upload it again.")
    with file:
        while True:
            records = records_read(file, fmt, offset=job.checkpoint_offset, line=job.checkpoint_line)
            parser = _ChunkParser(job, dataset, records, connection.tenant)
            chunk = parser.next()
            while chunk is not None:
                chunk = _import_chunk(job, dataset, chunk, parser)
            job.refresh_from_db()
            if job.mode == ImportJob.Mode.ALL_OR_NOTHING and job.phase == ImportJob.Phase.VALIDATE:
                if job.rejected_rows:
                    # All or nothing: a single bad row means no row is imported.
                    return _import_finish(job, skipped=job.processed_rows - job.rejected_rows)
                _import_phase_load(job, file, fmt)
                job.refresh_from_db()
                continue
            return _import_finish(job)


@transaction.atomic
def _import_phase_load(job: ImportJob, file, fmt: CsvFormat) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        phase=ImportJob.Phase.LOAD, checkpoint_offset=_data_offset(job, file, fmt), checkpoint_line=2, processed_rows=0)


@dataclass
class _Chunk:
    lines: list[str]  # valid rows as COPY lines
    rejections: list[ImportRejection]
    last: CsvRecord  # its last row: the checkpoint after it
    count: int
    processed: int  # rows read since the start of the phase, this chunk included


class _ChunkParser:
    """Reads, validates and formats the next chunk of rows of a job."""

    def __init__(self, job: ImportJob, dataset: Dataset, records: Iterator[CsvRecord], workspace):
        self.job, self.dataset, self.records = job, dataset, records
        self.tz = zoneinfo.ZoneInfo(workspace.time_zone)
        self.defaults = {"currency": workspace.currency} if dataset.key == "revenue" else None
        self.convert = row_converter(dataset, job.headers, job.mapping, tz=self.tz, defaults=self.defaults)
        self.processed = job.processed_rows
        self.limit = _chunk_rows()

    def next(self) -> _Chunk | None:
        job, convert = self.job, self.convert
        lines, rejections, last, count = [], [], None, 0
        for record in self.records:
            # The fast path formats valid rows straight away; row_parse judges the others.
            line = None if record.problem else convert(record.values)
            if line is None:
                row, errors = _record_errors(self.dataset, job.headers, job.mapping, record, self.tz)
                if errors:
                    rejections.append(ImportRejection(
                        job_id=job.pk, line=record.line, values=record.values,
                        errors=[{"column": column, "error": message} for column, message in errors]))
                else:
                    line = copy_line(self.dataset, row.values, row.extra, defaults=self.defaults)
            if line is not None:
                lines.append(line)
            last = record
            count += 1
            if count >= self.limit:
                break
        if last is None:
            return None
        self.processed += count
        return _Chunk(lines, rejections, last, count, self.processed)


def _import_chunk(job: ImportJob, dataset: Dataset, chunk: _Chunk, parser: _ChunkParser) -> _Chunk | None:
    """Load ``chunk`` and advance the checkpoint past it in one transaction; return the next
    chunk, which ``parser`` reads while PostgreSQL merges this one."""
    loading = job.phase == ImportJob.Phase.LOAD
    following = None
    with transaction.atomic():
        if loading and chunk.lines:
            result, following = records_upsert_lines_overlapped(
                dataset=dataset, lines=chunk.lines, time_zone=connection.tenant.time_zone, meanwhile=parser.next)
        else:
            result = UpsertResult(0, 0, 0)
        if chunk.rejections and not (job.mode == ImportJob.Mode.ALL_OR_NOTHING and loading):
            ImportRejection.objects.bulk_create(chunk.rejections, ignore_conflicts=True)
        fraction = chunk.last.end_offset / job.file_size if job.file_size else 1
        updates = dict(
            checkpoint_offset=chunk.last.end_offset, checkpoint_line=chunk.last.next_line,
            processed_rows=chunk.processed, heartbeat_at=timezone.now(),
            created_rows=F("created_rows") + result.created, updated_rows=F("updated_rows") + result.updated,
            unchanged_rows=F("unchanged_rows") + result.unchanged,
            total_rows=max(chunk.processed, round(chunk.processed / fraction)) if fraction else chunk.processed,
        )
        if not loading or job.mode == ImportJob.Mode.VALID_ROWS:
            updates["rejected_rows"] = F("rejected_rows") + len(chunk.rejections)
        if result.first_day:
            updates["touched_from"] = Least(Coalesce("touched_from", result.first_day), result.first_day)
            updates["touched_until"] = Greatest(Coalesce("touched_until", result.last_day), result.last_day)
        ImportJob.objects.filter(pk=job.pk).update(**updates)
    return following if (loading and chunk.lines) else parser.next()


def _import_finish(job: ImportJob, *, skipped: int = 0) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, total_rows=F("processed_rows") if not skipped else job.processed_rows,
        skipped_rows=skipped, finished_at=timezone.now(), heartbeat_at=timezone.now(), error="")
    job.refresh_from_db()
    if job.created_rows or job.updated_rows:
        _records_written(job.dataset)
    return job


def _records_written(dataset_key: str) -> None:
    transaction.on_commit(lambda: records_written.send(sender=ImportJob, dataset=dataset_key))


def _import_fail(job: ImportJob, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def import_fail(*, job_id: str, message: str) -> None:
    """Record why a job could not run (called when its task fails for good)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job and not job.is_finished:
        _import_fail(job, message)


MAX_ATTEMPTS = 3


def imports_resume(*, stalled_after: timedelta = timedelta(minutes=10)) -> int:
    """Re-queue the workspace's imports that no worker is running: ``running`` ones (their
    worker died) and ``queued`` ones waiting longer than ``stalled_after`` (their message
    was lost). A job whose advisory lock is taken is being run and is left alone; one that
    has failed MAX_ATTEMPTS times is marked failed. Returns how many were re-queued."""
    from ingestion.tasks import import_run

    candidates = ImportJob.objects.filter(
        Q(status=ImportJob.Status.RUNNING)
        | Q(status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - stalled_after))
    requeued = 0
    for job in candidates:
        key = _advisory_key(job)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        if job.attempts >= MAX_ATTEMPTS:
            _import_fail(job, job.error or f"The import stopped {job.attempts} times without finishing; upload the file again.")
            continue
        with transaction.atomic():
            enqueue(import_run, str(job.pk))
        requeued += 1
    return requeued


def import_report_read(*, job: ImportJob) -> ImportJob:
    """Note that the report of a finished import has been read; its upload is then deleted
    (the rejected rows stay downloadable from the database)."""
    if not job.is_finished:
        return job
    if job.report_read_at is None:
        job.report_read_at = timezone.now()
        job.save(update_fields=["report_read_at"])
    if job.file:
        default_storage.delete(job.file.name)
        job.file = ""
        job.save(update_fields=["file"])
    return job


def imports_cleanup(*, draft_after: timedelta = timedelta(days=2), finished_after: timedelta = timedelta(days=30)) -> int:
    """Delete the uploads nobody will use: drafts never started within ``draft_after`` (job
    and file), and files of imports finished more than ``finished_after`` ago whose report
    was never read (the job, its counts and rejected rows stay). Returns files deleted."""
    now = timezone.now()
    deleted = 0
    for job in ImportJob.objects.filter(status=ImportJob.Status.DRAFT, created_at__lt=now - draft_after):
        if job.file:
            default_storage.delete(job.file.name)
            deleted += 1
        job.delete()
    stale = ImportJob.objects.filter(status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED],
                                     finished_at__lt=now - finished_after).exclude(file="")
    for job in stale:
        default_storage.delete(job.file.name)
        deleted += 1
    stale.update(file="")
    return deleted
