from celery import shared_task
from django_tenants.utils import tenant_context

from config.celery import app
from tenants.selectors import workspace_list
from tenants.tasking import LONG_TASK


@shared_task(name="tenants.fan_out", **LONG_TASK)
def fan_out_task(task_name: str) -> int:
    """Run in the public schema by beat: enqueue ``task_name`` once per workspace, each in
    its own schema. Returns how many workspaces were scheduled."""
    task = app.tasks[task_name]
    count = 0
    for workspace in workspace_list():
        with tenant_context(workspace):
            task.apply_async()
        count += 1
    return count
