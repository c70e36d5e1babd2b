from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    label = "kpis"
    verbose_name = "KPIs"

    def ready(self):
        # Importing the definitions registers every KPI.
        from kpis import definitions  # noqa: F401
