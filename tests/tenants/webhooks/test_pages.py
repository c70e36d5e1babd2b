"""The Webhooks settings pages: team leads only; adding, editing, rotating, deleting; the
test button and the delivery log with its Redeliver button."""
import pytest
from django_tenants.utils import tenant_context

from tenants.accounts.models import Role
from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers import host_client
from tests.tenants.webhooks.factories import WebhookEndpointFactory

VALID = {"url": "http://127.0.0.1:9999/hooks", "description": "CRM", "events": ["alert.fired", "import.finished"],
         "is_active": "on"}


def test_a_team_lead_adds_an_endpoint(workspace, lead):
    assert lead.get("/settings/webhooks/").status_code == 200
    response = lead.post("/settings/webhooks/", VALID)
    with tenant_context(workspace):
        endpoint = WebhookEndpoint.objects.get()
        assert (endpoint.url, endpoint.description, endpoint.events, endpoint.is_active, endpoint.created_by_id) == (
            "http://127.0.0.1:9999/hooks", "CRM", ["alert.fired", "import.finished"], True, workspace.lead.pk)
        assert endpoint.secret.startswith("whsec_")
    assert (response.status_code, response["Location"]) == (302, f"/settings/webhooks/{endpoint.pk}/")
    page = lead.get(response["Location"])
    assert page["Cache-Control"] == "no-store"
    text = page.content.decode()
    assert endpoint.secret in text and "Endpoint added. Send it a test event." in text
    assert "http://127.0.0.1:9999/hooks" in lead.get("/settings/webhooks/").content.decode()


@pytest.mark.parametrize("url, message", [
    ("ftp://x", "Webhook URL must start with http:// or https://."),
    ("http://", "Webhook URL has no host."),
    ("not a url", "Webhook URL must start with http:// or https://."),
])
def test_bad_urls_get_their_message_and_nothing_is_stored(workspace, lead, url, message):
    response = lead.post("/settings/webhooks/", {**VALID, "url": url, "description": "kept"})
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert 'value="kept"' in text  # bad input loses nothing else typed
    with tenant_context(workspace):
        assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_needs_an_event(workspace, lead):
    response = lead.post("/settings/webhooks/", {"url": "https://x.example.test/", "events": []})
    assert response.status_code == 400 and "Choose at least one event to send." in response.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_get_403(workspace, make_member, role):
    with tenant_context(workspace):
        endpoint = WebhookEndpointFactory()
    client = host_client(workspace, make_member(role))
    assert client.get("/settings/webhooks/").status_code == 403
    assert client.post("/settings/webhooks/", VALID).status_code == 403
    assert client.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 403
    for action in ("test", "rotate-secret", "delete"):
        assert client.post(f"/settings/webhooks/{endpoint.pk}/{action}/").status_code == 403
    with tenant_context(workspace):
        assert (WebhookEndpoint.objects.count(), WebhookDelivery.objects.count()) == (1, 0)
        assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_the_test_button_queues_a_ping(workspace, lead, sent, django_capture_on_commit_callbacks):
    with tenant_context(workspace):
        endpoint = WebhookEndpointFactory(events=["import.finished"])
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/settings/webhooks/{endpoint.pk}/test/")
    assert response.status_code == 302
    with tenant_context(workspace):
        ping = WebhookDelivery.objects.get()
    assert (ping.event_type, ping.endpoint_id, ping.status, sent) == ("ping", endpoint.pk, "pending", [ping.pk])
    assert ping.payload["data"] == {"message": "A test event from Pulse: your endpoint is reachable.",
                                    "endpoint_id": endpoint.pk, "sent_by": "Lee Lead"}
    assert lead.get(f"/settings/webhooks/{endpoint.pk}/test/").status_code == 405  # a GET never sends


def test_the_log_shows_codes_errors_payloads_and_redelivers_failed_ones(workspace, lead, sent,
                                                                        django_capture_on_commit_callbacks):
    with tenant_context(workspace):
        endpoint = WebhookEndpointFactory(url="https://bob:hunter2@hooks.example.test/in")
        payload = {"id": "e1", "type": "alert.fired", "data": {"message": "CSAT is 70 %"}}
        ok = WebhookDelivery.objects.create(endpoint=endpoint, event_type="alert.fired", payload=payload,
                                            status="succeeded", attempts=1, response_code=204)
        failed = WebhookDelivery.objects.create(endpoint=endpoint, event_type="alert.fired", payload=payload,
                                                status="failed", attempts=7, response_code=503,
                                                error="HTTP 503: not a 2xx answer.")
    text = lead.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "hunter2" not in text.replace(endpoint.secret, "") and "https://…@hooks.example.test/in" in text
    assert ">204<" in text and ">503<" in text and "HTTP 503: not a 2xx answer." in text
    assert "<details><summary>Event" in text and "CSAT is 70 %" in text
    assert text.count(">Redeliver</button>") == 1
    assert text.index(">503<") < text.index(">204<")  # latest first
    # Saved with the URL as shown: the stored one keeps its credentials.
    lead.post(f"/settings/webhooks/{endpoint.pk}/", {"url": "https://…@hooks.example.test/in", "events": ["alert.fired"],
                                                   "is_active": "on"})
    with tenant_context(workspace):
        endpoint.refresh_from_db()
    assert endpoint.url == "https://bob:hunter2@hooks.example.test/in"
    with django_capture_on_commit_callbacks(execute=True):
        assert lead.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{failed.pk}/redeliver/").status_code == 302
        lead.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{failed.pk}/redeliver/")  # a double click
        lead.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{ok.pk}/redeliver/")  # not failed: refused
    with tenant_context(workspace):
        failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.event_id, sent) == ("pending", 0, failed.event_id, [failed.pk])
    assert "Only a failed delivery can be redelivered; this one is succeeded." in lead.get(
        f"/settings/webhooks/{endpoint.pk}/").content.decode()


def test_edit_deactivate_rotate_and_delete(workspace, lead):
    with tenant_context(workspace):
        endpoint = WebhookEndpointFactory(events=["alert.fired"])
        old_secret = endpoint.secret
    response = lead.post(f"/settings/webhooks/{endpoint.pk}/", {"url": "https://new.example.test/h",
                                                              "events": ["alert.cleared"], "description": ""})
    assert response.status_code == 302
    assert lead.post(f"/settings/webhooks/{endpoint.pk}/", {"url": "http://", "events": ["alert.cleared"]}).status_code == 400
    assert lead.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/").status_code == 302
    with tenant_context(workspace):
        endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.is_active, endpoint.description) == (
        "https://new.example.test/h", ["alert.cleared"], False, "")
    assert endpoint.secret != old_secret and endpoint.secret.startswith("whsec_")
    assert lead.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 302
    with tenant_context(workspace):
        assert not WebhookEndpoint.objects.exists()
    assert lead.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 404
