"""The resume job re-queues only the deliveries nobody else will send: overdue and
unclaimed (a lost task message), or claimed by a worker that died mid-attempt."""
from datetime import timedelta

from django.utils import timezone

from tenants.webhooks.delivery import webhook_deliveries_resume
from tenants.webhooks.models import WebhookDelivery
from tests.tenants.webhooks.factories import WebhookEndpointFactory


def test_only_lost_and_abandoned_deliveries_are_requeued(tenant, sent, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory()
    now = timezone.now()

    def delivery(status, due_minutes_ago, claimed_minutes_ago=None):
        claimed = now - timedelta(minutes=claimed_minutes_ago) if claimed_minutes_ago is not None else None
        return WebhookDelivery.objects.create(endpoint=endpoint, event_type="alert.fired", payload={}, status=status,
                                              next_attempt_at=now - timedelta(minutes=due_minutes_ago),
                                              claimed_at=claimed).pk

    lost = delivery("pending", 6)
    lost_retry = delivery("retrying", 30)
    abandoned = delivery("retrying", 30, claimed_minutes_ago=10)  # the test settings' claims go stale after 38 s
    delivery("pending", 1)  # just created: its message is surely still queued
    delivery("retrying", -60)  # its retry is an hour away
    delivery("pending", 30, claimed_minutes_ago=0)  # a worker is sending it right now
    delivery("succeeded", 30)
    delivery("failed", 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_resume() == 3
    assert sorted(sent) == sorted([lost, lost_retry, abandoned])
