"""The themes page in a real browser (issue #13): a team lead adds a theme from the KPI
pages' Themes tab; the worker matches it over history and the page shows its impact.
Screenshots."""
import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from ingestion.models import SurveyResponse
from tests.e2e.helpers import live_base, sign_in
from tests.kpis.themes.test_pages import AT

pytestmark = [pytest.mark.e2e]


def test_a_team_lead_adds_a_theme_and_reads_its_impact(committed_workspace, live_server, celery_worker, page,
                                                       screenshot):
    workspace = committed_workspace("themesui")
    with tenant_context(workspace):
        for n, (score, comment) in enumerate(((2, "Refund took ages"), (3, "refund never came"), (10, "Great support"),
                                              (9, "Love it"), (10, ""))):
            SurveyResponse.objects.create(external_id=f"r-{n}", kind="nps", score=score, comment=comment,
                                          responded_at=AT)
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)
    page.goto(f"{base}/?period=month&date=2026-03-10")
    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Themes").click()
    page.get_by_role("heading", name="Themes ·", level=1).wait_for()
    assert "period=month" in page.url
    expect(page.get_by_text("No themes yet.")).to_be_visible()
    page.get_by_label("Theme", exact=True).fill("Refunds")
    page.get_by_label("Phrases").fill("refund\nmoney back")
    page.get_by_role("button", name="Add the theme").click()
    expect(page.get_by_text("Theme “Refunds” added.")).to_be_visible()
    row = page.locator(".themes-table tbody tr").first
    # The worker matches it within seconds: reload until the two comments are in.
    for _ in range(60):
        if row.locator("td").first.inner_text().strip() == "2":
            break
        page.wait_for_timeout(500)
        page.reload()
    # NPS 20 overall (3 promoters, 2 detractors of 5); without the theme's two detractors,
    # 100: impact −80.
    expect(row.locator("td").first).to_have_text("2")
    expect(row).to_contain_text("-80.0")
    screenshot("themes-page")
    assert not [m for m in messages if "Content Security Policy" in m or m.startswith("error")], messages
