import re

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.accounts.models import ApiKey, Role
from tenants.accounts.selectors import api_key_hash
from tenants.accounts.services import api_key_create, api_key_revoke
from tests.helpers import host_client


def make_key(workspace, role=Role.TEAM_LEAD, name="ci"):
    with tenant_context(workspace):
        new = api_key_create(name=name, role=role)
    connection.set_schema_to_public()
    return new


def api(workspace, raw=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}
    return Client(HTTP_HOST=workspace.domain_name, **headers, **extra)


def test_api_keys_page_shows_a_new_key_once_and_stores_only_its_hash(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post("/settings/api-keys/", {"name": "Zendesk sync", "role": Role.TEAM_LEAD})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = re.search(r'value="(pulse_[0-9a-f]{8}_[A-Za-z0-9_-]{43})"', response.content.decode()).group(1)
    with tenant_context(workspace):
        key = ApiKey.objects.get()
        assert key.key_hash == api_key_hash(raw) and raw not in (key.key_hash, key.prefix)
        assert (key.name, key.created_by) == ("Zendesk sync", workspace.lead)
    listing = client.get("/settings/api-keys/").content.decode()
    assert "Zendesk sync" in listing and raw not in listing and f"pulse_{key.prefix}_…" in listing


def test_workspace_endpoint_with_a_key_and_last_used_recorded(workspace):
    new = make_key(workspace)
    response = api(workspace, new.raw).get("/api/v1/workspace")
    assert response.status_code == 200
    assert response.json() == {
        "name": "Acme", "slug": "acme", "url": "http://acme.localhost:8000", "time_zone": "Europe/Paris",
        "currency": "EUR", "created_at": response.json()["created_at"],
    }
    with tenant_context(workspace):
        assert ApiKey.objects.get().last_used_at is not None


def test_key_of_workspace_a_gets_401_at_workspace_b_and_reveals_nothing(workspace, other_workspace):
    new = make_key(workspace)
    response = api(other_workspace, new.raw).get("/api/v1/workspace")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API key for this workspace."}


def test_revoked_key_gets_401(workspace):
    new = make_key(workspace)
    with tenant_context(workspace):
        api_key_revoke(api_key=new.api_key)
    assert api(workspace, new.raw).get("/api/v1/workspace").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer nonsense", "Bearer pulse_zzzz_abc", "Bearer pulse_0123abcd_short"])
def test_malformed_key_gets_a_clear_401(workspace, header):
    response = Client(HTTP_HOST=workspace.domain_name, HTTP_AUTHORIZATION=header).get("/api/v1/workspace")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Malformed API key")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_no_credentials_gets_401_json(workspace):
    response = api(workspace).get("/api/v1/workspace")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_viewer_key_reads_but_gets_403_on_team_lead_endpoints(workspace):
    viewer = make_key(workspace, role=Role.VIEWER)
    client = api(workspace, viewer.raw)
    assert client.get("/api/v1/workspace").status_code == 200
    patch = client.patch("/api/v1/workspace", {"name": "Hacked"}, content_type="application/json")
    assert patch.status_code == 403
    assert patch.json() == {"detail": "This needs the team lead role."}
    assert client.get("/api/v1/members").status_code == 403


def test_viewer_session_gets_403_on_team_lead_endpoints(workspace, make_member):
    client = host_client(workspace, make_member(Role.VIEWER))
    assert client.get("/api/v1/workspace").status_code == 200
    assert client.get("/api/v1/members").status_code == 403


def test_team_lead_key_updates_the_workspace_and_bad_input_is_explained(workspace):
    client = api(workspace, make_key(workspace).raw)
    bad = client.patch("/api/v1/workspace", {"time_zone": "Mars/Base"}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["detail"] == 'time_zone: "Mars/Base" is not a valid choice.'
    ok = client.patch("/api/v1/workspace", {"name": "Acme Europe", "currency": "GBP"}, content_type="application/json")
    assert ok.status_code == 200 and (ok.json()["name"], ok.json()["currency"]) == ("Acme Europe", "GBP")


def test_members_endpoint_is_paginated(workspace):
    response = api(workspace, make_key(workspace).raw).get("/api/v1/members")
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert body["results"][0]["email"] == "lead@acme.test" and body["results"][0]["role"] == "team_lead"


def test_unknown_api_path_is_json_404(workspace):
    response = api(workspace, make_key(workspace).raw).get("/api/v1/nope")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_openapi_schema_and_offline_swagger_ui_are_readable_without_a_key(workspace):
    client = host_client(workspace)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert "/api/v1/workspace" in spec["paths"] and spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_api_is_not_served_on_the_public_site(db):
    assert Client(HTTP_HOST="localhost").get("/api/v1/workspace").status_code == 404


def test_create_api_key_page_rejects_blank_name(workspace):
    response = host_client(workspace, workspace.lead).post("/settings/api-keys/", {"name": "  ", "role": Role.AGENT})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    with tenant_context(workspace):
        assert not ApiKey.objects.exists()
