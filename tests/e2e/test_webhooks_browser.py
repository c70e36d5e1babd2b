"""Webhooks in a real browser (issue #12): a team lead adds an endpoint pointing at a local
receiver, sends a test event, the real Celery worker delivers it, and the delivery log shows
the receiver's 200 after a reload. Screenshot."""
import json

import pytest
from playwright.sync_api import expect

from tenants.webhooks.signing import webhook_verify
from tests.e2e.helpers import live_base, sign_in
from tests.receivers import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


@pytest.fixture
def local_receiver():
    server = Receiver([200]).start()
    yield server
    server.stop()


def test_a_team_lead_adds_an_endpoint_and_its_test_event_is_delivered(committed_workspace, live_server, celery_worker,
                                                                      local_receiver, page, screenshot):
    workspace = committed_workspace("hooked")
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.locator(".subnav").get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhooks", level=1).wait_for()
    page.get_by_label("Endpoint URL").fill("ftp://127.0.0.1/")
    page.get_by_label("An alert fired").check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("Webhook URL must start with http:// or https://.")).to_be_visible()
    page.get_by_label("Endpoint URL").fill(f"{local_receiver.url}/pulse")
    page.get_by_label("Description").fill("Local receiver")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("Endpoint added. Send it a test event.")).to_be_visible()
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event queued")).to_be_visible()

    [request] = local_receiver.wait_for(1, timeout=60)
    page.get_by_text("Show secret").click()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert webhook_verify(secret=secret, body=request.body, header=request.headers["Pulse-Signature"])
    assert json.loads(request.body)["type"] == "ping" and request.path == "/pulse"
    # The worker records the answer just after the receiver got it: reload until it shows.
    for _ in range(30):
        page.reload()
        row = page.locator(".deliveries-table tbody tr").first
        if "Succeeded" in row.inner_text():
            break
        page.wait_for_timeout(500)
    expect(row).to_contain_text("Succeeded")
    expect(row.locator("td").nth(4)).to_contain_text("200")
    row.locator("summary").click()  # the payload, in its <details>
    expect(row.locator("pre.payload")).to_contain_text('"type": "ping"')
    screenshot("webhooks")
