from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "kpis.staffing"
    label = "staffing"
    verbose_name = "Staffing calculator"
