"""/api/v1/webhooks: team-lead keys manage endpoints, read the log and send a ping;
agent and viewer keys get 403."""
import pytest
from django_tenants.utils import tenant_context

from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers import api_key_client
from tests.tenants.webhooks.factories import WebhookEndpointFactory


def _json(client, method, path, data=None):
    response = getattr(client, method)(path, data, content_type="application/json")
    return response.status_code, (response.json() if response.content else None)


def test_a_team_lead_key_creates_reads_changes_and_deletes_an_endpoint(workspace, sent, django_capture_on_commit_callbacks):
    api = api_key_client(workspace)
    status, created = _json(api, "post", "/api/v1/webhooks", {
        "url": "https://ann:pw@crm.example.test/in", "events": ["survey.response.created"], "description": "CRM"})
    assert status == 201
    with tenant_context(workspace):
        endpoint = WebhookEndpoint.objects.get()
    assert created == {"id": endpoint.pk, "url": "https://…@crm.example.test/in", "description": "CRM",
                       "events": ["survey.response.created"], "is_active": True, "secret": endpoint.secret,
                       "created_at": created["created_at"],
                       "deliveries_url": f"http://acme.localhost/api/v1/webhooks/{endpoint.pk}/deliveries"}
    assert endpoint.url == "https://ann:pw@crm.example.test/in" and endpoint.created_by is None
    status, listed = _json(api, "get", "/api/v1/webhooks")
    assert (status, listed["count"], listed["results"]) == (200, 1, [created])
    assert _json(api, "get", f"/api/v1/webhooks/{endpoint.pk}") == (200, created)

    status, changed = _json(api, "patch", f"/api/v1/webhooks/{endpoint.pk}", {
        "url": created["url"], "is_active": False, "rotate_secret": True})
    with tenant_context(workspace):
        endpoint.refresh_from_db()
    assert (status, changed["is_active"], changed["secret"]) == (200, False, endpoint.secret)
    assert endpoint.secret != created["secret"] and endpoint.url == "https://ann:pw@crm.example.test/in"

    with django_capture_on_commit_callbacks(execute=True):
        status, ping = _json(api, "post", f"/api/v1/webhooks/{endpoint.pk}/test")
    with tenant_context(workspace):
        delivery = WebhookDelivery.objects.get()
    assert (status, ping["id"], ping["event_type"], ping["status"], sent) == (202, delivery.pk, "ping", "pending", [delivery.pk])
    assert ping["payload"]["data"]["sent_by"] == "API key t"
    status, log = _json(api, "get", f"/api/v1/webhooks/{endpoint.pk}/deliveries")
    assert (status, log["count"], [d["event_id"] for d in log["results"]]) == (200, 1, [str(delivery.event_id)])

    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}").status_code == 204
    assert _json(api, "get", f"/api/v1/webhooks/{endpoint.pk}")[0] == 404
    with tenant_context(workspace):
        assert (WebhookEndpoint.objects.count(), WebhookDelivery.objects.count()) == (0, 0)


@pytest.mark.parametrize("body, field, message", [
    ({"url": "ftp://x", "events": ["alert.fired"]}, "url", "Webhook URL must start with http:// or https://."),
    ({"url": "http://", "events": ["alert.fired"]}, "url", "Webhook URL has no host."),
    ({"url": "https://x.test/", "events": []}, "events", "This list may not be empty."),
    ({"url": "https://x.test/", "events": ["ping"]}, "events", '"ping" is not a valid choice.'),
])
def test_invalid_endpoints_get_400_with_the_message(workspace, body, field, message):
    status, error = _json(api_key_client(workspace), "post", "/api/v1/webhooks", body)
    assert status == 400
    messages = error["errors"][field]
    # A list field's errors come per item: {"0": [...]}.
    assert message in (messages if isinstance(messages, list) else [m for ms in messages.values() for m in ms])
    with tenant_context(workspace):
        assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agent_and_viewer_keys_get_403(workspace, role):
    with tenant_context(workspace):
        endpoint = WebhookEndpointFactory()
    api = api_key_client(workspace, role=role)
    for method, path in [("get", "/api/v1/webhooks"), ("post", "/api/v1/webhooks"),
                         ("get", f"/api/v1/webhooks/{endpoint.pk}"), ("patch", f"/api/v1/webhooks/{endpoint.pk}"),
                         ("delete", f"/api/v1/webhooks/{endpoint.pk}"),
                         ("get", f"/api/v1/webhooks/{endpoint.pk}/deliveries"),
                         ("post", f"/api/v1/webhooks/{endpoint.pk}/test")]:
        status, error = _json(api, method, path, {})
        assert (status, error) == (403, {"detail": "This needs the team lead role."}), (method, path)


def test_another_workspaces_endpoint_is_not_found(workspace, other_workspace):
    with tenant_context(other_workspace):
        theirs = WebhookEndpointFactory()
    status, error = _json(api_key_client(workspace), "get", f"/api/v1/webhooks/{theirs.pk}")
    assert (status, error) == (404, {"detail": "No webhook endpoint with this id in this workspace."})
