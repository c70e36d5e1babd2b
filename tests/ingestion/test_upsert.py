from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from django_tenants.utils import tenant_context

from ingestion.datasets import DATASETS, row_parse
from ingestion.models import Conversation, Revenue
from ingestion.services.records import UpsertResult, records_upsert

PARIS = ZoneInfo("Europe/Paris")


def parsed(dataset, rows):
    result = []
    for raw in rows:
        row = row_parse(DATASETS[dataset], raw, tz=PARIS)
        assert row.ok, row.errors
        result.append((row.values, row.extra))
    return result


def conversation(n, **overrides):
    return {"external_id": f"c-{n}", "channel": "chat", "created_at": "2026-03-01T10:00:00Z", **overrides}


def upsert(dataset, raws, currency="EUR"):
    return records_upsert(dataset=DATASETS[dataset], rows=parsed(dataset, raws), currency=currency)


def test_create_then_reimport_is_unchanged_then_a_changed_row_is_updated(workspace):
    with tenant_context(workspace):
        assert upsert("conversations", [conversation(1), conversation(2, tags="a;b", mood="calm")]) == UpsertResult(2, 0, 0)
        assert upsert("conversations", [conversation(1), conversation(2, tags="a;b", mood="calm")]) == UpsertResult(0, 0, 2)
        assert upsert("conversations", [conversation(1, resolved_at="2026-03-01T12:00:00Z"), conversation(2, tags="a;b", mood="calm")]) == UpsertResult(0, 1, 1)
        assert Conversation.objects.count() == 2
        stored = Conversation.objects.get(external_id="c-2")
        assert (stored.tags, stored.extra, stored.contacts, stored.customer_external_id) == (["a", "b"], {"mood": "calm"}, 1, "")
        assert Conversation.objects.get(external_id="c-1").resolved_at == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def test_a_key_repeated_in_one_batch_keeps_its_last_row(workspace):
    with tenant_context(workspace):
        result = upsert("conversations", [conversation(1, agent="ann"), conversation(1, agent="bob")])
        assert result == UpsertResult(1, 1, 0)
        assert Conversation.objects.get().agent == "bob"


def test_revenue_is_keyed_by_customer_product_and_month_with_the_workspace_currency(workspace):
    rows = [{"customer_external_id": "u1", "month": "2026-03", "mrr": "10"},
            {"customer_external_id": "u1", "month": "2026-03", "mrr": "5", "product": "addon"},
            {"customer_external_id": "u1", "month": "2026-04", "mrr": "12", "currency": "USD"}]
    with tenant_context(workspace):
        assert upsert("revenue", rows) == UpsertResult(3, 0, 0)
        assert upsert("revenue", [{"customer_external_id": "u1", "month": "2026-03", "mrr": "11"}]) == UpsertResult(0, 1, 0)
        assert sorted(Revenue.objects.values_list("product", "month", "mrr", "currency")) == [
            ("addon", date(2026, 3, 1), Decimal("5.00"), "EUR"),
            ("default", date(2026, 3, 1), Decimal("11.00"), "EUR"),
            ("default", date(2026, 4, 1), Decimal("12.00"), "USD"),
        ]


def test_rows_land_in_the_current_workspace_only(workspace, other_workspace):
    with tenant_context(workspace):
        upsert("conversations", [conversation(1)])
    with tenant_context(other_workspace):
        assert not Conversation.objects.exists()
        assert upsert("conversations", [conversation(1)]) == UpsertResult(1, 0, 0)


def customer(n, **overrides):
    return {"external_id": f"u{n}", "signed_up_at": "2026-01-05T10:00:00Z", **overrides}


def test_a_change_of_an_existing_customers_plan_or_is_test_is_counted_and_signalled_on_commit(
        workspace, django_capture_on_commit_callbacks):
    from ingestion.signals import joined_fields_changed

    sent = []

    def receiver(sender, dataset, rows, **kwargs):
        sent.append((dataset, rows))

    joined_fields_changed.connect(receiver, dispatch_uid="test-joined")
    try:
        with tenant_context(workspace):
            with django_capture_on_commit_callbacks() as callbacks:
                created = upsert("customers", [customer(1, plan="basic"), customer(2), customer(3)])
            # New customers: no KPI value counted their rows as theirs yet.
            assert (created, created.rejoined, callbacks) == (UpsertResult(3, 0, 0), 0, [])
            with django_capture_on_commit_callbacks() as callbacks:
                changed = upsert("customers", [customer(1, plan="pro"), customer(2, is_test="true"),
                                               customer(3, name="Ann"), customer(4, plan="pro", is_test="true")])
            # u1's plan and u2's is_test changed; u3's name is not joined; u4 is new.
            assert (changed, changed.rejoined) == (UpsertResult(1, 3, 0), 2)
            assert len(callbacks) == 1 and sent == []  # only once the write commits
            callbacks[0]()
            assert sent == [("customers", 2)]
            with django_capture_on_commit_callbacks() as callbacks:
                again = upsert("conversations", [conversation(1, agent="ann")])
                again = upsert("conversations", [conversation(1, agent="bob")])
            assert (again, again.rejoined, callbacks) == (UpsertResult(0, 1, 0), 0, [])  # no joined fields
    finally:
        joined_fields_changed.disconnect(dispatch_uid="test-joined")
