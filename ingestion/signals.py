"""Signals other apps listen to. ``records_written`` is sent (after commit) when an import
or a records API call created or changed rows, so the KPI engine recomputes the days they
touched without ingestion depending on it."""
from django.dispatch import Signal

records_written = Signal()  # kwargs: dataset (key)
