"""The support efficiency, active users and social pages in a real browser on generated
demo data: charts drawn by the bundled Chart.js, a drill-down from the per-agent table,
screenshots."""
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.e2e]


def test_support_active_users_and_social_pages(globex, page, screenshot):
    sign_in(page, globex.base, globex.lead.email)
    page.goto(f"{globex.base}/?period=month&date=2026-10-15")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").count() == 1
    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Support efficiency").click()
    page.get_by_role("heading", level=1).filter(has_text="Support efficiency · Oct 2026").wait_for()
    page.wait_for_function("() => document.querySelectorAll('canvas').length >= 2")
    agents = page.locator("table.agents-table tbody tr")
    expect(agents.nth(2)).to_be_attached()  # at least 3 rows (the page may still be parsed)
    assert "h" in page.locator(".kpi-card").filter(has_text="Time to resolution").locator(".kpi-value").inner_text()
    screenshot("kpi-support")

    # The first agent's name opens the resolution-time page on their conversations.
    agent = agents.first.locator("th a").inner_text()
    agents.first.locator("th a").click()
    page.get_by_role("heading", name="Records behind the number").wait_for()
    expect(page.get_by_role("heading", name="Records behind the number")).to_contain_text(
        f"Agent {agent}", use_inner_text=True)
    expect(page.locator("table.drilldown-table tbody tr").first).to_be_attached()  # at least one row
    page.locator("#drilldown").screenshot(path=str(SCREENSHOTS / "kpi-drilldown.png"))
    page.go_back()

    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Active users").click()
    page.get_by_role("heading", level=1).filter(has_text="Active users").wait_for()
    expect(page.locator("table.cohort-table tbody tr").nth(11)).to_be_attached()  # at least 12 rows
    screenshot("kpi-active-users")

    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Social").click()
    page.get_by_role("heading", level=1).filter(has_text="Social · Oct 2026").wait_for()
    page.wait_for_function("() => document.querySelectorAll('canvas').length >= 2")
    expect(page.locator(".mention").first).to_be_attached()  # at least one
    screenshot("kpi-social")
