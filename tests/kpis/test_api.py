"""The KPI endpoints of api.md through the test client (API keys, roles, errors), and a
recompute run by a real Celery worker."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings, KpiSnapshot
from kpis.services.compute import kpis_compute
from tenants.accounts.models import Role
from tests.helpers import api_key_client, wait_until
from tests.kpis.helpers import CONVERSATIONS, CUSTOMERS, load_into, recompute_finished


def api(workspace, role=Role.VIEWER):
    return api_key_client(workspace, role)


@pytest.fixture
def loaded(workspace, load):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))
    return workspace


def test_kpi_list_has_the_keys_of_the_contract(loaded):
    body = api(loaded).get("/api/v1/kpis").json()
    keys = {k["key"] for k in body}
    assert {"nps", "csat", "first_contact_resolution", "mean_time_to_resolution", "conversation_abandonment_rate",
            "first_response_time", "sla_attainment"} <= keys
    fcr = next(k for k in body if k["key"] == "first_contact_resolution")
    assert fcr["unit"] == "%" and fcr["direction"] == "higher" and "repeat-contact window" in fcr["formula"]
    assert fcr["segments"] == ["channel", "agent", "team", "channel_kind"]


def test_series_per_month_with_previous_values_and_nulls(loaded):
    body = api(loaded).get("/api/v1/kpis/conversation_abandonment_rate",
                           {"period": "month", "start": "2026-02-01", "end": "2026-04-30"}).json()
    assert body["key"] == "conversation_abandonment_rate" and body["period"] == "month"
    assert [(s["period_start"], s["period_end"], s["value"], s["previous_value"]) for s in body["series"]] == [
        ("2026-02-01", "2026-02-28", None, None),
        ("2026-03-01", "2026-03-31", pytest.approx(100 / 7), None),
        ("2026-04-01", "2026-04-30", None, pytest.approx(100 / 7)),
    ]
    march = body["series"][1]
    assert (march["numerator"], march["denominator"], march["target"], march["status"], march["segment"]) == (1, 7, None, None, None)


def test_the_series_answer_has_exactly_the_fields_the_openapi_schema_declares(loaded):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    body = api(loaded).get("/api/v1/kpis/csat", {"period": "month", "start": "2026-03-01", "end": "2026-03-31"}).json()
    assert set(body) == set(components["KpiSeries"]["properties"])
    assert set(body["series"][0]) == set(components["SeriesPoint"]["properties"])
    assert set(components["SeriesPoint"]["required"]) == set(components["SeriesPoint"]["properties"])


def test_series_by_segment_and_target_status(loaded):
    with tenant_context(loaded):
        # Four conversations: judged as enough (n ≥ 1) here, where the target is the subject.
        KpiSettings.objects.update(targets={"conversation_abandonment_rate": {"target": 10}}, min_sample_size=1)
    body = api(loaded).get("/api/v1/kpis/conversation_abandonment_rate",
                           {"period": "month", "start": "2026-03-01", "end": "2026-03-31", "segment": "channel"}).json()
    assert [(s["segment"], round(s["value"], 2), s["target"], s["status"]) for s in body["series"]] == [
        ("chat", 50.0, 10, "off_target"), ("email", 0.0, 10, "on_target"), ("phone", 0.0, 10, "on_target")]


def test_a_custom_range_is_computed_live_and_equals_the_snapshot(loaded):
    client = api(loaded)
    ranged = client.get("/api/v1/kpis/first_contact_resolution", {"period": "range", "start": "2026-03-01", "end": "2026-03-31"}).json()
    [entry] = ranged["series"]
    monthly = client.get("/api/v1/kpis/first_contact_resolution", {"period": "month", "start": "2026-03-01", "end": "2026-03-31"}).json()
    assert entry["value"] == monthly["series"][0]["value"] == 50.0
    assert (entry["numerator"], entry["denominator"], entry["previous_value"]) == (3, 6, None)
    week = client.get("/api/v1/kpis/mean_time_to_resolution", {"period": "range", "start": "2026-03-02", "end": "2026-03-08"}).json()
    assert week["series"][0]["value"] == pytest.approx((2 + 26 + 0.5 + 1) / 4)  # c1 c2 c5 c6


def test_bad_queries_say_what_is_wrong(loaded):
    client = api(loaded)
    assert client.get("/api/v1/kpis/happiness").json()["detail"] == "Unknown KPI 'happiness'; GET /api/v1/kpis lists them."
    response = client.get("/api/v1/kpis/nps", {"segment": "team"})
    assert response.status_code == 400
    assert response.json()["errors"]["segment"] == ["nps can be split by: survey, channel, agent."]
    assert client.get("/api/v1/kpis/nps", {"period": "fortnight"}).status_code == 400
    assert client.get("/api/v1/kpis/nps", {"start": "2026-05-01", "end": "2026-04-01"}).json()["errors"]["start"] == [
        "start must be on or before end."]


def test_viewers_read_and_only_team_leads_recompute(loaded):
    assert api(loaded).get("/api/v1/kpis/nps").status_code == 200
    assert api(loaded).post("/api/v1/kpis/recompute").status_code == 403
    assert api(loaded, Role.AGENT).post("/api/v1/kpis/recompute").status_code == 403


def test_recompute_runs_in_the_worker(committed_workspace, celery_worker):

    workspace = committed_workspace("kpirun")
    load_into(workspace, "customers", CUSTOMERS)
    load_into(workspace, "conversations", CONVERSATIONS)
    client = api(workspace, Role.TEAM_LEAD)
    response = client.post("/api/v1/kpis/recompute")
    assert response.status_code == 202
    url = response.json()["url"]
    state = recompute_finished(client, url)
    assert (state["status"], state["progress"], state["error"]) == ("done", 1.0, "")
    with tenant_context(workspace):
        march = KpiSnapshot.objects.get(kpi="first_contact_resolution", period_kind="month",
                                        period_start=date(2026, 3, 1), segment_kind="")
    assert march.value == 50.0


def test_an_import_recomputes_just_the_days_it_touched(committed_workspace, celery_worker):
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from ingestion.models import TouchedDay

    workspace = committed_workspace("kpitouch")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CONVERSATIONS[0]))
    writer.writeheader()
    writer.writerows(CONVERSATIONS)
    client = api(workspace, Role.TEAM_LEAD)
    response = client.post("/api/v1/imports", {"dataset": "conversations",
                                               "file": SimpleUploadedFile("c.csv", buffer.getvalue().encode())})
    assert response.status_code == 202

    def recomputed():
        with tenant_context(workspace):
            return not TouchedDay.objects.exists() and KpiSnapshot.objects.filter(
                kpi="conversation_abandonment_rate", period_kind="month", period_start=date(2026, 3, 1), segment_kind="").first()

    snapshot = wait_until(recomputed, timeout=180)
    # No customers were imported: c7's customer is not known as a test customer, so it counts.
    assert (snapshot.numerator, snapshot.denominator) == (1, 8)
    with tenant_context(workspace):
        # Only the touched days (and what contains them) were computed, not every day.
        days = set(KpiSnapshot.objects.filter(kpi="conversation_abandonment_rate", period_kind="day", segment_kind="")
                   .values_list("period_start", flat=True))
    assert days == {date(2026, 3, 2), date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 31)}


def test_the_kpi_documentation_is_generated_from_the_registry():
    from pathlib import Path

    from kpis.management.commands.kpi_docs import kpi_docs

    written = (Path(__file__).resolve().parents[2] / "docs" / "kpis.md").read_text()
    assert written == kpi_docs(), "docs/kpis.md is stale: run `manage.py kpi_docs > docs/kpis.md`"


def test_a_worker_killed_mid_recompute_leaves_consistent_snapshots_and_the_next_one_finishes(
        committed_workspace, celery_worker):
    from django.db.models import Sum

    from ingestion.generator import World
    from kpis.models import KpiRecompute
    from kpis.registry import KPIS
    from tenants.demo import demo_data_load

    workspace = committed_workspace("kpikill")
    demo_data_load(workspace=workspace, world=World.scaled(0.1, end=date(2026, 11, 1)))
    client = api(workspace, Role.TEAM_LEAD)
    job_id = client.post("/api/v1/kpis/recompute").json()["id"]

    def progress():
        with tenant_context(workspace):
            return KpiRecompute.objects.get(pk=job_id)

    wait_until(lambda: progress().kpis_done >= 2, timeout=300, interval=0.05)
    celery_worker.kill()
    job = progress()
    assert job.status == "running" and 2 <= job.kpis_done < len(KPIS)
    with tenant_context(workspace):
        # Each KPI's snapshots were written in one transaction: a KPI has either all of
        # them or none (the one in flight was rolled back), and its months add up its days.
        computed = set(KpiSnapshot.objects.values_list("kpi", flat=True).distinct())
        assert len(computed) in (job.kpis_done, job.kpis_done + 1)
        for key in computed & {"conversation_abandonment_rate", "mean_time_to_resolution", "nps"}:
            snapshots = KpiSnapshot.objects.filter(kpi=key, segment_kind="")
            days = snapshots.filter(period_kind="day").aggregate(n=Sum("numerator"), d=Sum("denominator"))
            years = snapshots.filter(period_kind="year").aggregate(n=Sum("numerator"), d=Sum("denominator"))
            assert (round(days["n"], 6), round(days["d"], 6)) == (round(years["n"], 6), round(years["d"], 6))

    # The next worker to start resumes the recompute (its advisory lock is free) and ends it.
    celery_worker.start()
    wait_until(lambda: progress().status == "done", timeout=300)
    with tenant_context(workspace):
        assert set(KpiSnapshot.objects.values_list("kpi", flat=True).distinct()) >= {
            key for key in KPIS if key.startswith(("conversation", "mean_time", "first_", "sla", "csat", "nps"))}
        fcr = KpiSnapshot.objects.get(kpi="first_contact_resolution", period_kind="year", period_start=date(2026, 1, 1),
                                      segment_kind="")
        from kpis.services.compute import kpis_compute

        kpis_compute(since=date(2025, 11, 1), until=date(2026, 11, 2), keys=["first_contact_resolution"])
        fresh = KpiSnapshot.objects.get(kpi="first_contact_resolution", period_kind="year", period_start=date(2026, 1, 1),
                                        segment_kind="")
    assert (fcr.numerator, fcr.denominator) == (fresh.numerator, fresh.denominator)
