from django.apps import AppConfig


class ThemesConfig(AppConfig):
    name = "kpis.themes"
    label = "themes"
    verbose_name = "Comment themes"

    def ready(self):
        from ingestion.signals import records_written

        records_written.connect(_match_new_comments, dispatch_uid="themes-match-new")


def _match_new_comments(sender, dataset, **kwargs):
    # Imported responses and mentions (and review decisions on Pulse answers) are matched
    # in the worker; beat's pass catches the answers given one by one.
    if dataset in ("survey_responses", "social_mentions"):
        from kpis.themes.services import themes_match_later

        themes_match_later()
