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


def test_turning_an_endpoint_off_settles_its_queue_and_stops_its_retries(tenant, sent, receiver):
    from tenants.webhooks.delivery import webhook_delivery_attempt
    from tenants.webhooks.services import TURNED_OFF, webhook_endpoint_update

    failing = receiver([500, 500])
    endpoint = WebhookEndpointFactory(url=failing.url)
    other = WebhookEndpointFactory()
    now = timezone.now()

    def delivery(target, status, claimed=False):
        return WebhookDelivery.objects.create(endpoint=target, event_type="alert.fired", payload={"id": "e"},
                                              status=status, next_attempt_at=now,
                                              claimed_at=now if claimed else None).pk

    queued, retrying, under_way = delivery(endpoint, "pending"), delivery(endpoint, "retrying"), delivery(endpoint, "pending", True)
    done, elsewhere = delivery(endpoint, "succeeded"), delivery(other, "pending")
    webhook_endpoint_update(endpoint=endpoint, is_active=False)

    def state(pk):
        row = WebhookDelivery.objects.get(pk=pk)
        return row.status, row.next_attempt_at is None, row.error

    assert state(queued) == state(retrying) == ("failed", True, TURNED_OFF)
    assert state(done) == ("succeeded", False, "")
    assert state(elsewhere) == state(under_way) == ("pending", False, "")
    # The attempt that was under way fails: it is not retried.
    WebhookDelivery.objects.filter(pk=under_way).update(claimed_at=None)
    assert webhook_delivery_attempt(delivery_id=under_way) is None
    assert state(under_way) == ("failed", True, "HTTP 500: not a 2xx answer. No retry: the endpoint is turned off.")
    assert len(failing.requests) == 1
