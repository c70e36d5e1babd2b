"""Webhooks: writes. Endpoints (created, edited, deleted, their secret rotated) and events:
``webhook_event_emit`` turns one event into one delivery per subscribed active endpoint,
inside the caller's transaction; each delivery's task is sent once that transaction
commits (tenants.tasking.enqueue), so an event rolled back is never sent. The sending
itself is tenants.webhooks.delivery."""
import json
import uuid
from datetime import UTC

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.tasking import enqueue
from tenants.webhooks.models import SUBSCRIBABLE, EventType, WebhookDelivery, WebhookEndpoint
from tenants.webhooks.signing import secret_generate
from tenants.webhooks.urlcheck import url_display, webhook_url_clean

DELIVER_TASK = "tenants.webhooks.tasks.webhook_deliver_task"
_SUBSCRIBABLE = {value for value, _ in SUBSCRIBABLE}
# The event types some active endpoint subscribes to, cached per workspace (the cache key
# function prefixes the schema): every survey answer emits an event, and the benchmarked
# answer path of a workspace without webhooks must not pay a query for it.
_SUBSCRIBED_KEY = "webhooks:subscribed-events"
_SUBSCRIBED_SQL = "SELECT DISTINCT unnest(events) FROM webhooks_webhookendpoint WHERE is_active"


def _subscribed_events() -> set[str]:
    events = cache.get(_SUBSCRIBED_KEY)
    if events is None:
        with connection.cursor() as cursor:
            cursor.execute(_SUBSCRIBED_SQL)
            events = [row[0] for row in cursor.fetchall()]
        cache.set(_SUBSCRIBED_KEY, events, timeout=3600)
    return set(events)


def _subscriptions_changed() -> None:
    """Forget the cached subscriptions now (this transaction reads its own changes) and
    again once it commits (a reader may have cached the old ones in between)."""
    cache.delete(_SUBSCRIBED_KEY)
    tenant = connection.tenant

    def forget():
        with tenant_context(tenant):
            cache.delete(_SUBSCRIBED_KEY)

    transaction.on_commit(forget)


def _events_clean(events) -> list[str]:
    events = list(dict.fromkeys(events or []))  # de-duplicated, in the order given
    unknown = [event for event in events if event not in _SUBSCRIBABLE]
    if unknown:
        raise ValidationError({"events": [f"Unknown event type: {', '.join(unknown)}."]})
    if not events:
        raise ValidationError({"events": ["Choose at least one event to send."]})
    return events


def _url_clean(url: str) -> str:
    try:
        return webhook_url_clean(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None


@transaction.atomic
def webhook_endpoint_create(*, url: str, events: list[str], description: str = "", is_active: bool = True,
                            created_by=None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(url=_url_clean(url), events=_events_clean(events),
                                              description=(description or "").strip(), is_active=is_active,
                                              secret=secret_generate(), created_by=created_by)
    _subscriptions_changed()
    return endpoint


TURNED_OFF = "Not sent: the endpoint was turned off before this attempt."


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, url: str | None = None, events: list[str] | None = None,
                            description: str | None = None, is_active: bool | None = None) -> WebhookEndpoint:
    """Change the fields given (None: unchanged). ``url`` as pages and the API show it
    (credentials masked, ``https://…@host/``) also leaves the stored URL unchanged.
    Turning an endpoint off also settles what it still had queued as failed: off means the
    integrator wants nothing more there (an attempt already under way finishes; a test
    event or a redelivery asked for later is sent, being asked for)."""
    if url is not None and url != url_display(endpoint.url):
        endpoint.url = _url_clean(url)
    if events is not None:
        endpoint.events = _events_clean(events)
    if description is not None:
        endpoint.description = description.strip()
    if is_active is not None:
        endpoint.is_active = is_active
    endpoint.save(update_fields=["url", "events", "description", "is_active"])
    if is_active is False:
        (WebhookDelivery.objects.filter(endpoint=endpoint, claimed_at__isnull=True,
                                        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
         .update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
                 error=TURNED_OFF))
    _subscriptions_changed()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    # Its deliveries go with it (a queued task then finds no row and sends nothing).
    endpoint.delete()
    _subscriptions_changed()


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; attempts from now on are signed with it (the old one stops verifying)."""
    endpoint.secret = secret_generate()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=endpoint.secret)
    return endpoint


def _envelope(event_type: str, data: dict) -> dict:
    # Through DjangoJSONEncoder and back: dates, UUIDs and decimals become the strings
    # the receiver gets, so the stored payload is exactly what is serialised and sent.
    created_at = timezone.now().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.loads(json.dumps({"id": str(uuid.uuid4()), "type": event_type, "created_at": created_at,
                                  "workspace": connection.tenant.slug, "data": data}, cls=DjangoJSONEncoder))


def _deliveries_create(endpoints, event_type: str, data: dict) -> list[WebhookDelivery]:
    payload = _envelope(event_type, data)
    # Due now: a delivery still to send always has its due time (the resume job's query).
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event_id=payload["id"], event_type=event_type, payload=payload,
                        next_attempt_at=timezone.now())
        for endpoint in endpoints)
    for delivery in deliveries:
        enqueue(DELIVER_TASK, delivery.pk)
    return deliveries


def webhook_event_emit(*, event_type: str, data: dict) -> list[WebhookDelivery]:
    """One delivery of the event per active endpoint subscribed to ``event_type``, all with
    the same event id; sent after the caller's transaction commits (nothing if it rolls
    back). Where nobody subscribes to it (the cached subscriptions say), nothing is read."""
    if event_type not in _SUBSCRIBABLE:
        raise ValueError(f"{event_type!r} is not an event endpoints subscribe to")
    if event_type not in _subscribed_events():
        return []
    with transaction.atomic():
        endpoints = WebhookEndpoint.objects.filter(is_active=True, events__contains=[event_type])
        return _deliveries_create(list(endpoints), event_type, data)


@transaction.atomic
def webhook_ping_send(*, endpoint: WebhookEndpoint, user=None) -> WebhookDelivery:
    """The "Send test event" button: a ``ping`` to this endpoint only, whatever it
    subscribes to (checking a receiver before turning an endpoint on is the point)."""
    by = str(user) if user is not None else ""
    data = {"message": "A test event from Pulse: your endpoint is reachable.", "endpoint_id": endpoint.pk,
            "sent_by": by}
    [delivery] = _deliveries_create([endpoint], EventType.PING.value, data)
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again: same event id and body (receivers de-duplicate on the
    id), a fresh round of attempts. The status check is in the UPDATE itself, so two
    clicks on Redeliver queue it once."""
    changed = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.FAILED).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None)
    if not changed:
        raise ValidationError("Only a failed delivery can be redelivered; this one is "
                              f"{WebhookDelivery.objects.get(pk=delivery.pk).get_status_display().lower()}.")
    enqueue(DELIVER_TASK, delivery.pk)
    delivery.refresh_from_db()
    return delivery
