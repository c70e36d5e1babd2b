from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "Datasets"

    def ready(self):
        from ingestion.signals import records_written

        records_written.connect(_score_new_mentions, dispatch_uid="ingestion-score-mentions")


def _score_new_mentions(sender, dataset, **kwargs):
    # Mentions imported without a sentiment get one from VADER, in the worker.
    if dataset == "social_mentions":
        from ingestion.sentiment import mentions_score_sentiment_later

        mentions_score_sentiment_later()
