"""Requested recomputes (``KpiRecompute``): the "Recompute now" button, a settings change,
a change to fields other datasets join to, a calendar change. Each is a job a worker runs
under an advisory lock, resumed if its worker died."""
from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from kpis.models import KpiRecompute, KpiSettings
from kpis.registry import KPIS
from kpis.services.compute import kpis_recompute_all
from kpis.settings_uses import kpis_affected
from tenants.tasking import enqueue

RECOMPUTE_TASK = "kpis.tasks.recompute_task"


@transaction.atomic
def kpi_recompute_request() -> KpiRecompute:
    """Queue a full recompute of the workspace's snapshots (the "recompute now" button)."""
    job = KpiRecompute.objects.create()
    enqueue(RECOMPUTE_TASK, str(job.pk))
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
    requeued = 0
    for job in KpiRecompute.objects.filter(status=KpiRecompute.Status.RUNNING):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(job)])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(job)])
        with transaction.atomic():
            enqueue(RECOMPUTE_TASK, str(job.pk))
        requeued += 1
    return requeued


def kpi_recompute_fail(*, recompute_id: str, message: str) -> None:
    KpiRecompute.objects.filter(pk=recompute_id).exclude(status=KpiRecompute.Status.DONE).update(
        status=KpiRecompute.Status.FAILED, error=message, finished_at=timezone.now())


def kpi_recompute_queue(keys: list[str]) -> KpiRecompute:
    """Queue a recompute of just the KPIs ``keys`` (after the transaction commits)."""
    job = KpiRecompute.objects.create(keys=keys)
    enqueue(RECOMPUTE_TASK, str(job.pk))
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
    return kpi_recompute_queue(keys)


@transaction.atomic
def kpi_calendar_changed() -> KpiRecompute | None:
    """The workspace's business hours or holidays changed: in business-hours mode, queue a
    recompute of the KPIs that count working hours (mean time to resolution)."""
    if not KpiSettings.load().business_hours_mttr:
        return None
    return kpi_recompute_queue(kpis_affected(["business_hours_mttr"])["business_hours_mttr"])

