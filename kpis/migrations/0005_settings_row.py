"""Every workspace schema holds its KPI settings row from the start, so reading the
settings never writes (``KpiSettings.load``) and changes always update one row."""
from django.db import migrations

DEFAULTS = {
    "visit_events": ["visit"], "conversion_events": ["purchase"], "checkout_events": ["checkout_started"],
    "activation_events": ["activated"], "voice_channels": ["phone"],
}


def create_row(apps, schema_editor):
    KpiSettings = apps.get_model("kpis", "KpiSettings")
    if not KpiSettings.objects.exists():
        KpiSettings.objects.create(**DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("kpis", "0004_min_sample_size")]
    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
