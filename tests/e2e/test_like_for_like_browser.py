"""Like-for-like comparisons in a real browser (issue #10 part 2): on 5 December (the
workspace's "today", injected into the live server's process) the dashboard and the CSAT
page say "Dec 1–5 vs Nov 1–5", compare with November 1–5, and draw December, the period
under way, as a dashed segment named "Dec 1–5 (to date)". Screenshots."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kpis.services.compute import kpis_compute
from tests.e2e.helpers import live_base
from tests.factories import PASSWORD
from tests.kpis.helpers import (
    LIKE_FOR_LIKE_ANSWERS,
    LIKE_FOR_LIKE_CUSTOMERS,
    LIKE_FOR_LIKE_MENTIONS,
    load_into,
)

pytestmark = [pytest.mark.e2e]

# The Chart.js datasets of the chart drawn in ``element`` (Chartkick keeps every chart by id).
DATASETS = """element => Chartkick.charts[element.querySelector('[id^=chart-]').id].getChartObject().data.datasets
    .map(d => ({label: d.label, dash: d.borderDash || null,
                values: d.data.map(v => v !== null && typeof v === "object" ? v.y : v).filter(v => v !== null && !Number.isNaN(v))}))"""


@pytest.fixture
def hooli(committed_workspace, live_server, monkeypatch):
    monkeypatch.setattr("kpis.periods.local_today", lambda tz: date(2025, 12, 5))
    workspace = committed_workspace("hooli")
    load_into(workspace, "social_mentions", LIKE_FOR_LIKE_MENTIONS)
    load_into(workspace, "survey_responses", LIKE_FOR_LIKE_ANSWERS)
    load_into(workspace, "customers", LIKE_FOR_LIKE_CUSTOMERS)
    with tenant_context(workspace):
        kpis_compute(since=date(2024, 12, 1), until=date(2025, 12, 6))
    workspace.base = live_base(live_server, workspace)
    return workspace


def test_the_dashboard_and_a_kpi_page_compare_dec_1_5_with_nov_1_5(hooli, page, screenshot):
    page.goto(f"{hooli.base}/sign-in/")
    page.get_by_label("Email").fill(hooli.lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{hooli.base}/")
    # The default period is today's month: December 2025, under way.
    page.get_by_role("heading", level=1).filter(has_text="Dec 2025").wait_for()
    expect(page.locator("#comparison-note")).to_contain_text("Dec 1–5 vs Nov 1–5: the period is under way")
    mentions = page.get_by_role("article").filter(has_text="Mention volume")
    expect(mentions.locator(".kpi-value")).to_have_text("9")
    expect(mentions.locator(".kpi-change")).to_have_text("+3 (better)")  # 9 vs 6, not 9 vs 47
    expect(mentions.locator(".kpi-vs")).to_have_text("Dec 1–5 vs Nov 1–5")
    expect(mentions.locator(".kpi-partial-note")).to_have_text("Dec 1–5 (to date)")
    csat = page.get_by_role("article").filter(has_text="Customer satisfaction")
    expect(csat.locator(".kpi-change")).to_have_text("+40.0 pts (better)")  # 80% vs 40%, not vs 85%
    page.wait_for_function("() => document.querySelectorAll('.kpi-spark canvas').length > 0")
    spark = mentions.locator(".kpi-spark").evaluate(DATASETS)
    # Solid up to November (47 mentions, the earlier months had none); dashed from November to
    # December to date (9).
    assert spark == [{"label": "Mention volume", "dash": None, "values": [47]},
                     {"label": "Dec 1–5 (to date)", "dash": [6, 4], "values": [47, 9]}]
    screenshot("like-for-like-dashboard")

    csat.get_by_role("link", name="Customer satisfaction").click()
    page.get_by_role("heading", level=1, name="Customer satisfaction (CSAT)").wait_for()
    expect(page.locator("#kpi-comparison")).to_have_text("Dec 1–5 vs Nov 1–5 to date")
    expect(page.get_by_text("Previous (Nov 1–5, the same days): 40.0%")).to_be_visible()
    expect(page.locator("#partial-note")).to_have_text("Dashed: Dec 1–5 (to date), the period under way.")
    december = page.get_by_role("row").filter(has_text="1 Dec 2025 – 31 Dec 2025")
    expect(december).to_contain_text("to date")
    expect(december).to_contain_text("40.0% (Nov 1–5)")
    page.wait_for_function("() => document.querySelectorAll('#trend-title ~ div canvas').length > 0")
    trend = page.locator("section[aria-labelledby=trend-title]").evaluate(DATASETS)
    assert trend == [{"label": "Customer satisfaction (CSAT)", "dash": None, "values": [85]},
                     {"label": "Dec 1–5 (to date)", "dash": [6, 4], "values": [85, 80]}]
    screenshot("like-for-like-kpi-page")
