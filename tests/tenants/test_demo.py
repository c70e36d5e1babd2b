"""Loading a generated world into the demo workspace (tenants.demo.demo_data_load)."""
from datetime import date

from django_tenants.utils import tenant_context

from ingestion.generator import World, rows
from ingestion.models import Customer, Event, Revenue
from tenants.demo import DatasetLoad, demo_data_load, demo_workspace_ensure

END = date(2026, 3, 15)


def test_a_smaller_world_replaces_a_bigger_one_and_reports_each_dataset(db):
    workspace, _ = demo_workspace_ensure()
    demo_data_load(workspace=workspace, world=World.scaled(0.02, end=END))
    small = World.scaled(0.01, end=END)
    seen = []
    loads = demo_data_load(workspace=workspace, world=small, progress=seen.append)
    assert seen == loads
    assert [load.dataset for load in loads] == ["customers", "revenue", "conversations", "events",
                                               "survey_responses", "social_mentions"]
    customers = loads[0]
    assert (customers.rows, customers.created + customers.updated + customers.unchanged, customers.removed) == (
        200, 200, 200)
    assert loads[3].removed == 5_000 and loads[3].rows == 5_000
    with tenant_context(workspace):
        assert Customer.objects.count() == 200
        assert Event.objects.count() == 5_000
        assert Revenue.objects.count() == sum(1 for _ in rows("revenue", small))
        # Every stored revenue row belongs to a customer of the world that is loaded now.
        assert not Revenue.objects.exclude(customer_external_id__in=Customer.objects.values("external_id")).exists()
    again = demo_data_load(workspace=workspace, world=small)
    assert [(load.created, load.updated, load.removed) for load in again] == [(0, 0, 0)] * 6
    assert all(isinstance(load, DatasetLoad) and load.unchanged == load.rows for load in again)
