"""The KPI settings page, the "Recompute now" button and "computed at" (test client), and
both recomputes run by a real Celery worker."""
from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from kpis.models import KpiRecompute, KpiSettings, KpiSnapshot
from kpis.registry import KPIS
from kpis.services.compute import kpis_compute
from tenants.accounts.models import Role
from tests.helpers import host_client, lead_client, wait_until
from tests.kpis.helpers import CONVERSATIONS, CUSTOMERS, conv, load_into, recompute_finished, settings_form


@pytest.fixture
def loaded(workspace, load):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS + [conv("c9", "whatsapp", "2026-03-20T10:00", "cus-3")])
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 1))
    return workspace



def test_only_team_leads_see_and_change_kpi_settings(workspace, make_member):
    for role in (Role.AGENT, Role.VIEWER):
        client = host_client(workspace, make_member(role))
        assert client.get("/settings/kpis/").status_code == 403
        assert client.post("/settings/kpis/", settings_form(sla_target_hours="1")).status_code == 403
    with tenant_context(workspace):
        assert KpiSettings.objects.filter(sla_target_hours=1).count() == 0


def test_settings_page_offers_every_kpi_and_the_channels_in_the_data(loaded, django_assert_max_num_queries):
    client = lead_client(loaded)
    # Domain, session, user, settings, channels, latest recompute (each after a SET search_path).
    with django_assert_max_num_queries(12):
        page = client.get("/settings/kpis/").content.decode()
    assert '<a href="/settings/kpis/" aria-current="page">KPIs</a>' in page
    for kpi in KPIS.values():
        assert f'name="target_{kpi.key}"' in page and f'name="direction_{kpi.key}"' in page
    assert "Mean time to resolution target (hours)" in page and "Net Promoter Score target (points)" in page
    # The known channels, then the custom one found in the conversations; phone is voice.
    channels = [c for c in ("email", "chat", "phone", "social", "messaging", "whatsapp") if f'value="{c}"' in page]
    assert channels == ["email", "chat", "phone", "social", "messaging", "whatsapp"]
    assert page.index('value="messaging"') < page.index('value="whatsapp"')
    assert 'value="phone"\n' not in page and 'value="phone" id="id_voice_channels_2" checked' in page
    assert 'name="visit_events" value="visit"' in page


def test_bad_settings_are_shown_beside_their_fields(loaded):
    response = lead_client(loaded).post("/settings/kpis/", settings_form(
        visit_events=" ,", sla_target_hours="0", repeat_contact_window_days="seven", target_csat="140"))
    assert response.status_code == 400
    page = response.content.decode()
    # A value that is not even a number is reported first, by the form.
    assert "Nothing was saved: fix the fields marked below." in page and "Enter a whole number." in page
    response = lead_client(loaded).post("/settings/kpis/", settings_form(
        visit_events=" ,", sla_target_hours="0", target_csat="140"))
    page = response.content.decode()
    assert "Visit events: give at least one event name." in page
    assert "The SLA target must be between 0.25 hours (15 minutes) and 720 hours (30 days)." in page
    assert "Customer satisfaction (CSAT): the target must be a number between 0 and 100 (%)." in page
    with tenant_context(loaded):
        assert KpiSettings.objects.get().sla_target_hours == 24
        assert not KpiRecompute.objects.exists()


def test_saving_queues_a_recompute_of_the_affected_kpis_and_shows_its_progress(loaded):
    client = lead_client(loaded)
    response = client.post("/settings/kpis/", settings_form(sla_target_hours="1", target_csat="85",
                                                            direction_first_response_time="higher"))
    assert response.status_code == 302 and response["Location"] == "/settings/kpis/"
    with tenant_context(loaded):
        settings = KpiSettings.objects.get()
        job = KpiRecompute.objects.get()
    assert settings.sla_target_hours == 1 and job.keys == ["sla_attainment"]
    # A reversed direction is kept without a target (it colours the dashboard's changes);
    # the other KPIs keep the registry's direction and store nothing.
    assert settings.targets == {"csat": {"target": 85.0, "direction": "higher"},
                                "first_response_time": {"target": None, "direction": "higher"}}
    page = client.get("/settings/kpis/").content.decode()
    assert "KPI settings saved. Recomputing Resolution SLA attainment." in page
    assert 'Recomputing 1 KPI · <span data-field="status_label">Queued</span>' in page
    assert '<span data-field="kpis_done">0</span> of <span data-field="kpis_total">1</span> KPIs' in page
    assert f'data-url="/kpis/recompute/{job.pk}/"' in page and 'http-equiv="refresh"' in page
    assert 'name="sla_target_hours" value="1"' in page and 'name="target_csat" value="85"' in page
    # The KPI page shows the definition now in force.
    page = client.get("/kpis/sla_attainment/").content.decode()
    assert "<dt>SLA target</dt><dd>1 hour</dd>" in page


def test_targets_alone_recompute_nothing(loaded):
    client = lead_client(loaded)
    client.post("/settings/kpis/", settings_form(target_sla_attainment="95"))
    page = client.get("/settings/kpis/").content.decode()
    assert "KPI settings saved. Targets only change a value&#x27;s status: nothing to recompute." in page
    with tenant_context(loaded):
        assert not KpiRecompute.objects.exists()
    page = client.get("/kpis/sla_attainment/", {"period": "month", "date": "2026-03-15"}).content.decode()
    # 80% of 5 conversations in March: below the default minimum sample of 30, no status.
    assert "<dt>Target</dt><dd>95.0%</dd>" in page and "n = 5, too few to judge" in page
    assert "off target" not in page
    # The minimum sample size is judged when shown, like targets: nothing to recompute either.
    client.post("/settings/kpis/", settings_form(target_sla_attainment="95", min_sample_size="5"))
    page = client.get("/kpis/sla_attainment/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "off target" in page and "too few to judge" not in page.split('aria-labelledby="trend-title"')[0]
    with tenant_context(loaded):
        assert not KpiRecompute.objects.exists() and KpiSettings.objects.get().min_sample_size == 5


def test_a_minimum_sample_size_below_1_is_refused_beside_its_field(loaded):
    response = lead_client(loaded).post("/settings/kpis/", settings_form(min_sample_size="0"))
    assert response.status_code == 400
    assert "The minimum sample size must be a whole number from 1 to 1,000,000." in response.content.decode()
    with tenant_context(loaded):
        assert KpiSettings.objects.get().min_sample_size == 30


def test_definition_in_force_of_business_hours_mttr(loaded, make_member):
    lead_client(loaded).post("/settings/kpis/", settings_form(business_hours_mttr="on"))
    page = host_client(loaded, make_member(Role.VIEWER)).get("/kpis/mean_time_to_resolution/").content.decode()
    assert ("<dt>Resolution time counts</dt><dd>business hours only (the workspace&#x27;s opening hours, "
            "holidays excluded)</dd>") in page
    assert "Change the KPI settings" not in page and "Recompute now" not in page


def test_recompute_button_for_team_leads_only(loaded, make_member):
    for role in (Role.AGENT, Role.VIEWER):
        client = host_client(loaded, make_member(role))
        page = client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
        assert "Recompute now" not in page and "Computed at <time" in page
        assert client.post("/kpis/recompute/").status_code == 403
    with tenant_context(loaded):
        assert not KpiRecompute.objects.exists()
        job = KpiRecompute.objects.create()
    assert host_client(loaded, make_member(Role.AGENT)).get(f"/kpis/recompute/{job.pk}/").status_code == 403


def test_recompute_button_queues_a_full_recompute_and_returns_to_the_page(loaded):
    client = lead_client(loaded)
    page = client.get("/kpis/csat/").content.decode()
    assert "Recompute now" in page
    response = client.post("/kpis/recompute/", {"next": "/kpis/csat/?period=month"})
    assert response.status_code == 302 and response["Location"] == "/kpis/csat/?period=month"
    with tenant_context(loaded):
        job = KpiRecompute.objects.get()
    assert job.keys == []
    page = client.get("/kpis/csat/?period=month").content.decode()
    assert "Recomputing every KPI" in page and "Recompute now</button>" in page and " disabled>Recompute now" in page
    assert client.get(f"/kpis/recompute/{job.pk}/").json() == {
        "status": "queued", "status_label": "Queued", "progress": 0.0, "kpis_done": 0, "kpis_total": 0,
        "finished": False, "error": ""}
    # Only this workspace's pages: anywhere else goes to the dashboard.
    assert client.post("/kpis/recompute/", {"next": "https://evil.test/"})["Location"] == "/"
    assert client.get("/kpis/recompute/").status_code == 405


def test_computed_at_is_the_newest_snapshot_shown(loaded, make_member):
    from datetime import datetime, timezone

    with tenant_context(loaded):
        KpiSnapshot.objects.update(computed_at=datetime(2026, 4, 2, 8, 0, tzinfo=timezone.utc))
        KpiSnapshot.objects.filter(kpi="csat", period_kind="month").update(
            computed_at=datetime(2026, 4, 3, 7, 30, tzinfo=timezone.utc))
    client = host_client(loaded, make_member(Role.VIEWER))
    page = client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert 'Computed at <time datetime="2026-04-03T09:30:00+02:00">3 Apr 2026, 09:30</time>' in page
    page = client.get("/kpis/first_response_time/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "Computed at <time" in page and "2 Apr 2026, 10:00" in page  # its own snapshots: 08:00 UTC, 10:00 in Paris
    page = client.get("/", {"period": "week", "date": "2026-03-15"}).content.decode()
    assert "2 Apr 2026, 10:00" in page  # weeks: no CSAT month snapshot among them
    page = client.get("/", {"period": "range", "start": "2026-03-01", "end": "2026-03-31"}).content.decode()
    assert "Computed live from the data" in page
    page = client.get("/", {"period": "year", "date": "2020-03-15"}).content.decode()
    assert "Not computed yet" in page


# ------------------------------------------------------------------ with a real worker

@pytest.mark.worker
def test_recompute_now_runs_in_the_worker_and_then_shows_computed_at(committed_workspace, celery_worker):
    workspace = committed_workspace("kpinow")
    load_into(workspace, "customers", CUSTOMERS)
    load_into(workspace, "conversations", CONVERSATIONS)
    connection.set_schema_to_public()
    client = lead_client(workspace)
    assert "Not computed yet" in client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert client.post("/kpis/recompute/", {"next": "/?period=month&date=2026-03-15"}).status_code == 302
    with tenant_context(workspace):
        job = KpiRecompute.objects.get()
    connection.set_schema_to_public()
    state = recompute_finished(client, f"/kpis/recompute/{job.pk}/")
    assert (state["status"], state["kpis_done"], state["kpis_total"], state["progress"]) == ("done", len(KPIS), len(KPIS), 1.0)
    page = client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "Computed at <time" in page and 'id="kpi-recompute"' not in page and "50.0%" in page  # FCR, 3 of 6


@pytest.mark.worker
def test_a_settings_change_recomputes_in_the_worker(committed_workspace, celery_worker):
    workspace = committed_workspace("kpiset")
    load_into(workspace, "customers", CUSTOMERS)
    load_into(workspace, "conversations", CONVERSATIONS)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 5, 1))
    connection.set_schema_to_public()
    client = lead_client(workspace)
    assert client.post("/settings/kpis/", settings_form(sla_target_hours="1")).status_code == 302

    def recomputed():
        with tenant_context(workspace):
            job = KpiRecompute.objects.get()
            return job.is_finished and (job, KpiSnapshot.objects.get(kpi="sla_attainment", period_kind="month",
                                                                     period_start=date(2026, 3, 1), segment_kind=""))

    job, march = wait_until(recomputed, timeout=180)
    assert (job.status, job.keys, job.kpis_total) == ("done", ["sla_attainment"], 1)
    assert march.value == 60.0
