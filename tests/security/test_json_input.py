"""Issue #15: every JSON endpoint refuses, with a 400 that says why and names the place,
a body nested tens of thousands of levels deep (cheaply: no RecursionError), and text
PostgreSQL cannot store (NUL, lone surrogates) in any value or key — and stores nothing.

The endpoints are read from the API's own OpenAPI schema, so a new one is covered."""
import json

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from kpis.models import AlertRule
from tenants.inputs import GuardedJSONParser, json_too_deep
from tests.helpers import api_key_client
from tests.security.helpers import api_operations, api_path, stored_fingerprint
from tenants.webhooks.models import WebhookEndpoint
from tests.surveys.factories import survey_make

DEEP = ("[" * 50_000 + "]" * 50_000, '{"a":' * 50_000 + "1" + "}" * 50_000, '{"rows": ' + "[" * 40 + "]" * 40 + "}")


@pytest.fixture
def api(workspace):
    client = api_key_client(workspace)
    with tenant_context(workspace):
        survey = survey_make("nps", name="Loop")
        rule = AlertRule.objects.get()  # the social spike rule every workspace has
        webhook = WebhookEndpoint.objects.create(url="https://hooks.example.test/in", events=["alert.fired"],
                                                 secret="whsec_loop")
    connection.set_schema_to_public()
    ids = {"surveys": survey.pk, "dataset": "conversations", "alert-rules": rule.pk, "webhooks": webhook.pk,
           "channel": "chat"}
    operations = [(method, api_path(template, ids))
                  for method, template, operation in api_operations(client)
                  if "application/json" in operation.get("requestBody", {}).get("content", {})]
    # Every kind of JSON endpoint is here: the test would pass vacuously otherwise.
    assert {(m, p.split("/")[3]) for m, p in operations} >= {
        ("POST", "datasets"), ("POST", "surveys"), ("PATCH", "surveys"), ("PATCH", "workspace")}
    return client, operations


def test_a_deeply_nested_body_is_refused_by_every_json_endpoint(workspace, api):
    client, operations = api
    before = stored_fingerprint(workspace)
    for method, path in operations:
        for body in DEEP:
            response = client.generic(method, path, body, content_type="application/json")
            assert response.status_code == 400, (method, path, response.content[:200])
            assert response.json()["detail"] == (
                "Body too deeply nested: JSON may nest arrays and objects at most 32 levels deep."), (method, path)
    assert stored_fingerprint(workspace) == before


@pytest.mark.parametrize(("body", "field", "message"), [
    ('{"name": "Lo\\u0000op"}', "name", "Contains a NUL character (U+0000), which cannot be stored."),
    ('{"name": "Lo\\ud800op"}', "name", "Contains a lone surrogate (U+D800), which is not valid Unicode."),
    ('{"na\\u0000me": "Loop"}', "na\\x00me", "The key contains a NUL character (U+0000), which cannot be stored."),
    ('{"questions": [{"text": "\\udc00"}]}', "questions[0].text",
     "Contains a lone surrogate (U+DC00), which is not valid Unicode."),
    ('"\\u0000"', "non_field_errors", "Contains a NUL character (U+0000), which cannot be stored."),
])
def test_text_that_cannot_be_stored_is_refused_naming_the_place(workspace, api, body, field, message):
    client, operations = api
    before = stored_fingerprint(workspace)
    for method, path in operations:
        if "/datasets/" in path:
            continue  # one row's rejection there: tests/security/test_records_input.py
        response = client.generic(method, path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.content[:200])
        detail = message if field == "non_field_errors" else f"{field}: {message}"
        assert response.json() == {"detail": detail, "errors": {field: [message]}}, (method, path)
    assert stored_fingerprint(workspace) == before


def test_the_depth_check_is_exact_and_ignores_brackets_inside_strings():
    assert not json_too_deep(b"[" * 32 + b"]" * 32)
    assert json_too_deep(b"[" * 33 + b"]" * 33)
    assert not json_too_deep(b'[{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[["}]')
    assert not json_too_deep(json.dumps([{"id": n, "tags": ["a", "b"], "p": {"x": [1]}} for n in range(10_000)]).encode())
    assert not json_too_deep(b'["\\\\", "' + b"[" * 40 + b'", {"k\\"": "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"}]')
    assert json_too_deep(b'{"a": ' * 33 + b"1" + b"}" * 33)
    assert not json_too_deep(b"[[[")  # unbalanced: the decoder's syntax error says so


def test_the_parser_reads_honest_json_unchanged():
    from io import BytesIO

    body = json.dumps({"name": "Ünïcødé ✓ 😀", "rows": [1, 2.5, None, True, {"k": ["v"]}]}).encode()
    assert GuardedJSONParser().parse(BytesIO(body)) == json.loads(body)

