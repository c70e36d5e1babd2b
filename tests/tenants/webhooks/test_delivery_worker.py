"""Deliveries through a real Celery worker process to real local HTTP receivers: a 200, a
500 then 200, one that never answers, and redirects (refused to another scheme, followed
to the same one). The signature is checked with the README's own verification snippet."""
import json
import re
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from tenants.webhooks.models import WebhookDelivery
from tenants.webhooks.services import webhook_endpoint_create, webhook_event_emit
from tests.helpers import wait_until
from tests.receivers import Hang, Redirect

pytestmark = [pytest.mark.worker]

README = Path(__file__).resolve().parents[3] / "README.md"
DATA = {"import_id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "dataset": "conversations", "status": "succeeded",
        "rows": {"inserted": 3, "updated": 0, "rejected": 1, "skipped": 0}}


def readme_verify():
    """``pulse_webhook_verify`` as the README's snippet defines it (run, not copied)."""
    text = README.read_text()
    snippet = re.search(r"<!-- webhook-verify:start -->\n```python\n(.*?)```\n<!-- webhook-verify:end -->", text, re.S)
    namespace = {}
    exec(compile(snippet.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["pulse_webhook_verify"]


def _emit(workspace, url, event_type="import.finished", data=DATA):
    with tenant_context(workspace):
        endpoint = webhook_endpoint_create(url=url, events=[event_type])
        [delivery] = webhook_event_emit(event_type=event_type, data=data)  # commits: autocommit test
    return endpoint, delivery.pk


def _settled(workspace, delivery_id):
    def settled():
        with tenant_context(workspace):
            delivery = WebhookDelivery.objects.get(pk=delivery_id)
        return delivery if delivery.status in ("succeeded", "failed") else None

    return wait_until(settled, timeout=90)


def test_a_200_receiver_gets_the_exact_signed_body(committed_workspace, celery_worker, receiver):
    workspace = committed_workspace("hooksok")
    server = receiver([200])
    endpoint, delivery_id = _emit(workspace, f"{server.url}/pulse/in?src=test")
    [request] = server.wait_for(1)
    delivery = _settled(workspace, delivery_id)
    print("\nPOST", request.path)
    for name, value in request.headers.items():
        print(f"{name}: {value}")
    print()
    print(request.body.decode())

    assert (request.method, request.path) == ("POST", "/pulse/in?src=test")
    assert readme_verify()(endpoint.secret, request.body, request.headers["Pulse-Signature"]) is True
    assert readme_verify()("whsec_wrong", request.body, request.headers["Pulse-Signature"]) is False
    assert readme_verify()(endpoint.secret, request.body + b" ", request.headers["Pulse-Signature"]) is False
    body = json.loads(request.body)
    assert request.body == json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    assert body == {"id": str(delivery.event_id), "type": "import.finished", "created_at": body["created_at"],
                    "workspace": "hooksok", "data": DATA}
    assert {name: request.headers[name] for name in ("Content-Type", "User-Agent", "Pulse-Event-Id", "Pulse-Event-Type")} == {
        "Content-Type": "application/json", "User-Agent": "Pulse-Webhooks/1",
        "Pulse-Event-Id": str(delivery.event_id), "Pulse-Event-Type": "import.finished"}
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.response_excerpt, delivery.error) == (
        "succeeded", 1, 200, "answer 200", "")
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_500_is_retried_with_the_same_event_id_until_the_200(committed_workspace, celery_worker, receiver):
    workspace = committed_workspace("hooksretry")
    server = receiver([500, 200])
    endpoint, delivery_id = _emit(workspace, server.url + "/")
    first, second = server.wait_for(2)
    delivery = _settled(workspace, delivery_id)
    assert first.headers["Pulse-Event-Id"] == second.headers["Pulse-Event-Id"] == str(delivery.event_id)
    assert first.body == second.body
    verify = readme_verify()
    assert verify(endpoint.secret, first.body, first.headers["Pulse-Signature"])
    assert verify(endpoint.secret, second.body, second.headers["Pulse-Signature"])
    assert second.at - first.at >= 0.2  # the first backoff step of the test settings
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("succeeded", 2, 200, "")
    assert len(server.wait_for(2, timeout=1)) == 2  # and no third request


def test_a_receiver_that_never_answers_times_out_and_fails_after_the_last_attempt(committed_workspace, celery_worker,
                                                                                   receiver):
    workspace = committed_workspace("hookshang")
    server = receiver([Hang(5)])
    _, delivery_id = _emit(workspace, server.url + "/slow")
    delivery = _settled(workspace, delivery_id)
    assert len(server.requests) == 3  # WEBHOOK_MAX_ATTEMPTS of the test settings
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.next_attempt_at) == ("failed", 3, None, None)
    assert delivery.error == f"Timeout: no response from 127.0.0.1:{server.port} within 1 s."


def test_a_connection_refused_is_logged_and_retried(committed_workspace, celery_worker, receiver):
    workspace = committed_workspace("hooksrefused")
    server = receiver([200])
    port = server.port
    server.stop()  # nobody listens there any more
    _, delivery_id = _emit(workspace, f"http://127.0.0.1:{port}/gone")
    delivery = _settled(workspace, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.error) == ("failed", 3, f"Connection refused by 127.0.0.1:{port}.")


def test_a_redirect_to_another_scheme_is_refused_and_one_to_the_same_scheme_followed(committed_workspace, celery_worker,
                                                                                     receiver):
    workspace = committed_workspace("hooksredirect")
    target = receiver([200])
    ftp = receiver([Redirect(f"ftp://127.0.0.1:{target.port}/steal")])
    _, refused_id = _emit(workspace, ftp.url + "/a")
    refused = _settled(workspace, refused_id)
    assert (refused.status, refused.attempts, refused.response_code) == ("failed", 3, 302)
    assert refused.error == (f"Redirect refused: http → ftp (ftp://127.0.0.1:{target.port}/steal); "
                             "only http:// to http:// redirects are followed.")
    assert len(ftp.requests) == 3 and target.requests == []

    same = receiver([Redirect(f"{target.url}/final", status=307)])
    with tenant_context(workspace):
        endpoint = webhook_endpoint_create(url=same.url + "/start", events=["alert.fired"])
        [delivery] = webhook_event_emit(event_type="alert.fired", data={"alert_id": 1})
    [request] = target.wait_for(1)
    followed = _settled(workspace, delivery.pk)
    assert request.path == "/final" and readme_verify()(endpoint.secret, request.body, request.headers["Pulse-Signature"])
    assert (followed.status, followed.attempts, followed.response_code, len(same.requests)) == ("succeeded", 1, 200, 1)
