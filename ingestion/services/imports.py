"""The import job's lifecycle around its run: store an upload as a draft job, confirm its
mapping and queue it, re-queue jobs no worker is running, and delete uploads nobody needs.
The run itself is ``ingestion.services.import_run``."""
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ingestion.csvfiles import ImportFileError, sniff
from ingestion.datasets import DATASETS, Dataset
from ingestion.models import ColumnMapping, ImportJob
from ingestion.selectors.mapping import header_normalised, mapping_problems, mapping_suggest
from ingestion.services.import_run import advisory_key, job_fail
from ingestion.uploads import size_text, upload_converted, upload_name
from tenants.tasking import enqueue


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
        raise ImportFileError(f"The file is {size_text(upload.size)}, over the {size_text(limit)} limit. Split it into smaller files.")
    name = default_storage.save(upload_name(connection.schema_name), upload_converted(upload))
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


@transaction.atomic
def import_start(*, job: ImportJob, mapping: list[str], mode: str) -> ImportJob:
    """Confirm the mapping of a draft import, remember it for the dataset, queue the job."""
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
    enqueue("ingestion.tasks.import_run_task", str(job.pk))
    return job


def _mapping_remember(*, dataset: Dataset, headers: list[str], mapping: list[str]) -> None:
    ColumnMapping.objects.update_or_create(
        dataset=dataset.key,
        defaults={"columns": {header_normalised(h): m for h, m in zip(headers, mapping, strict=True)}},
    )


MAX_ATTEMPTS = 3


def imports_resume(*, stalled_after: timedelta = timedelta(minutes=10)) -> int:
    """Re-queue the workspace's imports that no worker is running: ``running`` ones (their
    worker died) and ``queued`` ones waiting longer than ``stalled_after`` (their message
    was lost). A job whose advisory lock is taken is being run and is left alone; one that
    has failed MAX_ATTEMPTS times is marked failed. Returns how many were re-queued."""
    candidates = ImportJob.objects.filter(
        Q(status=ImportJob.Status.RUNNING)
        | Q(status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - stalled_after))
    requeued = 0
    for job in candidates:
        key = advisory_key(job)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        if job.attempts >= MAX_ATTEMPTS:
            job_fail(job, job.error or f"The import stopped {job.attempts} times without finishing; upload the file again.")
            continue
        with transaction.atomic():
            enqueue("ingestion.tasks.import_run_task", str(job.pk))
        requeued += 1
    return requeued


def imports_cleanup(*, draft_after: timedelta = timedelta(days=2), finished_after: timedelta = timedelta(days=1)) -> int:
    """Delete the uploads nobody will use: drafts never started within ``draft_after`` (job
    and file), and files of imports finished more than ``finished_after`` ago (the job, its
    counts and rejected rows stay: the report and the rejected-rows file are read from the
    database). Nightly, so reading a report (a GET) writes nothing. Returns files deleted."""
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
