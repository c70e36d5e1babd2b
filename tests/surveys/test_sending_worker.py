"""The sender and the CSAT trigger in a real Celery worker process, delivering to the
tests' real SMTP server: a campaign's emails, a worker SIGKILLed mid-batch, and a CSAT
invitation after a conversation is resolved through the records API."""
import asyncio
import json
from collections import Counter
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.models import Customer
from surveys.models import Invitation, OutboxEmail, Refusal, Suppression, SurveySettings
from surveys.services.invitations import campaign_create
from surveys.services.sending import UNCERTAIN
from tests.helpers import api_key_client, wait_until
from tests.surveys.factories import survey_make

pytestmark = pytest.mark.worker

PARIS = zoneinfo.ZoneInfo("Europe/Paris")  # the test workspaces' time zone


def recipients_in(sink, domain) -> Counter:
    return Counter(str(m["To"].addresses[0].addr_spec) for m in list(sink.messages)
                   if m["To"].addresses[0].domain == domain)


def test_campaign_is_sent_by_the_worker_with_outbox_copies(committed_workspace, celery_worker, smtp_server):
    workspace = committed_workspace("sendworker")
    with tenant_context(workspace):
        survey = survey_make("csat")
        campaign_create(survey=survey, recipients=[{"email": f"w{i}@worker.test", "name": f"W {i}"} for i in range(5)])
    connection.set_schema_to_public()
    wait_until(lambda: sum(recipients_in(smtp_server, "worker.test").values()) == 5, timeout=90)
    assert recipients_in(smtp_server, "worker.test") == Counter({f"w{i}@worker.test": 1 for i in range(5)})

    def all_sent():
        with tenant_context(workspace):
            return Invitation.objects.filter(status="sent").count() == 5

    wait_until(all_sent, timeout=60)
    with tenant_context(workspace):
        assert sorted(OutboxEmail.objects.values_list("to", flat=True)) == [f"W {i} <w{i}@worker.test>" for i in range(5)]
    connection.set_schema_to_public()


def test_worker_killed_mid_batch_never_emails_anyone_twice(committed_workspace, celery_worker, smtp_server, monkeypatch):
    total = 40

    async def slow_data(server, session, envelope):
        # The message is received, then the server takes its time to say so: a worker
        # killed now has handed it over without learning that it was accepted.
        smtp_server.messages.append(__import__("email").message_from_bytes(
            envelope.content, policy=__import__("email").policy.default))
        await asyncio.sleep(0.15)
        return "250 OK"

    monkeypatch.setattr(smtp_server, "handle_DATA", slow_data)
    workspace = committed_workspace("sendkill")
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": f"k{i:02d}@kill.test"} for i in range(total)])
    connection.set_schema_to_public()

    def statuses():
        with tenant_context(workspace):
            return Counter(Invitation.objects.values_list("status", flat=True))

    # Kill while an invitation is with the server (marked "sending", its 250 not yet read).
    wait_until(lambda: sum(recipients_in(smtp_server, "kill.test").values()) >= 8 and statuses()["sending"] == 1,
               timeout=60, interval=0.01)
    celery_worker.kill()
    before = statuses()
    assert before["sending"] == 1 and 8 <= before["sent"] + 1 < total
    assert before["sent"] + before["sending"] + before["scheduled"] == total

    # The next worker fails the interrupted invitation (not resent) and sends the rest.
    celery_worker.start()
    wait_until(lambda: statuses()["scheduled"] == 0 and statuses()["sending"] == 0, timeout=60)
    after = statuses()
    assert after == Counter({"sent": total - 1, "failed": 1})
    with tenant_context(workspace):
        failed = Invitation.objects.get(status="failed")
        assert failed.failure_reason == UNCERTAIN
        sent = set(Invitation.objects.filter(status="sent").values_list("email", flat=True))
    received = recipients_in(smtp_server, "kill.test")
    # Nobody got two emails. Every sent invitation was received once; the interrupted one
    # was not sent again: received once if the kill came after the server had its data
    # (nearly always: the server takes 150 ms to answer), else never.
    assert max(received.values()) == 1
    assert set(received) - {failed.email} == sent and len(sent) == total - 1
    assert received[failed.email] in (0, 1)
    assert sum(received.values()) == total - 1 + received[failed.email]
    connection.set_schema_to_public()


def test_resolved_conversation_triggers_a_csat_invitation_after_the_delay(committed_workspace, celery_worker, smtp_server):
    workspace = committed_workspace("trigger")
    now = timezone.now().replace(microsecond=0)
    with tenant_context(workspace):
        survey = survey_make("csat", name="Post-conversation CSAT")
        SurveySettings.objects.update_or_create(pk=1, defaults={
            "csat_trigger_survey": survey, "csat_trigger_delay_minutes": 60, "csat_trigger_since": now - timedelta(days=1)})
        Suppression.objects.create(email="gone@trigger.test", reason="unsubscribed")
    connection.set_schema_to_public()
    client = api_key_client(workspace)

    def post(dataset, rows):
        response = client.post(f"/api/v1/datasets/{dataset}/records", json.dumps(rows), content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()

    post("customers", [
        {"external_id": "c1", "signed_up_at": "2026-01-01T00:00:00Z", "email": "Ann@Trigger.test", "name": "Ann"},
        {"external_id": "c2", "signed_up_at": "2026-01-01T00:00:00Z", "email": "bo@trigger.test", "name": "Bo"},
        {"external_id": "c3", "signed_up_at": "2026-01-01T00:00:00Z", "email": "test@trigger.test", "is_test": "true"},
        {"external_id": "c4", "signed_up_at": "2026-01-01T00:00:00Z", "email": "gone@trigger.test"},
        {"external_id": "c5", "signed_up_at": "2026-01-01T00:00:00Z", "email": ""},
    ])
    iso = lambda moment: moment.isoformat().replace("+00:00", "Z")  # noqa: E731
    two_hours_ago, half_hour_ago = now - timedelta(hours=2), now - timedelta(minutes=30)
    post("conversations", [
        # Resolved 2 h ago: due (1 h delay), sent now.
        {"external_id": "t-1", "channel": "chat", "agent": "Zoe", "customer_external_id": "c1",
         "created_at": iso(two_hours_ago - timedelta(hours=1)), "resolved_at": iso(two_hours_ago)},
        # Resolved 30 min ago: scheduled for 30 min from now.
        {"external_id": "t-2", "channel": "email", "agent": "Yan", "customer_external_id": "c2",
         "created_at": iso(half_hour_ago - timedelta(hours=1)), "resolved_at": iso(half_hour_ago)},
        {"external_id": "t-3", "channel": "chat", "customer_external_id": "c3",
         "created_at": iso(two_hours_ago - timedelta(hours=1)), "resolved_at": iso(two_hours_ago)},  # test customer
        {"external_id": "t-4", "channel": "chat", "customer_external_id": "c4",
         "created_at": iso(two_hours_ago - timedelta(hours=1)), "resolved_at": iso(two_hours_ago)},  # unsubscribed
        {"external_id": "t-5", "channel": "chat", "customer_external_id": "c5",
         "created_at": iso(two_hours_ago - timedelta(hours=1)), "resolved_at": iso(two_hours_ago)},  # no email
        {"external_id": "t-6", "channel": "chat", "customer_external_id": "c1",
         "created_at": iso(now - timedelta(days=3))},  # not resolved
        {"external_id": "t-7", "channel": "chat", "customer_external_id": "c2",
         "created_at": iso(now - timedelta(days=3)), "resolved_at": iso(now - timedelta(days=2))},  # before "since"
    ])
    messages = smtp_server.wait_for(lambda m: m["To"].addresses[0].addr_spec == "ann@trigger.test", timeout=30)
    assert len(messages) == 1 and messages[0]["Subject"] == "How did we do? Rate your experience with Trigger"

    def decided():
        with tenant_context(workspace):
            return Invitation.objects.count() + Refusal.objects.count() == 3 and \
                Invitation.objects.filter(status="sent").exists()

    wait_until(decided, timeout=60)
    # Each write of the records API queued a scan (and a scan queues the sender): the
    # worker may take them in any order, so a scan can still be queued or running once
    # Ann's email is sent. Let it finish before scanning here (a late worker scan would
    # decide t-5 below before this test's own scan does).
    celery_worker.wait_idle()
    with tenant_context(workspace):
        rows = {i.conversation_external_id: i for i in Invitation.objects.all()}
        assert set(rows) == {"t-1", "t-2"}
        ann, bo = rows["t-1"], rows["t-2"]
        assert (ann.source, ann.status, ann.email, ann.name, ann.channel, ann.agent, ann.customer_external_id) == (
            "trigger", "sent", "ann@trigger.test", "Ann", "chat", "Zoe", "c1")
        assert ann.scheduled_at == two_hours_ago + timedelta(hours=1)
        assert (bo.status, bo.channel, bo.agent, bo.scheduled_at) == ("scheduled", "email", "Yan", half_hour_ago + timedelta(hours=1))
        refusal = Refusal.objects.get()
        # The suppression's day in Paris (not today's: the test may run across midnight).
        today = timezone.localdate(Suppression.objects.get(email="gone@trigger.test").created_at,
                                   timezone=PARIS).isoformat()
        assert (refusal.conversation_external_id, refusal.email, refusal.source, refusal.reason) == (
            "t-4", "gone@trigger.test", "trigger", f"unsubscribed on {today}")
        # A second scan decides nothing again.
        from surveys.services.trigger import csat_trigger_scan

        assert csat_trigger_scan() == 0
        assert Invitation.objects.count() == 2 and Refusal.objects.count() == 1
        Customer.objects.filter(external_id="c5").update(email="late@trigger.test")
        assert csat_trigger_scan() == 1  # its email arrived: now decided
        assert Invitation.objects.get(conversation_external_id="t-5").email == "late@trigger.test"
    connection.set_schema_to_public()
    smtp_server.wait_for(lambda m: m["To"].addresses[0].addr_spec == "late@trigger.test", timeout=30)
