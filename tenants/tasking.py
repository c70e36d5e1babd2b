"""Enqueueing Celery tasks for a workspace.

tenant-schemas-celery stamps the *current* schema on a task when it is sent. Tasks are sent
after commit (``transaction.on_commit``), and by then the connection may have switched back
to the public schema, so the tenant is captured when the task is requested and restored
around the send. Sending tenant work from the public schema is refused outright, because the
task would silently run against the public schema.
"""
from django.db import connection, transaction
from django.utils.module_loading import import_string

# Options for long, idempotent tasks (fan-outs, imports, recomputes): their own queue, and
# acknowledged only once done, so a worker killed mid-task leaves the message to be run
# again. With the worker's prefetch of 1 no other task waits behind a long one.
LONG_TASK = {"long_running": True, "acks_late": True, "reject_on_worker_lost": True}


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery router: long tasks to the ``long`` queue, emails to ``email`` (digests too)."""
    if getattr(task, "long_running", False):
        return {"queue": "long"}
    if name.startswith(("accounts.", "surveys.")) and ("email" in name or "send" in name):
        return {"queue": "email"}
    if name.startswith("kpis.digest"):
        return {"queue": "email"}
    return None
from django_tenants.utils import get_public_schema_name, tenant_context


class NoTenantContext(RuntimeError):
    pass


def enqueue(task, *args, **kwargs) -> None:
    """Send ``task`` for the current workspace once the surrounding transaction commits.

    ``task`` is the task or its dotted path ("ingestion.tasks.import_run_task"): services name
    the tasks they queue by path, so a service module never imports the tasks module that
    imports it (tasks → services is the one direction)."""
    if isinstance(task, str):
        task = import_string(task)
    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == get_public_schema_name():
        raise NoTenantContext(f"{task.name} is a workspace task: enqueue it inside a tenant context")

    def send():
        with tenant_context(tenant):
            task.apply_async(args=args, kwargs=kwargs)

    transaction.on_commit(send)
