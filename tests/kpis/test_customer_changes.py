"""A customer's plan or is_test changed by an import or any write: the KPIs reading
customers are recomputed over every day (their conversations, events and revenue lie on
days the customer rows do not touch), every expected value computed by hand (workspace
time zone Europe/Paris)."""
import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from kpis.models import KpiRecompute, KpiSnapshot
from kpis.registry import KPIS
from kpis.services.compute import kpis_compute
from kpis.services.recomputes import kpi_recompute_run
from tenants.accounts.models import Role
from tests.helpers import api_key_client, wait_until
from tests.kpis.helpers import CONVERSATIONS, CUSTOMERS, load_into

# Every KPI but the social ones (social mentions have no customer).
CUSTOMER_KPIS = [key for key in KPIS if not key.startswith("social_")]


def march(key, segment_kind="", segment=""):
    snapshot = KpiSnapshot.objects.filter(kpi=key, period_kind="month", period_start=date(2026, 3, 1),
                                          segment_kind=segment_kind, segment=segment).first()
    return None if snapshot is None else (snapshot.numerator, snapshot.denominator, round(snapshot.value, 4))


def with_changes(*changes):
    """CUSTOMERS with the given rows replacing theirs (by external_id)."""
    by_id = {row["external_id"]: row for row in changes}
    return [by_id.get(row["external_id"], row) for row in CUSTOMERS]


def test_a_flipped_is_test_or_plan_queues_one_recompute_that_updates_the_snapshots(
        workspace, load, django_capture_on_commit_callbacks):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))
        # c3 (cus-3) is the one abandoned conversation of the 7 in March (c7 is cus-test's).
        assert march("conversation_abandonment_rate") == (1, 7, round(100 / 7, 4))
        assert march("customer_retention_rate", "plan", "pro") is None
    with django_capture_on_commit_callbacks() as callbacks:
        load("customers", with_changes({**CUSTOMERS[2], "is_test": "true"}))
    with tenant_context(workspace):
        for callback in callbacks:  # the commit: records_written is not sent by a bare upsert
            callback()
        [job] = KpiRecompute.objects.all()
        assert (job.status, job.keys) == (KpiRecompute.Status.QUEUED, CUSTOMER_KPIS)
    # A second change while that recompute is still queued: the queued one will read it too.
    with django_capture_on_commit_callbacks() as callbacks:
        load("customers", with_changes({**CUSTOMERS[2], "is_test": "true"}, {**CUSTOMERS[3], "plan": "pro"}))
    with tenant_context(workspace):
        for callback in callbacks:
            callback()
        assert KpiRecompute.objects.count() == 1
        # Until it runs the snapshots are stale: the touched days (2025-01-01) hold no conversation.
        assert march("conversation_abandonment_rate") == (1, 7, round(100 / 7, 4))
        kpi_recompute_run(recompute_id=str(job.pk))
        # cus-3 is a test customer now: March has 6 conversations, none abandoned.
        assert march("conversation_abandonment_rate") == (0, 6, 0.0)
        # cus-4 moved to "pro": a customer there at the start and end of March, kept.
        assert march("customer_retention_rate", "plan", "pro") == (1, 1, 100.0)
        assert KpiRecompute.objects.get().status == KpiRecompute.Status.DONE


@pytest.mark.worker
def test_a_customers_import_flipping_is_test_is_recomputed_by_the_worker(committed_workspace, celery_worker):
    workspace = committed_workspace("kpirejoin")
    load_into(workspace, "customers", CUSTOMERS)
    load_into(workspace, "conversations", CONVERSATIONS)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))
        assert march("conversation_abandonment_rate") == (1, 7, round(100 / 7, 4))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["external_id", "signed_up_at", "is_test"])
    writer.writeheader()
    writer.writerow({"external_id": "cus-3", "signed_up_at": "2025-01-01T00:00:00Z", "is_test": "true"})
    response = api_key_client(workspace, Role.TEAM_LEAD).post(
        "/api/v1/imports", {"dataset": "customers", "file": SimpleUploadedFile("k.csv", buffer.getvalue().encode())})
    assert response.status_code == 202

    def recomputed():
        with tenant_context(workspace):
            done = KpiRecompute.objects.filter(status=KpiRecompute.Status.DONE, keys=CUSTOMER_KPIS).exists()
            return done and march("conversation_abandonment_rate")

    # cus-3's abandoned conversation (2 March) left out: 0 of 6.
    assert wait_until(recomputed, timeout=90) == (0, 6, 0.0)
