"""The KPI dashboard and a KPI page in a real browser: period switching, charts drawn
by the bundled Chart.js, screenshots."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.e2e]


def test_dashboard_and_kpi_page_switch_periods(globex, page, screenshot):
    sign_in(page, globex.base, globex.lead.email)
    page.goto(f"{globex.base}/?period=month&date=2026-10-15")
    page.get_by_role("heading", level=1).filter(has_text="Oct 2026").wait_for()
    first_contact = page.get_by_role("article").filter(has_text="First contact resolution")
    assert "%" in first_contact.locator(".kpi-value").inner_text()
    page.wait_for_function("() => document.querySelectorAll('.kpi-spark canvas').length > 0")
    screenshot("kpi-dashboard")

    page.get_by_text("Quarter", exact=True).click()
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", level=1).filter(has_text="Q4 2026").wait_for()

    page.get_by_role("link", name="Conversation abandonment").click()
    page.get_by_role("heading", level=1, name="Conversation abandonment").wait_for()  # not the card on the dashboard
    # The page may still be parsed when its first heading is there.
    expect(page.get_by_role("heading", name="By channel kind")).to_have_count(1)
    page.get_by_text("Month", exact=True).click()
    page.get_by_role("button", name="Show").click()
    # The quarter's page already has its charts: wait for the month's page first.
    page.wait_for_url(re.compile(r".*/kpis/[^/?]+/\?(.*&)?period=month(&|$).*"))
    page.wait_for_function("() => document.querySelectorAll('canvas').length >= 2")
    breakdown = page.get_by_role("heading", name="By channel ·")
    expect(breakdown).to_have_count(1)
    screenshot("kpi-page")
