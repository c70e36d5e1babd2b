from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    label = "kpis"
    verbose_name = "KPIs"

    def ready(self):
        # Importing the definitions registers every KPI.
        from kpis import definitions  # noqa: F401
        from ingestion.signals import records_written

        records_written.connect(_recompute_touched, dispatch_uid="kpis-recompute-touched")


def _recompute_touched(sender, dataset, **kwargs):
    # Sent after commit, inside the workspace's schema: queue the touched-days recompute.
    from kpis.tasks import recompute_touched
    from tenants.tasking import enqueue

    enqueue(recompute_touched)
