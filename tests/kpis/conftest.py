
import pytest
from django_tenants.utils import tenant_context

from kpis.services.compute import kpis_compute
from tests.kpis.helpers import load_into, snapshot_get


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
        yield snapshot_get


