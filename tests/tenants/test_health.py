import pytest
from django.test import Client

import tenants.health


@pytest.mark.worker
def test_healthz_reports_postgresql_redis_and_worker(db, celery_worker):
    # The worker runs a solo pool: busy with a task another test left (or its start-up
    # resume), it cannot answer the health check's 1-second ping.
    celery_worker.wait_idle()
    response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {"postgresql": True, "redis": True, "worker": True}
    assert body["checks"]["worker"]["responding"]
    assert "password" not in response.content.decode().lower() and "postgres://" not in response.content.decode()


def test_healthz_is_served_on_workspace_hosts_and_by_ip_too(workspace, monkeypatch):
    monkeypatch.setattr(tenants.health, "_worker", lambda: {"responding": ["w@host"]})
    assert Client(HTTP_HOST=workspace.domain_name).get("/healthz").status_code == 200
    assert Client(HTTP_HOST="127.0.0.1").get("/healthz").status_code == 200


def test_healthz_is_503_and_says_which_piece_is_down(db, monkeypatch, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["postgresql"]["ok"] is True
    assert body["checks"]["redis"] == {"ok": False, "latency_ms": body["checks"]["redis"]["latency_ms"], "error": "ConnectionError"}
    assert body["checks"]["worker"] == {"ok": False, "error": "broker unreachable"}
