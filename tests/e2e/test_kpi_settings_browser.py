"""KPI settings in a real browser: a team lead changes the SLA target, the recompute of the
KPI it affects runs in a real worker with its progress shown, and the KPI page shows the
new definition in force and value; then "Recompute now" from a KPI page. Screenshots."""
import re
from datetime import date

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kpis.services.compute import kpis_compute
from tests.kpis.helpers import CONVERSATIONS, CUSTOMERS, load_into
from tests.e2e.helpers import live_base, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


@pytest.fixture
def initech(committed_workspace, live_server):
    workspace = committed_workspace("initech")
    load_into(workspace, "customers", CUSTOMERS)
    load_into(workspace, "conversations", CONVERSATIONS)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 5, 1))
    workspace.base = live_base(live_server, workspace)
    return workspace


def test_changing_a_setting_updates_the_definition_in_force(initech, celery_worker, page, screenshot):
    sign_in(page, initech.base, initech.lead.email)
    sla_page = f"{initech.base}/kpis/sla_attainment/?period=month&date=2026-03-15"
    page.goto(sla_page)
    definition = page.locator("section", has=page.get_by_role("heading", name="Definition in force"))
    assert "24 hours" in definition.inner_text()
    assert page.locator(".page-head .kpi-value").inner_text().startswith("80.0%")

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="KPIs").click()
    page.get_by_role("heading", name="KPI settings", level=1).wait_for()
    page.get_by_label("Resolution SLA target (hours)").fill("1")
    page.get_by_label("Resolution SLA attainment target (%)").fill("75")
    # Five conversations: judged only once the minimum sample size allows it (default 30).
    page.get_by_label("Minimum sample size").fill("5")
    page.get_by_role("checkbox", name="chat").check()
    page.get_by_role("button", name="Save KPI settings").click()
    page.get_by_text(re.compile(r"^KPI settings saved\. Recomputing ")).wait_for()
    screenshot("kpi-settings")
    # The page follows the recompute and reloads when it is done.
    page.wait_for_function("() => !document.getElementById('kpi-recompute')", timeout=180000)

    page.goto(sla_page)
    definition_text = definition.inner_text()
    assert "SLA target\n1 hour" in definition_text and "Voice channels\nchat, phone" in definition_text
    assert "Target\n75.0%" in definition_text
    assert "too few to judge" not in page.locator(".page-head").inner_text()
    # Within 1 hour: 3 of the 5 conversations resolved in March; below the 75% target.
    assert page.locator(".page-head .kpi-value").inner_text().startswith("60.0%")
    assert page.get_by_role("heading", name="By channel kind").count() == 1
    assert "off target" in page.locator("table.kpi-table").first.inner_text()

    page.get_by_role("button", name="Recompute now").click()
    page.get_by_text("Recomputing every KPI. This page shows the progress.").wait_for()
    page.wait_for_function("() => !document.getElementById('kpi-recompute')", timeout=180000)
    page.wait_for_load_state()  # the reloaded page, whole
    expect(page.locator("#computed-at")).to_have_text(re.compile(r"^Computed at "), use_inner_text=True)
    expect(page.get_by_role("button", name="Recompute now")).to_be_enabled()
    screenshot("kpi-page-recomputed")
