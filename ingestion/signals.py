"""Signals other apps listen to. ``records_written`` is sent (after commit) when an import
or a records API call created or changed rows, so the KPI engine recomputes the days they
touched without ingestion depending on it. ``joined_fields_changed`` is sent (after commit)
when a write changed a joined field (``Dataset.joined_fields``: a customer's plan or
is_test) of existing rows, which moves KPI values of every day: a wider recompute is due."""
from django.dispatch import Signal

records_written = Signal()  # kwargs: dataset (key)
joined_fields_changed = Signal()  # kwargs: dataset (key), rows (existing rows changed)
