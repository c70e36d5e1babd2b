"""The staffing page in a real browser (issue #13): the heat map of the agents a channel
needs, a what-if recalculated from the form, then saved as the channel's rules. Screenshots."""
import time

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from ingestion.models import Conversation
from kpis.staffing.models import StaffingChannel
from tests.e2e.helpers import live_base, sign_in
from tests.kpis.staffing.test_pages import TODAY, fortnight_rows

pytestmark = [pytest.mark.e2e]


def test_a_team_lead_reads_the_heat_map_tries_a_what_if_and_saves_it(committed_workspace, live_server, page, screenshot,
                                                                      monkeypatch):
    workspace = committed_workspace("staffing")
    monkeypatch.setattr("kpis.periods.local_today", lambda tz: TODAY)
    with tenant_context(workspace):
        Conversation.objects.bulk_create(fortnight_rows())
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)

    started = time.monotonic()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    page.get_by_role("navigation", name="KPI pages").get_by_role("link", name="Staffing").click()
    page.get_by_role("heading", name="Staffing", level=1).wait_for()
    page.goto(f"{base}/kpis/staffing/?weeks=2")
    channels = page.locator(".staffing-channels tbody tr")
    expect(channels).to_have_count(2)
    expect(channels.first).to_contain_text("Erlang C: 80% within 60 s")
    monday_nine = page.locator(".heat-map tbody tr").nth(9).locator("td").first
    expect(monday_nine).to_have_text("199.0")  # 19 to schedule, 9.0 seen answering
    expect(monday_nine).to_have_class("heat-8 short")
    screenshot("staffing-page")

    page.get_by_label("Answered within (seconds, live queue)").fill("20")
    page.get_by_role("button", name="Recalculate").click()
    expect(page.get_by_role("heading", name="chat: agents to schedule what-if")).to_be_visible()
    expect(page.locator(".heat-map tbody tr").nth(9).locator("td").first).to_have_text("209.0")
    with tenant_context(workspace):
        assert not StaffingChannel.objects.exists()  # a what-if saves nothing
    page.get_by_role("button", name="Save these rules for chat").click()
    expect(page.get_by_text("chat: staffing rules saved.")).to_be_visible()
    elapsed = time.monotonic() - started
    expect(page.locator(".staffing-channels tbody tr").first).to_contain_text("own rules")
    expect(page.locator(".staffing-channels tbody tr").first).to_contain_text("Erlang C: 80% within 20 s")
    assert page.url == f"{base}/kpis/staffing/?channel=chat&weeks=2"  # the page as it was read
    expect(page.locator(".heat-map tbody tr").nth(9).locator("td").first).to_have_text("209.0")
    screenshot("staffing-saved")
    with tenant_context(workspace):
        assert StaffingChannel.objects.get().within_seconds == 20
    assert elapsed < 60, elapsed  # the "in under a minute", with a wide margin

    # The forecast of the week under way plans the same Monday peak (two identical Mondays).
    page.get_by_label("Plan for").select_option(label="The week of 16 Mar 2026 (under way): forecast")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="chat: agents to schedule, the week of 16 Mar 2026")).to_be_visible()
    expect(page.locator(".heat-map tbody tr").nth(9).locator("td").first).to_have_text("209.0")
    assert "week=2026-03-16" in page.url and "weeks=2" in page.url
    screenshot("staffing-forecast")
    assert not [m for m in messages if "Content Security Policy" in m or m.startswith("error")], messages
