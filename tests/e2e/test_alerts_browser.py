"""Alerts in a real browser (issue #12, step 1): a team lead sets a rule in the form, a
recompute's evaluation breaks it, the alert shows on the Alerts page and is acknowledged.
Screenshot."""
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kpis.models import KpiSnapshot
from kpis.periods import local_today
from kpis.services.alerts import alerts_evaluate
from tests.e2e.helpers import live_base, sign_in

pytestmark = [pytest.mark.e2e]


def test_a_team_lead_sets_a_rule_and_acknowledges_its_alert(committed_workspace, live_server, page, screenshot):
    workspace = committed_workspace("alerted")
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_role("heading", name="Alerts", level=1).wait_for()
    page.get_by_label("KPI").select_option(label="Conversation abandonment")
    page.get_by_label("Alert when the value").select_option(label="Crosses a bound")
    page.get_by_label("Above").fill("10")
    page.get_by_label("Below").fill("20")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("Above (10) must be more than below (20)")).to_be_visible()  # an impossible rule
    page.get_by_label("Below").fill("")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("Alert rule on Conversation abandonment saved")).to_be_visible()

    with tenant_context(workspace):
        yesterday = local_today(workspace.time_zone) - timedelta(days=1)
        KpiSnapshot.objects.create(kpi="conversation_abandonment_rate", period_kind="day", period_start=yesterday,
                                   value=50.0, numerator=20, denominator=40, computed_at=timezone.now())
        assert len(alerts_evaluate()["fired"]) == 1
    page.reload()
    row = page.locator(".alerts-table tbody tr").first
    expect(row).to_contain_text("Firing")
    expect(row).to_contain_text("Conversation abandonment is 50 %, outside its bound (≤ 10).")
    screenshot("alerts")
    row.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".alerts-table tbody tr").first).to_contain_text("Lee Lead")
