import zoneinfo

import pytest
from django_tenants.utils import tenant_context

from ingestion.datasets import DATASETS, row_parse
from ingestion.services.records import records_upsert
from kpis.models import KpiSnapshot
from kpis.services.compute import kpis_compute


def load_into(workspace, dataset_key, rows):
    """Load rows (dicts of CSV-like text) of a dataset into ``workspace`` through the
    ingestion validator, as an import would; returns the upsert's result."""
    dataset = DATASETS[dataset_key]
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    parsed = [row_parse(dataset, row, tz=tz) for row in rows]
    assert all(p.ok for p in parsed), [p.errors for p in parsed if not p.ok]
    with tenant_context(workspace):
        return records_upsert(dataset=dataset, rows=[(p.values, p.extra) for p in parsed], currency="EUR")


@pytest.fixture
def load(workspace):
    return lambda dataset_key, rows: load_into(workspace, dataset_key, rows)


@pytest.fixture
def compute(workspace):
    """Compute the given KPIs for the local days [since, until) in ``workspace``."""

    def run(since, until, *keys):
        with tenant_context(workspace):
            kpis_compute(since=since, until=until, keys=list(keys))

    return run


@pytest.fixture
def snapshot(workspace):
    """The stored snapshot of a KPI for one period (and segment), or None."""
    with tenant_context(workspace):
        yield lambda key, kind, start, segment_kind="", segment="": KpiSnapshot.objects.filter(
            kpi=key, period_kind=kind, period_start=start, segment_kind=segment_kind, segment=segment).first()
