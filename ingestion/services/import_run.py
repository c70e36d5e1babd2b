"""Running an import job: under a PostgreSQL advisory lock on the job, read the stored
upload in chunks from the job's checkpoint, upsert each chunk's valid rows, keep its
rejections, and advance the checkpoint in the same transaction (``import_job_run``)."""
import zoneinfo
from dataclasses import dataclass
from typing import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from ingestion.copyformat import copy_line, row_converter
from ingestion.csvfiles import Record as CsvRecord, records_read
from ingestion.datasets import DATASETS, Dataset
from ingestion.models import ImportJob, ImportRejection
from ingestion.services.records import UpsertResult, records_upsert_lines_overlapped, records_written_announce
from ingestion.uploads import record_errors, upload_data_offset, upload_format, upload_open
from tenants.inputs import storable
from tenants.webhooks.events import webhook_import_finished


# Rows per committed chunk: the unit of progress and of resumption.
def _chunk_rows() -> int:
    return settings.IMPORT_CHUNK_ROWS


def advisory_key(job: ImportJob) -> int:
    """The job's advisory-lock key: held by the worker running it."""
    return int.from_bytes(job.pk.bytes[:8], "big", signed=True)


def import_job_run(*, job_id: str) -> ImportJob | None:
    """Run (or resume) an import from its last checkpoint. Each chunk of rows is upserted,
    its rejections stored and the checkpoint advanced in one transaction, so a worker
    killed at any point leaves a job that resumes with the same final result. A session
    advisory lock keeps two workers off the same job; it is released if a worker dies."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    key = advisory_key(job)
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
    fmt = upload_format(job)
    try:
        file = upload_open(job)
    except OSError:
        return job_fail(job, "The uploaded file is no longer stored; upload it again.")
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
                _import_phase_load(job, file)
                job.refresh_from_db()
                continue
            return _import_finish(job)


@transaction.atomic
def _import_phase_load(job: ImportJob, file) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        phase=ImportJob.Phase.LOAD, checkpoint_offset=upload_data_offset(job, file), checkpoint_line=2, processed_rows=0)


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
                row, errors = record_errors(self.dataset, job.headers, job.mapping, record, self.tz)
                if errors:
                    rejections.append(ImportRejection(
                        # As read, but with NUL as U+FFFD: jsonb cannot hold NUL (documented
                        # on the import report).
                        job_id=job.pk, line=record.line, values=[storable(value) for value in record.values],
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
        records_written_announce(dataset_key=job.dataset)
    webhook_import_finished(job=job)
    return job


def job_fail(job: ImportJob, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now())
    job.refresh_from_db()
    webhook_import_finished(job=job)
    return job


def import_fail(*, job_id: str, message: str) -> None:
    """Record why a job could not run (called when its task fails for good)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job and not job.is_finished:
        job_fail(job, message)

