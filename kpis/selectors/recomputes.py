"""Reads about recomputes: which days hold data, the latest recompute requested, when
snapshots were computed (the "recompute now" button, the settings page)."""
from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.db.models import Max

from ingestion.datasets import DATASETS
from ingestion.fields import KNOWN_CHANNELS
from ingestion.models import dataset_model
from ingestion.touched import local_day_sql
from kpis.models import KpiRecompute, KpiSnapshot


def data_days() -> tuple[date, date] | None:
    """The local days [first, last + 1) holding any dataset row, or None when empty: the
    bounds of every time column of every dataset (``Dataset.time_columns``); a month's row
    covers the month, so it reaches 31 days past its first."""
    bounds = []
    for dataset in DATASETS.values():
        table = connection.ops.quote_name(dataset_model(dataset)._meta.db_table)
        for column, kind in dataset.time_columns:
            day = local_day_sql(connection.ops.quote_name(column)) if kind == "timestamp" else column
            last = f"{day} + 31" if kind == "month" else day
            bounds.append(f"SELECT min({day}), max({last}) FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(bounds)}) bounds(lo, hi)",
                       {"tz": connection.tenant.time_zone})
        first, last = cursor.fetchone()
    return None if first is None else (first, last + timedelta(days=1))


def kpi_recompute_latest():
    """The most recently requested recompute, or None."""
    return KpiRecompute.objects.order_by("-requested_at").first()


def snapshots_computed_at(*, keys: list[str], period_kind: str, since: date, until: date,
                          segment_kind: str | None = None):
    """When the newest of the snapshots of KPIs ``keys`` of kind ``period_kind`` starting in
    [since, until) (of one segment kind, or of all) was computed; None without snapshots.
    One query, on the snapshots' key index."""
    rows = KpiSnapshot.objects.filter(kpi__in=keys, period_kind=period_kind, period_start__gte=since,
                                      period_start__lt=until)
    if segment_kind is not None:
        rows = rows.filter(segment_kind=segment_kind)
    return rows.aggregate(at=Max("computed_at"))["at"]


def conversation_channels() -> list[str]:
    """The known channels, then any other channel found in the conversations (sorted). One
    query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT channel FROM ingestion_conversation WHERE channel <> '' ORDER BY 1")
        found = [channel for (channel,) in cursor.fetchall()]
    return [*KNOWN_CHANNELS, *(channel for channel in found if channel not in KNOWN_CHANNELS)]

