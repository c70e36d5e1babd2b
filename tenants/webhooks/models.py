"""Outgoing webhooks: the endpoints a workspace's integrators register, and one delivery
row per event and endpoint, which is also the delivery log shown to team leads."""
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from tenants.webhooks.urlcheck import URL_MAX_LENGTH, url_display


class EventType(models.TextChoices):
    ALERT_FIRED = "alert.fired", "An alert fired"
    ALERT_CLEARED = "alert.cleared", "An alert cleared"
    SURVEY_RESPONSE_CREATED = "survey.response.created", "A survey response arrived"
    IMPORT_FINISHED = "import.finished", "An import finished (succeeded or failed)"
    # Sent by the "Send test event" button to one endpoint, whatever it subscribes to.
    PING = "ping", "Test event"


# What an endpoint can subscribe to: every event but the test ping.
SUBSCRIBABLE = [(value, label) for value, label in EventType.choices if value != EventType.PING]


class WebhookEndpoint(models.Model):
    url = models.CharField(max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=SUBSCRIBABLE), default=list)
    # Shown to team leads (they paste it into the receiver); a signing key, not a password.
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return url_display(self.url)


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The event's id: the same on every attempt and redelivery, so receivers de-duplicate.
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # The event body; what is sent is its canonical serialisation (signing.event_body), so
    # every attempt sends the same bytes.
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Set while a worker is sending an attempt: another worker holding the same task
    # message (a redelivered message, a double click on Redeliver) must not send it too.
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The delivery log: one endpoint's deliveries, latest first.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log"),
            # The resume job: the deliveries still to send, by due time. Not a partial index:
            # PostgreSQL prints an IN (...) predicate back differently from how it reads it,
            # and workspace schemas are cloned from those definitions (tenants/schema_clone.py).
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    @property
    def payload_pretty(self) -> str:
        import json

        return json.dumps(self.payload, indent=2, sort_keys=True, ensure_ascii=False)

    def __str__(self):
        return f"{self.event_type} → endpoint {self.endpoint_id} ({self.status})"
