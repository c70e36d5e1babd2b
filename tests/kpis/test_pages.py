"""The dashboard and a KPI page, rendered from snapshots (test client; the browser test
is in tests/e2e)."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings
from kpis.services.compute import kpis_compute
from kpis.services.settings import kpi_settings_update
from tenants.accounts.models import Role
from tests.helpers import api_key_client, host_client
from tests.kpis.helpers import conv, load_support_data, settings_form

MARCH = {"period": "month", "date": "2026-03-15"}


def test_dashboard_shows_every_kpi_for_the_period(workspace, load, make_member, django_assert_max_num_queries):
    load_support_data(workspace, load)
    client = host_client(workspace, make_member(Role.VIEWER))
    # A constant number of queries (session, user, settings, snapshots, setup counts), not one per KPI.
    with django_assert_max_num_queries(18):
        page = client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "Mar 2026" in page
    assert ">First contact resolution</a>" in page and "50.0%" in page  # 3 of 6
    assert "off target" in page  # 50 against a target of 60
    assert "+40" in page  # NPS
    assert "95% CI " in page  # NPS and CSAT (among others) confidence intervals
    assert "chartkick/Chart.bundle.js" in page and "cdn" not in page.lower()


def test_a_month_without_data_says_no_data(workspace, load, make_member):
    load_support_data(workspace, load)
    page = host_client(workspace, make_member(Role.VIEWER)).get("/", {"period": "month", "date": "2026-02-10"}).content.decode()
    # Only customer retention has a value: the four customers were all there all February.
    assert page.count('class="kpi-value muted">no data') == page.count('class="card kpi-card') - 1 > 0
    assert '"kpi-value">100.0%' in page and '"kpi-value">0.0%' not in page


def test_custom_range_on_the_dashboard(workspace, load, make_member):
    load_support_data(workspace, load)
    page = host_client(workspace, make_member(Role.VIEWER)).get(
        "/", {"period": "range", "start": "2026-03-01", "end": "2026-03-31"}).content.decode()
    assert "1 Mar 2026 – 31 Mar 2026" in page and "50.0%" in page


def test_kpi_page_with_trend_breakdowns_and_definition(workspace, load, make_member):
    load_support_data(workspace, load)
    page = host_client(workspace, make_member(Role.AGENT)).get(
        "/kpis/conversation_abandonment_rate/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "<h1>Conversation abandonment</h1>" in page
    assert "14.3%" in page  # 1 of 7
    assert "By channel" in page and "By channel kind" in page and ">chat</th><td>50.0%" in page
    assert "Voice channels" in page and "phone" in page
    assert host_client(workspace, make_member(Role.AGENT)).get("/kpis/happiness/").status_code == 404


# First contact resolution (better when higher) rises from 0% in February (its one
# conversation unresolved) to 100% in March (one conversation resolved at first contact).
FCR_RISE = [
    conv("f1", "email", "2026-02-10T09:00"),
    conv("f2", "email", "2026-03-10T09:00", resolved="2026-03-10T10:00"),
]


@pytest.fixture
def fcr_rise(workspace, load):
    load("conversations", FCR_RISE)
    with tenant_context(workspace):
        KpiSettings.load()  # created with its defaults, then judged on n ≥ 1: targets here, not sample sizes
        KpiSettings.objects.update(min_sample_size=1)
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 4, 1), keys=["first_contact_resolution"])
    return workspace


def fcr_card(page: str) -> str:
    """The first contact resolution card of the dashboard."""
    return page.split('aria-labelledby="kpi-first_contact_resolution"')[1].split("</article>")[0]


def reverse_fcr(workspace, target=None):
    """A team lead's override: first contact resolution is better when lower."""
    with tenant_context(workspace):
        kpi_settings_update(settings=KpiSettings.load(),
                            targets={"first_contact_resolution": {"target": target, "direction": "lower"}})


def test_the_registry_direction_colours_a_rise_of_fcr_as_better(fcr_rise, make_member):
    page = host_client(fcr_rise, make_member(Role.VIEWER)).get("/", MARCH).content.decode()
    card = fcr_card(page)
    assert '<span class="kpi-change kpi-better">+100.0 pts<span class="visually-hidden"> (better)</span></span>' in card


def test_an_overridden_direction_colours_the_rise_as_worse_without_a_target(fcr_rise, make_member):
    reverse_fcr(fcr_rise)
    with tenant_context(fcr_rise):
        # Kept although no target is set: it still decides the colour.
        assert KpiSettings.objects.get().targets == {"first_contact_resolution": {"target": None, "direction": "lower"}}
    client = host_client(fcr_rise, make_member(Role.VIEWER))
    card = fcr_card(client.get("/", MARCH).content.decode())
    assert '<span class="kpi-change kpi-worse">+100.0 pts<span class="visually-hidden"> (worse)</span></span>' in card
    assert "target" not in card.split("</h2>")[1]
    # A custom range (March against the 31 days before it) is coloured the same way.
    card = fcr_card(client.get("/", {"period": "range", "start": "2026-03-01", "end": "2026-03-31"}).content.decode())
    assert 'class="kpi-change kpi-worse">+100.0 pts' in card


def test_an_overridden_direction_decides_the_target_status_everywhere(fcr_rise, make_member):
    reverse_fcr(fcr_rise, target=50)
    client = host_client(fcr_rise, make_member(Role.VIEWER))
    # 100% against a target of 50 where lower is better: off target (on target by the registry).
    card = fcr_card(client.get("/", MARCH).content.decode())
    assert 'class="kpi-change kpi-worse"' in card and "target 50.0%" in card and "off target" in card
    page = client.get("/kpis/first_contact_resolution/", MARCH).content.decode()
    assert "<dt>Better when</dt><dd>lower</dd>" in page and "<dt>Target</dt><dd>50.0%</dd>" in page
    march_row = page.split("<th scope=\"row\">1 Mar 2026 – 31 Mar 2026</th>")[1].split("</tr>")[0]
    assert "<td>100.0%</td>" in march_row and "off target" in march_row
    body = api_key_client(fcr_rise, Role.VIEWER).get("/api/v1/kpis/first_contact_resolution",
                                                     {"period": "month", "start": "2026-03-01", "end": "2026-03-31"}).json()
    assert body["direction"] == "lower" and [(row["value"], row["status"]) for row in body["series"]] == [
        (100.0, "off_target")]


def test_the_settings_form_keeps_a_direction_set_without_a_target(fcr_rise, make_member):

    lead = host_client(fcr_rise, make_member(Role.TEAM_LEAD))
    lead.post("/settings/kpis/", settings_form(direction_first_contact_resolution="lower"))
    with tenant_context(fcr_rise):
        assert KpiSettings.objects.get().targets == {"first_contact_resolution": {"target": None, "direction": "lower"}}
    card = fcr_card(lead.get("/", MARCH).content.decode())
    assert 'class="kpi-change kpi-worse"' in card
