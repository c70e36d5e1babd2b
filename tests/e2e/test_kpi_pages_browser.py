"""The support efficiency, active users and social pages in a real browser on generated
demo data: charts drawn by the bundled Chart.js, a drill-down from the per-agent table,
screenshots."""
import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_import_browser import sign_in
from tests.e2e.test_kpi_browser import globex  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e]


def test_support_active_users_and_social_pages(globex, page, screenshot):  # noqa: F811
    sign_in(page, globex.base, globex.lead.email)
    page.goto(f"{globex.base}/?period=month&date=2026-10-15")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").count() == 1
    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Support efficiency").click()
    page.get_by_role("heading", level=1).filter(has_text="Support efficiency · Oct 2026").wait_for()
    page.wait_for_function("document.querySelectorAll('canvas').length >= 2")
    agents = page.locator("table.agents-table tbody tr")
    assert agents.count() >= 3
    assert "h" in page.locator(".kpi-card").filter(has_text="Time to resolution").locator(".kpi-value").inner_text()
    screenshot("kpi-support")

    # The first agent's name opens the resolution-time page on their conversations.
    agent = agents.first.locator("th a").inner_text()
    agents.first.locator("th a").click()
    page.get_by_role("heading", name="Records behind the number").wait_for()
    assert f"Agent {agent}" in page.get_by_role("heading", name="Records behind the number").inner_text()
    assert page.locator("table.drilldown-table tbody tr").count() > 0
    page.locator("#drilldown").screenshot(path=str(SCREENSHOTS / "kpi-drilldown.png"))
    page.go_back()

    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Active users").click()
    page.get_by_role("heading", level=1).filter(has_text="Active users").wait_for()
    assert page.locator("table.cohort-table tbody tr").count() >= 12
    screenshot("kpi-active-users")

    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Social").click()
    page.get_by_role("heading", level=1).filter(has_text="Social · Oct 2026").wait_for()
    page.wait_for_function("document.querySelectorAll('canvas').length >= 2")
    assert page.locator(".mention").count() > 0
    screenshot("kpi-social")
