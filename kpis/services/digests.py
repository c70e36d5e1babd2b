"""Digest emails: writes. The team lead's choice of KPI cards, each member's subscription,
unsubscribing by the email's token, and sending — never twice.

Sending: every 15 minutes beat runs ``digests_send_due`` in each workspace. One INSERT …
SELECT creates a ``DigestDelivery`` per active subscription whose period is due (the
unique (subscription, frequency, period_start) key makes a period's digest exist once
however many runs find it due) and queues ``digest_send`` for each. ``digest_send`` claims
its row — pending → sending, committed on its own — before the email goes to the mail
server, and marks it sent after. A worker killed between the two leaves the row in
``sending``: the server may or may not have the email, so it is never sent again (a later
run marks it failed, "delivery uncertain"): a missing digest is better than two."""
from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings as django_settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.utils import timezone

from kpis.digest_mail import digest_message
from kpis.digests import FREQUENCY_KINDS, digest_due_period, digest_last_period, digest_send_at
from kpis.models import DigestDelivery, DigestFrequency, DigestSettings, DigestSubscription
from kpis.periods import Period, period_end
from kpis.registry import KPIS
from kpis.selectors.digests import digest_build
from tenants.tasking import enqueue

SEND_TASK = "kpis.tasks.digest_send_task"
PREVIEW_TASK = "kpis.tasks.digest_preview_send_task"
MAX_ATTEMPTS = 5
# A row in "sending" this long belonged to a worker that died mid-send.
SENDING_STALE_AFTER = timedelta(minutes=30)
UNCERTAIN = ("Delivery uncertain: the worker or the connection stopped while handing this digest to the mail "
             "server. Not resent, so nobody gets it twice.")
# The mail server answered "no" to this message (nothing delivered): 4xx temporary, 5xx not.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


@transaction.atomic
def digest_settings_update(*, kpis: list[str]) -> DigestSettings:
    """The KPI cards of the workspace's digest, in this order (the form checked the keys;
    unknown or repeated ones are dropped here too)."""
    chosen = list(dict.fromkeys(key for key in kpis if key in KPIS))
    settings, _ = DigestSettings.objects.update_or_create(pk=1, defaults={"kpis": chosen})
    return settings


@transaction.atomic
def digest_subscription_update(*, user, active: bool, frequency: str = DigestFrequency.WEEKLY,
                               now: datetime | None = None) -> DigestSubscription:
    """A member opts in or out, or changes frequency. Opting in (or changing frequency)
    starts from now: the next digest is the next period's send time after this moment."""
    now = now or timezone.now()
    subscription, created = DigestSubscription.objects.select_for_update().get_or_create(
        user=user, defaults={"active": active, "frequency": frequency, "subscribed_since": now if active else None})
    if created:
        return subscription
    starts = active and (not subscription.active or subscription.frequency != frequency)
    subscription.active, subscription.frequency = active, frequency
    if starts:
        subscription.subscribed_since = now
    subscription.save(update_fields=["active", "frequency", "subscribed_since", "updated_at"])
    return subscription


@transaction.atomic
def digest_unsubscribe(*, token: str) -> DigestSubscription | None:
    """Turn off the digest of the subscription holding ``token`` (the email's link and its
    one-click header); None for an unknown token, which changes nothing."""
    subscription = DigestSubscription.objects.select_for_update().filter(token=token).first() if token else None
    if subscription is not None and subscription.active:
        subscription.active = False
        subscription.save(update_fields=["active", "updated_at"])
    return subscription


# Due subscriptions of every frequency in one statement (the VALUES list holds each
# frequency's due period and its send time): a subscription is due once its period's
# send time has come, if it was subscribed by then, and its member is active. Run every
# 15 minutes in every workspace: with nothing due it reads the partial index of active
# subscriptions and the unique index of deliveries only.
_CREATE_DUE = """
INSERT INTO kpis_digestdelivery (subscription_id, frequency, period_start, status, attempts, error, created_at)
SELECT s.id, s.frequency, due.period_start, 'pending', 0, '', %(now)s
FROM (VALUES {values}) AS due (frequency, period_start, send_at)
JOIN kpis_digestsubscription s ON s.active AND s.frequency = due.frequency AND s.subscribed_since <= due.send_at
JOIN accounts_user u ON u.id = s.user_id AND u.is_active
ON CONFLICT ON CONSTRAINT digest_delivery_once DO NOTHING
RETURNING id
"""


def digests_send_due(*, now: datetime | None = None) -> list[int]:
    """Create the deliveries that are due in the current workspace and queue their sends;
    queue again those whose message was lost; fail those a dead worker left in
    ``sending``. Returns the ids of the deliveries queued."""
    now = now or timezone.now()
    time_zone = connection.tenant.time_zone
    due = []
    for frequency in DigestFrequency.values:
        period = digest_due_period(frequency, now, time_zone)
        if period is not None:
            due.append((frequency, period.start, digest_send_at(period, time_zone)))
    with transaction.atomic():
        created: list[int] = []
        if due:
            values = ", ".join(f"(%(f{i})s, %(d{i})s::date, %(t{i})s::timestamptz)" for i in range(len(due)))
            params = {"now": now}
            for i, (frequency, start, send_at) in enumerate(due):
                params.update({f"f{i}": frequency, f"d{i}": start, f"t{i}": send_at})
            with connection.cursor() as cursor:
                cursor.execute(_CREATE_DUE.format(values=values), params)
                created = [row[0] for row in cursor.fetchall()]
        # Pending for a while: its task message was lost (settings.DIGEST_REQUEUE_SECONDS).
        requeue_before = now - timedelta(seconds=django_settings.DIGEST_REQUEUE_SECONDS)
        lost = list(DigestDelivery.objects.filter(status=DigestDelivery.Status.PENDING, created_at__lt=requeue_before)
                    .values_list("id", flat=True))
        DigestDelivery.objects.filter(status=DigestDelivery.Status.SENDING, claimed_at__lt=now - SENDING_STALE_AFTER).update(
            status=DigestDelivery.Status.FAILED, error=UNCERTAIN)
        queued = created + lost
        for delivery_id in queued:
            enqueue(SEND_TASK, delivery_id)
    return queued


def _message_id(delivery: DigestDelivery) -> str:
    domain = parseaddr(django_settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or django_settings.PULSE_BASE_DOMAIN
    # Stable per delivery: a retried hand-over is recognisable downstream as the same email.
    return f"<digest.{connection.schema_name}.{delivery.pk}@{domain}>"


def digest_send(*, delivery_id: int) -> bool:
    """Send one delivery's digest, at most once: build the email, claim the row (pending →
    sending, committed on its own), send, mark sent. False when it is no longer pending
    (sent, being sent, or left by a dead worker) or its member unsubscribed meanwhile. A
    server it cannot reach, or one answering 4xx, puts it back to pending and re-raises, for
    the task's retry (failed after MAX_ATTEMPTS); a 5xx fails it; a connection broken
    mid-send fails it as uncertain, never resent."""
    delivery = DigestDelivery.objects.select_related("subscription__user").filter(
        pk=delivery_id, status=DigestDelivery.Status.PENDING).first()
    if delivery is None:
        return False
    subscription, user = delivery.subscription, delivery.subscription.user
    if not (subscription.active and user.is_active and subscription.frequency == delivery.frequency):
        DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.PENDING).update(
            status=DigestDelivery.Status.FAILED, error="Not sent: the member unsubscribed or left before it went out.")
        return False
    kind = FREQUENCY_KINDS[delivery.frequency]
    period = Period(kind, delivery.period_start, period_end(kind, delivery.period_start))
    # Built before the claim: an error while building leaves the row pending (queued again
    # by the next due check), not "sending" as if it might have gone.
    message = digest_message(digest=digest_build(frequency=delivery.frequency, period=period), to_email=user.email,
                             to_name=user.full_name, unsubscribe_token=subscription.token,
                             message_id=_message_id(delivery))
    with transaction.atomic():
        claimed = DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.PENDING).update(
            status=DigestDelivery.Status.SENDING, claimed_at=timezone.now())
    if not claimed:
        return False
    backend = get_connection()
    try:
        backend.open()
    except OSError as error:
        # The mail server is unreachable: nothing was sent, so the row goes back to
        # pending and the task retries with backoff.
        _release(delivery, error)
        raise
    try:
        backend.send_messages([message])
    except REFUSALS as error:
        # The server answered "no": nothing was delivered. A 4xx is worth a retry, a 5xx not.
        if _temporary(error):
            _release(delivery, error)
            raise
        _finish(delivery, DigestDelivery.Status.FAILED, f"Refused by the mail server: {error}"[:1000])
        return False
    except OSError as error:
        # The connection broke while the message was being handed over: the server may
        # have it. Not resent — a missing digest is better than two.
        _finish(delivery, DigestDelivery.Status.FAILED, f"{UNCERTAIN} ({type(error).__name__}: {error})"[:1000])
        return False
    finally:
        backend.close()
    _finish(delivery, DigestDelivery.Status.SENT, "")
    return True


def _temporary(error: smtplib.SMTPException) -> bool:
    codes = ([code for code, _ in error.recipients.values()] if isinstance(error, smtplib.SMTPRecipientsRefused)
             else [getattr(error, "smtp_code", 500)])
    return all(400 <= code < 500 for code in codes)


def _release(delivery: DigestDelivery, error: Exception) -> None:
    """Back to pending for the task's retry (failed after MAX_ATTEMPTS)."""
    attempts = delivery.attempts + 1
    status = DigestDelivery.Status.PENDING if attempts < MAX_ATTEMPTS else DigestDelivery.Status.FAILED
    DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.SENDING).update(
        status=status, attempts=attempts, error=f"{type(error).__name__}: {error}"[:1000])


def _finish(delivery: DigestDelivery, status: str, error: str) -> None:
    DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.SENDING).update(
        status=status, error=error, sent_at=timezone.now() if status == DigestDelivery.Status.SENT else None)


def digest_preview_request(*, user, frequency: str | None = None) -> None:
    """Queue a preview of the digest to ``user`` (the team lead's "Send me a preview now")."""
    enqueue(PREVIEW_TASK, user.pk, frequency or "")


def digest_preview_send(*, user_id: int, frequency: str = "", now: datetime | None = None) -> bool:
    """Email ``user`` the digest of the last complete period of ``frequency`` (default:
    their own subscription's, else weekly), marked as a preview. Not a delivery: a preview
    claims nothing and blocks no scheduled digest."""
    from tenants.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    subscription = DigestSubscription.objects.filter(user=user).first()
    if frequency not in DigestFrequency.values:
        frequency = subscription.frequency if subscription else DigestFrequency.WEEKLY
    period = digest_last_period(frequency, now or timezone.now(), connection.tenant.time_zone)
    token = subscription.token if subscription is not None and subscription.active else None
    digest_message(digest=digest_build(frequency=frequency, period=period), to_email=user.email, to_name=user.full_name,
                   unsubscribe_token=token, preview=True).send()
    return True
