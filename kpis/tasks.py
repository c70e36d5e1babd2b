from celery import shared_task
from tenant_schemas_celery.task import TenantTask

from kpis.services.alerts import alert_notify, alerts_evaluate
from kpis.services.digests import digest_preview_send, digest_send, digests_send_due
from kpis.services.compute import kpis_recompute_all, kpis_recompute_current, kpis_recompute_touched
from kpis.services.recomputes import kpi_recompute_fail, kpi_recompute_run, kpi_recomputes_resume
from tenants.tasking import LONG_TASK


class RecomputeTask(TenantTask):
    """tenant-schemas-celery's task class, recording why a requested recompute failed."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        kpi_recompute_fail(recompute_id=args[0], message=f"The recompute stopped on an internal error ({type(exc).__name__}).")


# Every recompute replaces a KPI's snapshots in one transaction: idempotent and safe to
# run again after a killed worker (acks_late re-delivers it).
@shared_task(name="kpis.recompute", base=RecomputeTask, **LONG_TASK)
def recompute_task(recompute_id: str) -> None:
    kpi_recompute_run(recompute_id=recompute_id)


@shared_task(name="kpis.recompute_touched", **LONG_TASK)
def recompute_touched_task() -> int:
    return kpis_recompute_touched()


@shared_task(name="kpis.recompute_current", **LONG_TASK)
def recompute_current_task() -> int:
    return kpis_recompute_current()


@shared_task(name="kpis.recompute_all", **LONG_TASK)
def recompute_all_task() -> int:
    return kpis_recompute_all()


@shared_task(name="kpis.recomputes_resume")
def recomputes_resume_task() -> int:
    return kpi_recomputes_resume()


@shared_task(name="kpis.alerts_evaluate")
def alerts_evaluate_task() -> dict:
    return alerts_evaluate()


# SMTP is slow and may fail: retried, and alert_notify claims each firing once.
@shared_task(name="kpis.alert_notify", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def alert_notify_task(alert_id: int) -> int:
    return alert_notify(alert_id=alert_id)


# Digest emails (kpis/services/digests.py). The due check runs every 15 minutes per
# workspace (beat's fan-out); sends go to the email queue (tenants.tasking.route_task)
# and are retried on connection errors: digest_send claims its delivery before sending,
# so a retried or re-delivered message never emails anyone twice.
@shared_task(name="kpis.digests_send_due")
def digests_send_due_task() -> int:
    return len(digests_send_due())


@shared_task(name="kpis.digest_send", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def digest_send_task(delivery_id: int) -> bool:
    return digest_send(delivery_id=delivery_id)


@shared_task(name="kpis.digest_preview_send", autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def digest_preview_send_task(user_id: int, frequency: str = "") -> bool:
    return digest_preview_send(user_id=user_id, frequency=frequency)
