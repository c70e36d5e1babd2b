from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    label = "kpis"
    verbose_name = "KPIs"

    def ready(self):
        # Importing the definitions registers every KPI.
        from kpis import definitions  # noqa: F401
        from ingestion.signals import joined_fields_changed, records_written

        records_written.connect(_recompute_touched, dispatch_uid="kpis-recompute-touched")
        joined_fields_changed.connect(_recompute_joined, dispatch_uid="kpis-recompute-joined")


def _recompute_touched(sender, dataset, **kwargs):
    # Sent after commit, inside the workspace's schema: queue the touched-days recompute.
    from tenants.tasking import enqueue

    enqueue("kpis.tasks.recompute_touched_task")


def _recompute_joined(sender, dataset, **kwargs):
    # Sent after commit, inside the workspace's schema: a plan or is_test changed, so every
    # day of the KPIs reading customers may have moved (not just the touched days).
    from kpis.services.recomputes import kpis_joined_changed

    kpis_joined_changed(dataset=dataset)
