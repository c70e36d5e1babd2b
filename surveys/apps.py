from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from ingestion.signals import records_written
        from surveys.selectors import authoring  # noqa: F401 — registers the KPI survey segment's labels

        records_written.connect(_scan_resolved_conversations, dispatch_uid="surveys-csat-trigger")


def _scan_resolved_conversations(sender, dataset, **kwargs):
    # Conversations written (by an import or the records API) may have been resolved;
    # customers written may bring the email a resolved conversation was waiting for.
    if dataset in ("conversations", "customers"):
        from surveys.services.trigger import csat_trigger_later

        csat_trigger_later()
