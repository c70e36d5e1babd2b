"""The data browser in a real browser: a team lead filters the stored conversations."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.ingestion.factories import ConversationFactory

pytestmark = pytest.mark.e2e

CHANNELS = ("email", "chat", "phone", "social")
AGENTS = ("Ann Lee", "Bob Marsh", "Chen Wu", "")
SUBJECTS = ("Refund for the annual plan, charged twice this month", "Cannot log in after password reset",
            "Invoice address change", "Export to CSV times out on large reports", "Where is my order?")


def test_a_team_lead_filters_conversations_by_channel(live_server, page, screenshot, committed_workspace):
    workspace = committed_workspace("browse", time_zone="Europe/Paris")
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with tenant_context(workspace):
        for i in range(64):
            created = start + timedelta(minutes=47 * i)
            ConversationFactory(
                external_id=f"T-{10400 + i}", channel=CHANNELS[i % 4], created_at=created,
                customer_external_id=f"cust-{300 + i % 17}", agent=AGENTS[i % 3 if i % 11 else 3],
                team=("Tier 1", "Billing")[i % 2], first_response_at=created + timedelta(minutes=4 + i % 9),
                resolved_at=created + timedelta(hours=1 + i % 5) if i % 7 else None, contacts=1 + i % 3,
                reopened=i % 9 == 0, csat_score=(5, 4, 3, None, 5)[i % 5], tags=["billing", "vip"][: i % 3],
                subject=SUBJECTS[i % 5], extra={"priority": ("high", "normal")[i % 2], "sla": "gold"} if i % 4 else {})

    port = live_server.url.rsplit(":", 1)[1]
    base = f"http://browse.localhost:{port}"
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Email").fill(workspace.lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.wait_for_url(f"{base}/data/")
    card = page.locator("article", has=page.get_by_role("heading", name="Conversations"))
    expect(card.locator(".dataset-rows strong")).to_have_text("64 rows", use_inner_text=True)
    screenshot("data-browser-datasets")
    card.get_by_role("link", name="Browse records").click()
    page.get_by_role("heading", name="Stored conversations").wait_for()
    # The heading may be there before the table is parsed: wait for the rows.
    expect(page.locator(".records-table tbody tr")).to_have_count(50)
    expect(page.locator(".records-table tbody th").first).to_have_text("T-10463", use_inner_text=True)

    page.get_by_label("channel").select_option("phone")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*[?&]channel=phone(&|$).*"))
    rows = page.locator(".records-table tbody tr")
    assert rows.count() == 16
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {"phone"}
    assert page.locator(".row-count").inner_text() == "16 rows matching"
    assert page.get_by_label("channel").input_value() == "phone"
    # The newest phone conversation (i = 62): 2026-03-04 08:34 UTC, 09:34 in Paris.
    assert rows.first.locator("td:nth-child(3)").inner_text() == "2026-03-04 09:34"
    assert screenshot("data-browser").exists()
    rows.nth(1).get_by_text("2 more fields").click()
    # The same words in order (the assertion normalises whitespace as split() did).
    expect(rows.nth(1).locator(".extra-cell dl")).to_have_text("sla gold priority high", use_inner_text=True)

    rows.first.locator("th").get_by_role("link").click()  # the row's id (its customer id links too)
    page.get_by_role("heading", name="T-10462").wait_for()
    screenshot("data-browser-row")
    page.get_by_role("link", name="‹ Back to the records").click()
    page.wait_for_url(re.compile(r".*channel=phone.*"))
