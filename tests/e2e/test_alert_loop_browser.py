"""Issue #12's whole loop in a real browser, through the real pieces: a team lead sets an
alert rule and a webhook endpoint in the UI, clicks "Recompute now"; the Celery worker
recomputes, the rule breaks, and the alert shows on the Alerts page, arrives by email
through a real SMTP server (kept in the Outbox) and by a signed webhook at a real local HTTP
receiver. A second recompute sends nothing more: each fires exactly once. Screenshots."""
import json
import time
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tenants.webhooks.signing import webhook_verify
from tests.e2e.helpers import live_base, sign_in
from tests.kpis.helpers import conv, load_into
from tests.receivers import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

MESSAGE = "Conversation abandonment is 50 %, outside its bound (≤ 10)."


@pytest.fixture
def receiver():
    server = Receiver([200]).start()
    yield server
    server.stop()


def _recompute(page):
    page.get_by_role("button", name="Recompute now").click()
    page.get_by_text("Recomputing every KPI. This page shows the progress.").wait_for()
    page.wait_for_function("() => !document.getElementById('kpi-recompute')", timeout=180000)
    page.wait_for_load_state()


def _alert_events(receiver):
    return [json.loads(r.body) for r in receiver.requests if r.headers.get("Pulse-Event-Type") == "alert.fired"]


def test_a_rule_set_in_the_ui_alerts_once_on_the_page_by_email_and_by_webhook(
        committed_workspace, live_server, celery_worker, smtp_server, receiver, page, screenshot):
    workspace = committed_workspace("alertloop")
    yesterday = datetime.now(zoneinfo.ZoneInfo(workspace.time_zone)).date() - timedelta(days=1)
    # Yesterday 20 of 40 chat conversations were abandoned: 50 %.
    load_into(workspace, "conversations", [
        conv(f"c{n}", "chat", f"{yesterday}T10:{n:02d}:00", abandoned="true" if n % 2 else "false") for n in range(40)])
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)

    started = time.monotonic()
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_label("KPI").select_option(label="Conversation abandonment")
    page.get_by_label("Alert when the value").select_option(label="Crosses a bound")
    page.get_by_label("Above").fill("10")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("Alert rule on Conversation abandonment saved")).to_be_visible()
    page.get_by_role("link", name="Settings", exact=True).click()
    page.locator(".subnav").get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL").fill(f"{receiver.url}/pulse/alerts")
    page.get_by_label("An alert fired").check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("Endpoint added. Send it a test event.")).to_be_visible()
    setup_seconds = time.monotonic() - started
    page.get_by_text("Show secret").click()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()

    page.goto(f"{base}/kpis/conversation_abandonment_rate/?period=day&date={yesterday}")
    _recompute(page)

    # The webhook: one alert.fired, signed with the endpoint's secret.
    receiver.wait_for(1, timeout=120)
    [request] = [r for r in receiver.requests if r.headers.get("Pulse-Event-Type") == "alert.fired"]
    assert webhook_verify(secret=secret, body=request.body, header=request.headers["Pulse-Signature"])
    event = json.loads(request.body)
    assert (event["type"], event["workspace"], request.path) == ("alert.fired", "alertloop", "/pulse/alerts")
    data = event["data"]
    assert {key: data[key] for key in ("kpi", "rule_kind", "period_kind", "period_start", "segment", "value",
                                       "expected_low", "expected_high", "message", "times_fired", "cleared_at")} == {
        "kpi": "conversation_abandonment_rate", "rule_kind": "threshold", "period_kind": "day",
        "period_start": yesterday.isoformat(), "segment": "", "value": 50.0, "expected_low": None,
        "expected_high": 10.0, "message": MESSAGE, "times_fired": 1, "cleared_at": None}
    # The email, through the real SMTP server.
    [email] = smtp_server.wait_for(lambda m: "[Alertloop]" in m["Subject"], timeout=60)
    assert (email["To"], email["Subject"].strip()) == ("lead@alertloop.test", f"[Alertloop] {MESSAGE}")
    # The page.
    page.get_by_role("link", name="Alerts", exact=True).click()
    row = page.locator(".alerts-table tbody tr").first
    expect(row).to_contain_text("Firing")
    expect(row).to_contain_text(MESSAGE)
    screenshot("alert-loop-alerts")
    # The Outbox keeps the alert email for the team leads.
    page.goto(f"{base}/outbox/")
    expect(page.get_by_text(f"[Alertloop] {MESSAGE}").first).to_be_visible()
    screenshot("alert-loop-outbox")

    # Recomputed again, the value still breaks the rule: nothing is sent a second time.
    page.goto(f"{base}/kpis/conversation_abandonment_rate/?period=day&date={yesterday}")
    _recompute(page)
    with tenant_context(workspace):
        from kpis.models import Alert
        from tenants.webhooks.models import WebhookDelivery

        assert list(Alert.objects.values_list("value", "times", "notified_times")) == [(50.0, 1, 1)]
        deliveries = list(WebhookDelivery.objects.filter(event_type="alert.fired").values_list("status", "response_code"))
    time.sleep(2)  # would a second notification or delivery be on its way, it would have arrived by now
    assert len(_alert_events(receiver)) == 1
    assert len(smtp_server.wait_for(lambda m: "[Alertloop]" in m["Subject"], timeout=5)) == 1
    assert deliveries == [("succeeded", 200)]
    page.goto(f"{base}/settings/webhooks/")
    print(f"rule and webhook set in the UI in {setup_seconds:.1f} s; alert.fired body: {request.body.decode()}")
    # What was received, kept for the closing report (test-artifacts/ is git-ignored).
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    text = email.get_body(preferencelist=("plain",)) if hasattr(email, "get_body") else None
    body = (text or email).get_payload(decode=True).decode()
    (out / "alert-email.txt").write_text("".join(f"{name}: {value}\n" for name, value in email.items()) + "\n" + body)
    (out / "alert-webhook.txt").write_text("".join(f"{name}: {value}\n" for name, value in request.headers.items())
                                           + "\n" + request.body.decode())
