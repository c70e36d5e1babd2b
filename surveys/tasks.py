"""Survey tasks. Each runs in its workspace's schema (tenant-schemas-celery's TenantTask)
and calls one service. The sender is on the ``email`` queue (tenants.tasking.route_task)."""
import smtplib

from celery import shared_task
from tenant_schemas_celery.task import TenantTask

from surveys.services.sending import invitations_expire, invitations_send_due
from surveys.services.trigger import csat_trigger_scan

# A failing mail server is retried with backoff (the invitation being sent went back to
# the queue first). acks_late: a worker killed mid-batch leaves its message to be
# redelivered; the worker that starts next also runs the sender (config/celery.py). Either
# way the rows it left in "sending" are failed, never resent.
SEND = dict(base=TenantTask, autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=30, retry_backoff_max=900,
            max_retries=8, acks_late=True, reject_on_worker_lost=True)


@shared_task(name="surveys.invitations_send_due", **SEND)
def invitations_send_due_task() -> int:
    return invitations_send_due()


@shared_task(name="surveys.invitations_expire", base=TenantTask)
def invitations_expire_task() -> int:
    return invitations_expire()


@shared_task(name="surveys.csat_trigger_scan", base=TenantTask)
def csat_trigger_scan_task() -> int:
    return csat_trigger_scan()
