"""Confidence intervals and small samples in a real browser: the dashboard's NPS card shows
its interval and a significant change, mean time to resolution from 3 conversations is
greyed "too few to judge" on the dashboard and on its KPI page. Screenshots."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kpis.models import KpiSettings
from kpis.services.compute import kpis_compute
from tests.kpis.helpers import RESOLVED, SURVEYS, load_into
from tests.e2e.helpers import live_base, sign_in

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def initech(committed_workspace, live_server):
    workspace = committed_workspace("initech")
    load_into(workspace, "survey_responses", SURVEYS)
    load_into(workspace, "conversations", RESOLVED)
    with tenant_context(workspace):
        KpiSettings.load()
        KpiSettings.objects.update(targets={"mean_time_to_resolution": {"target": 10}})
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 4, 1))
    workspace.base = live_base(live_server, workspace)
    return workspace


def test_intervals_and_small_samples_on_the_dashboard_and_kpi_page(initech, page, screenshot):
    sign_in(page, initech.base, initech.lead.email)
    page.goto(f"{initech.base}/?period=month&date=2026-03-15")
    page.get_by_role("heading", level=1).filter(has_text="Mar 2026").wait_for()
    nps = page.get_by_role("article").filter(has_text="Net Promoter Score")
    expect(nps.locator(".kpi-margin")).to_have_text("95% CI −0.8 to +39.3")
    expect(nps.locator(".kpi-significant")).to_have_text("significant")
    csat = page.get_by_role("article").filter(has_text="Customer satisfaction")
    expect(csat.locator(".kpi-margin")).to_have_text("95% CI 62.7–90.5%")
    expect(csat.locator(".kpi-not-significant")).to_have_text("not significant")
    mttr = page.get_by_role("article").filter(has_text="Mean time to resolution")
    expect(mttr.locator(".kpi-small-sample")).to_have_text("n = 3, too few to judge")
    expect(mttr.locator(".kpi-value")).to_have_class("kpi-value muted")
    expect(mttr.get_by_text("on target")).to_have_count(0)
    # Greyed: the value's colour is the muted one, not the text colour of the NPS value.
    assert (mttr.locator(".kpi-value").evaluate("e => getComputedStyle(e).color")
            != nps.locator(".kpi-value").evaluate("e => getComputedStyle(e).color"))
    screenshot("uncertainty-dashboard")

    mttr.get_by_role("link", name="Mean time to resolution").click()
    page.get_by_role("heading", level=1, name="Mean time to resolution").wait_for()
    expect(page.locator(".page-head .kpi-small-sample")).to_have_text("n = 3, too few to judge")
    march = page.get_by_role("row").filter(has_text="1 Mar 2026 – 31 Mar 2026")
    expect(march.locator(".kpi-small-sample")).to_have_text("n = 3, too few to judge")
    screenshot("uncertainty-kpi-page")
