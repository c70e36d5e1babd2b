"""Sending one attempt of a webhook delivery (``webhook_delivery_attempt``, run by
tenants.webhooks.tasks.webhook_deliver_task).

1. Claim: in a short transaction, the row is locked, checked (still to send, due, not in
   flight) and marked in flight with its attempt counted. Two workers holding the same
   task message (a redelivered message, a worker restarted) never send one attempt twice.
2. POST, outside any transaction (a slow receiver holds no row lock or connection in a
   transaction): signed afresh, redirects never followed by ``requests`` itself; at most
   ``MAX_REDIRECTS`` are followed here, to the same scheme only (no https → http
   downgrade, no file:, ftp:…).
3. Record the outcome: 2xx succeeded; anything else retrying (the task retries after the
   returned delay) or, after the last attempt, failed.
"""
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants.tasking import enqueue
from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks.services import DELIVER_TASK
from tenants.webhooks.signing import event_body, webhook_signature
from tenants.webhooks.urlcheck import url_display

MAX_REDIRECTS = 3
EXCERPT_CHARS = 500
USER_AGENT = "Pulse-Webhooks/1"
_REDIRECTS = (301, 302, 303, 307, 308)
# A duplicate task message may arrive a moment before the row's due time is reached by the
# database clock; later than this early it is a duplicate and sends nothing.
_EARLY_SLACK = timedelta(seconds=1)


def webhook_retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 = the first): the
    settings' schedule (30 s, 2 min, 10 min, 1 h, 6 h, 24 h by default), its last step
    repeated if there are more attempts than steps."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    return float(delays[min(attempt, len(delays)) - 1])


@dataclass
class Outcome:
    code: int | None = None
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.code is not None and 200 <= self.code < 300 and not self.error


def _stale_after() -> timedelta:
    # Longer than any attempt can take (every hop timing out), so a claim older than this
    # was left by a worker that died mid-attempt.
    per_hop = settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
    return timedelta(seconds=per_hop * (MAX_REDIRECTS + 1) + 30)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint")
                    .filter(pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
                    .first())
        if delivery is None:
            return None  # deleted, or already settled
        if delivery.claimed_at is not None and delivery.claimed_at > now - _stale_after():
            return None  # another worker is sending this attempt
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + _EARLY_SLACK:
            return None  # a duplicate message: the retry scheduled for later will send it
        delivery.attempts += 1
        delivery.claimed_at = now
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts, claimed_at=now)
    return delivery


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a receiver's body may be anything.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:EXCERPT_CHARS]


def _headers(delivery: WebhookDelivery, body: bytes) -> dict:
    timestamp = int(timezone.now().timestamp())
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
            "Pulse-Event-Id": str(delivery.event_id), "Pulse-Event-Type": delivery.event_type,
            "Pulse-Signature": webhook_signature(secret=delivery.endpoint.secret, body=body, timestamp=timestamp)}


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def redirect_refusal(*, source: str, target: str, followed: int) -> str:
    """Why a redirect from ``source`` to ``target`` (after ``followed`` others) is not
    followed, or "": only to the same scheme (never https → http, file:, ftp:…), and at
    most MAX_REDIRECTS of them."""
    source_scheme, target_scheme = urlsplit(source).scheme.lower(), urlsplit(target).scheme.lower()
    if target_scheme != source_scheme:
        return (f"Redirect refused: {source_scheme} → {target_scheme or '(no scheme)'} ({url_display(target)[:200]}); "
                f"only {source_scheme}:// to {source_scheme}:// redirects are followed.")
    if not urlsplit(target).hostname:
        return f"Redirect refused: {url_display(target)[:200]} has no host."
    if followed >= MAX_REDIRECTS:
        return f"Redirect refused: more than {MAX_REDIRECTS} redirects."
    return ""


def _post(delivery: WebhookDelivery) -> Outcome:
    body = event_body(delivery.payload)
    url = delivery.endpoint.url
    timeouts = (settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT)
    for hop in range(MAX_REDIRECTS + 1):
        try:
            # Signed at each hop: the timestamp is fresh for whoever finally receives it.
            response = requests.post(url, data=body, headers=_headers(delivery, body), timeout=timeouts,
                                     allow_redirects=False, stream=True)
        except requests.exceptions.ConnectTimeout:
            return Outcome(error=f"Timeout: no connection to {_host(url)} within {timeouts[0]:g} s.")
        except requests.exceptions.ReadTimeout:
            return Outcome(error=f"Timeout: no response from {_host(url)} within {timeouts[1]:g} s.")
        except requests.exceptions.SSLError:
            return Outcome(error=f"TLS error: the certificate of {_host(url)} could not be verified.")
        except requests.exceptions.ConnectionError as exc:
            refused = "refused" in str(exc).lower()
            return Outcome(error=f"Connection refused by {_host(url)}." if refused
                           else f"Connection to {_host(url)} failed ({type(exc).__name__}).")
        except requests.exceptions.RequestException as exc:
            return Outcome(error=f"Request failed ({type(exc).__name__}).")
        with response:
            try:
                excerpt = _text(next(response.iter_content(EXCERPT_CHARS * 4), b""))
            except requests.exceptions.RequestException:
                excerpt = ""  # the status line arrived; a body cut short is not a failure of its own
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                return Outcome(code=response.status_code, excerpt=excerpt)
        target = urljoin(url, location)
        refusal = redirect_refusal(source=url, target=target, followed=hop)
        if refusal:
            return Outcome(code=response.status_code, excerpt=excerpt, error=refusal)
        url = target
    raise AssertionError("unreachable: the loop returns")


def _record(delivery: WebhookDelivery, outcome: Outcome) -> float | None:
    now = timezone.now()
    fields = {"response_code": outcome.code, "response_excerpt": outcome.excerpt, "claimed_at": None,
              "error": outcome.error if outcome.error or outcome.succeeded else f"HTTP {outcome.code}: not a 2xx answer."}
    delay = None
    if outcome.succeeded:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, next_attempt_at=None, error="")
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    elif not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).exists():
        # Turned off while this attempt was under way (or a deliberate test or redelivery
        # to an endpoint that is off): no retries to a place that wants nothing more.
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
                      error=f"{fields['error']} No retry: the endpoint is turned off.")
    else:
        delay = webhook_retry_delay(delivery.attempts)
        fields.update(status=WebhookDelivery.Status.RETRYING, next_attempt_at=now + timedelta(seconds=delay))
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return delay


def webhook_delivery_attempt(*, delivery_id: int) -> float | None:
    """Send the next attempt of a delivery. Returns the seconds until the task should try
    again, or None: delivered, failed for good, or nothing to send."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    return _record(delivery, _post(delivery))


def webhook_deliveries_resume(*, overdue_after: timedelta = timedelta(minutes=5)) -> int:
    """Re-queue the deliveries nobody will send otherwise (beat runs it every five
    minutes): due longer than ``overdue_after`` ago and not claimed (their task message
    was lost), or claimed by a worker that died mid-attempt (claim older than any attempt
    takes). A re-queued one that is in fact still queued is harmless: the claim sends each
    attempt once. Returns how many were re-queued."""
    now = timezone.now()
    lost = (WebhookDelivery.objects.filter(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
            .filter(Q(claimed_at__isnull=True, next_attempt_at__lt=now - overdue_after)
                    | Q(claimed_at__lt=now - _stale_after())))
    ids = list(lost.values_list("pk", flat=True))
    with transaction.atomic():
        for delivery_id in ids:
            enqueue(DELIVER_TASK, delivery_id)
    return len(ids)
