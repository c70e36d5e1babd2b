"""Digest emails in a real Celery worker process, delivered to the tests' real SMTP server
(tests/servers.py): one email per subscriber with its inline charts and unsubscribe
headers, nothing on a second run, and a worker SIGKILLed while the mail server holds a
digest (it stalls after DATA) leaves nobody with two digests once a new worker starts."""
import asyncio
import email
from collections import Counter
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kpis.digests import digest_due_period
from kpis.models import DigestDelivery, DigestSettings, DigestSubscription
from kpis.services.compute import kpis_compute
from kpis.services.digests import digest_subscription_update
from surveys.models import OutboxEmail
from tenants.accounts.models import Role
from tenants.tasking import enqueue
from tests.factories import UserFactory
from tests.helpers import wait_until
from tests.kpis.helpers import csat_answers, load_into

pytestmark = pytest.mark.worker

DUE_TASK = "kpis.tasks.digests_send_due_task"


def _zone_with_a_weekly_digest_due() -> str:
    """Paris, or Los Angeles while it is Monday 00:00–08:00 in Paris (the weekly digest is
    not due there yet; 9 hours behind, it is in Los Angeles)."""
    now = timezone.now()
    return next(zone for zone in ("Europe/Paris", "America/Los_Angeles") if digest_due_period("weekly", now, zone))


def _workspace_with_subscribers(committed_workspace, slug: str, emails: list[str]):
    time_zone = _zone_with_a_weekly_digest_due()
    workspace = committed_workspace(slug, time_zone=time_zone)
    period = digest_due_period("weekly", timezone.now(), time_zone)
    # CSAT answers in the due week and the one before, so the cards have values and charts.
    load_into(workspace, "survey_responses", csat_answers("a", f"{period.start + timedelta(days=2)}", 8, 2)
              + csat_answers("b", f"{period.start - timedelta(days=5)}", 4, 6))
    with tenant_context(workspace):
        kpis_compute(since=period.start - timedelta(days=84), until=period.end)
        DigestSettings.objects.create(pk=1, kpis=["csat", "survey_response_rate", "nps"])
        for address in emails:
            user = UserFactory(email=address, role=Role.VIEWER, full_name=address.split("@")[0].title())
            digest_subscription_update(user=user, active=True, frequency="weekly", now=timezone.now() - timedelta(days=40))
    connection.set_schema_to_public()
    return workspace, period


def _received(sink, domain) -> Counter:
    return Counter(m["To"].addresses[0].addr_spec for m in list(sink.messages) if m["To"].addresses[0].domain == domain)


def _statuses(workspace) -> Counter:
    with tenant_context(workspace):
        found = Counter(DigestDelivery.objects.values_list("status", flat=True))
    connection.set_schema_to_public()
    return found


def _run_due_check(workspace) -> None:
    with tenant_context(workspace):
        enqueue(DUE_TASK)  # autocommit: sent at once
    connection.set_schema_to_public()


def test_due_digests_go_once_to_each_subscriber(committed_workspace, celery_worker, smtp_server):
    emails = [f"sub{i}@digestworker.test" for i in range(3)]
    workspace, period = _workspace_with_subscribers(committed_workspace, "digestworker", emails)
    _run_due_check(workspace)
    wait_until(lambda: sum(_received(smtp_server, "digestworker.test").values()) == 3, timeout=90)
    wait_until(lambda: _statuses(workspace) == Counter({"sent": 3}), timeout=60)
    assert _received(smtp_server, "digestworker.test") == Counter({address: 1 for address in emails})

    message = next(m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == emails[0])
    with tenant_context(workspace):
        token = DigestSubscription.objects.get(user__email=emails[0]).token
        kept = OutboxEmail.objects.filter(category="digest").count()
    connection.set_schema_to_public()
    assert message["Subject"] == f"[Digestworker] Weekly digest, {period.label}"
    assert message["List-Unsubscribe"].strip() == f"<{workspace.url}/digest/unsubscribe/{token}/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/related"
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    html = message.get_body(preferencelist=("html",)).get_content()
    # A chart per card with data (CSAT; the response rate and NPS have none), referenced by cid:.
    assert [part["Content-ID"] for part in images] == [f"<chart-csat-{period.start:%Y%m%d}@pulse.digest>"]
    assert images[0].get_content().startswith(b"\x89PNG")
    assert f'src="cid:chart-csat-{period.start:%Y%m%d}@pulse.digest"' in html
    text = smtp_server.text_of(message)
    assert "Customer satisfaction (CSAT): 80.0% (+40.0 pts vs 40.0%, better, significant change)" not in text  # n = 10 < 30
    assert "Customer satisfaction (CSAT): 80.0% (+40.0 pts vs 40.0%, better, n = 10, too few to judge)" in text
    assert kept == 3  # the Outbox keeps a copy of each
    # For the closing report: what a subscriber received.
    out = Path(__file__).resolve().parents[2] / "test-artifacts" / "digest-email.txt"  # git-ignored
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(f"{name}: {value}\n" for name, value in message.items()) + "\n" + text)
    print(f"\ndigest email written to {out}")

    # A second run (beat's next quarter-hour) sends nothing.
    _run_due_check(workspace)
    celery_worker.wait_idle()
    assert _received(smtp_server, "digestworker.test") == Counter({address: 1 for address in emails})
    assert _statuses(workspace) == Counter({"sent": 3})


def test_a_worker_killed_mid_send_emails_nobody_twice(committed_workspace, celery_worker, smtp_server, monkeypatch):
    emails = [f"k{i}@digestkill.test" for i in range(5)]
    workspace, _ = _workspace_with_subscribers(committed_workspace, "digestkill", emails)
    stalled = []

    async def stall_after_data(server, session, envelope):
        # The first digest is received whole, then the server says nothing: the worker
        # waits for its 250, and is killed while it waits.
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        smtp_server.messages.append(message)
        if not stalled:
            stalled.append(message["To"].addresses[0].addr_spec)
            await asyncio.sleep(8)
        return "250 OK"

    monkeypatch.setattr(smtp_server, "handle_DATA", stall_after_data)
    _run_due_check(workspace)
    wait_until(lambda: stalled and _statuses(workspace)["sending"] == 1, timeout=90, interval=0.05)
    celery_worker.kill()
    before = _statuses(workspace)
    assert before["sending"] == 1 and before["sent"] == 0 and before["pending"] == 4

    # A new worker: its start-up due check queues the pending digests again (their
    # messages died with the old worker) and leaves the one in "sending" alone.
    celery_worker.start()
    wait_until(lambda: _statuses(workspace)["pending"] == 0, timeout=90)
    celery_worker.wait_idle()
    after = _statuses(workspace)
    assert after == Counter({"sent": 4, "sending": 1})
    received = _received(smtp_server, "digestkill.test")
    # Everybody got exactly one digest: the interrupted one was received once (the server
    # had its data) and never sent again.
    assert received == Counter({address: 1 for address in emails})
    with tenant_context(workspace):
        interrupted = DigestDelivery.objects.select_related("subscription__user").get(status="sending")
        assert interrupted.subscription.user.email == stalled[0]
        # Later due checks never resend it: after 30 minutes they mark it failed, uncertain.
        from kpis.services.digests import UNCERTAIN, digests_send_due

        assert digests_send_due(now=timezone.now() + timedelta(minutes=31)) == []
        interrupted.refresh_from_db()
        assert (interrupted.status, interrupted.error) == ("failed", UNCERTAIN)
    connection.set_schema_to_public()
