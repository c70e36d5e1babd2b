"""The dashboard and a KPI page, rendered from snapshots (test client; the browser test
is in tests/e2e)."""
from datetime import date

from django_tenants.utils import tenant_context

from kpis.models import KpiSettings
from kpis.services import kpis_compute
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.kpis.test_support_kpis import CONVERSATIONS, CUSTOMERS, RESPONSES


def loaded(workspace, load):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    load("survey_responses", RESPONSES)
    with tenant_context(workspace):
        KpiSettings.objects.create(**KpiSettings.DEFAULTS, targets={"first_contact_resolution": {"target": 60}})
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))


def test_dashboard_shows_every_kpi_for_the_period(workspace, load, make_member, django_assert_max_num_queries):
    loaded(workspace, load)
    client = host_client(workspace, make_member(Role.VIEWER))
    # A constant number of queries (session, user, settings, snapshots, setup counts), not one per KPI.
    with django_assert_max_num_queries(18):
        page = client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "Mar 2026" in page
    assert ">First contact resolution</a>" in page and "50.0%" in page  # 3 of 6
    assert "off target" in page  # 50 against a target of 60
    assert "+40" in page  # NPS
    assert "± " in page  # NPS and CSAT margins of error
    assert "chartkick/Chart.bundle.js" in page and "cdn" not in page.lower()


def test_a_month_without_data_says_no_data(workspace, load, make_member):
    loaded(workspace, load)
    page = host_client(workspace, make_member(Role.VIEWER)).get("/", {"period": "month", "date": "2026-02-10"}).content.decode()
    # Only customer retention has a value: the four customers were all there all February.
    assert page.count('class="kpi-value muted">no data') == page.count('class="card kpi-card') - 1 > 0
    assert '"kpi-value">100.0%' in page and '"kpi-value">0.0%' not in page


def test_custom_range_on_the_dashboard(workspace, load, make_member):
    loaded(workspace, load)
    page = host_client(workspace, make_member(Role.VIEWER)).get(
        "/", {"period": "range", "start": "2026-03-01", "end": "2026-03-31"}).content.decode()
    assert "1 Mar 2026 – 31 Mar 2026" in page and "50.0%" in page


def test_kpi_page_with_trend_breakdowns_and_definition(workspace, load, make_member):
    loaded(workspace, load)
    page = host_client(workspace, make_member(Role.AGENT)).get(
        "/kpis/conversation_abandonment_rate/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "<h1>Conversation abandonment</h1>" in page
    assert "14.3%" in page  # 1 of 7
    assert "By channel" in page and "By channel kind" in page and ">chat</th><td>50.0%" in page
    assert "Voice channels" in page and "phone" in page
    assert host_client(workspace, make_member(Role.AGENT)).get("/kpis/happiness/").status_code == 404
