"""Emailing due invitations and reminders, never twice.

One sender per workspace at a time (a session advisory lock, released by PostgreSQL if the
worker dies). Each invitation is marked ``sending`` and committed before it is handed to
the SMTP server, and ``sent`` right after (committed with the next one's claim, see
_ADVANCE_FIRST). A row the next sender finds in ``sending`` belonged to a worker that died
between the two: the server may or may not have taken the message, so it is marked failed
and not sent again — a missing survey is better than a duplicate. Reminders follow the
same rule through ``reminder_status``.

A run that finds the lock taken returns at once: the running sender reads due rows until
none are left, so it sends those too (a row created in the instant after its last read
waits for the next minute's beat).
"""
import logging
import smtplib
import socket
from datetime import datetime, timedelta

from django.core.mail import get_connection
from django.db import connection
from django.db.models import F
from django.utils import timezone

from ingestion.touched import touched_days_record
from surveys.mail import InvitationEmail, invitation_email_prepare
from surveys.models import Invitation, InvitationStatus, Suppression, SurveySettings
from surveys.selectors.distribution import invitations_work_due
from surveys.services.invitations import UNCERTAIN, invitations_send_later, suppression_reason_text, workspace_lock_key
from surveys.services.kpi_days import SURVEY_INVITATIONS

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=5)
# Rows read per query; one SMTP connection serves every batch of a run.
BATCH = 500
SEND_LIMIT = 5000

# Errors of the connection rather than of one recipient: the server went away, timed
# out, or refused the session. The invitation goes back to the queue and the task is
# retried with backoff. (SMTPRecipientsRefused and SMTPDataError are caught before these:
# they are about one message.)
CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                     smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                     smtplib.SMTPException, ConnectionError, socket.timeout, OSError)


def _due_first(now: datetime):
    return Invitation.objects.filter(status=InvitationStatus.SCHEDULED, scheduled_at__lte=now, survey__closed_at__isnull=True)


def _due_reminders(now: datetime):
    return Invitation.objects.filter(reminder_status="", reminder_at__lte=now, status=InvitationStatus.SENT,
                                     expires_at__gt=now, survey__closed_at__isnull=True)


def invitations_send_due(*, limit: int = SEND_LIMIT) -> int:
    """Email the due invitations, then the due reminders, of the current workspace over
    one SMTP connection; returns how many emails were handed to the server. Returns 0 at
    once when another sender holds the workspace's lock (it sends these too). Raises the
    connection error when the server fails, after putting the current invitation back,
    so the task is retried with backoff. Must not run inside a transaction: each mark is
    committed on its own."""
    if not invitations_work_due():
        return 0
    key = workspace_lock_key("surveys-sender")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({key})")
        if not cursor.fetchone()[0]:
            return 0
    started = timezone.now()
    try:
        _uncertain_fail()
        sender = _Sender()
        try:
            sent = sender.run(first=True, limit=limit)
            sent += sender.run(first=False, limit=limit - sent)
        finally:
            sender.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock({key})")
    if sent:
        # Delivered invitations are the response rate's denominator, by the day they were sent.
        touched_days_record(dataset=SURVEY_INVITATIONS, moments=[started, timezone.now()])
    if sent >= limit:
        invitations_send_later()  # more to do: a fresh task, so no task runs for hours
    return sent


def _uncertain_fail() -> None:
    """Rows left in ``sending`` by a dead sender (only called under the sender's lock, so
    no live sender owns them)."""
    stuck = Invitation.objects.filter(status=InvitationStatus.SENDING).update(
        status=InvitationStatus.FAILED, failure_reason=UNCERTAIN)
    stuck_reminders = Invitation.objects.filter(reminder_status="sending").update(
        reminder_status="failed", failure_reason=f"reminder {UNCERTAIN}")
    if stuck or stuck_reminders:
        log.warning("%s invitations and %s reminders were interrupted mid-send in %s; marked failed, not resent",
                    stuck, stuck_reminders, connection.schema_name)


# Each email costs one statement (one commit): it marks the previous email sent and
# claims this one, so one invitation at most is ever in "sending". The previous one's
# "sent" is thus committed with the next claim, microseconds after its 250 reply, or by
# _flush at the end of the run (and before anything else is written or raised).
_ADVANCE_FIRST = """
    WITH done AS (UPDATE {table} SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END,
                         sent_at = %(sent_at)s, expires_at = %(expires_at)s
                  -- answered (or unsubscribed) in the microseconds since SMTP took it: keep that status
                  WHERE id = %(done)s AND sent_at IS NULL AND status IN ('sending', 'responded', 'unsubscribed'))
    UPDATE {table} SET status = 'sending' WHERE id = %(claim)s AND status = 'scheduled' RETURNING id"""
_ADVANCE_REMINDER = """
    WITH done AS (UPDATE {table} SET reminder_status = 'sent', reminded_at = %(sent_at)s
                  WHERE id = %(done)s AND reminder_status = 'sending')
    UPDATE {table} SET reminder_status = 'sending'
    WHERE id = %(claim)s AND status = 'sent' AND reminder_status = '' RETURNING id"""


class _Sender:
    """One run: the SMTP connection (opened at the first message), the rendered email of
    each survey, and the email handed over whose "sent" is still to be written."""

    def __init__(self):
        self.smtp = None
        self.emails: dict[tuple[int, bool], InvitationEmail] = {}
        self.settings = SurveySettings.load()
        self.expiry = timedelta(days=self.settings.link_expiry_days)
        self.done: dict | None = None  # {"done": id, "sent_at": …, "expires_at": …}
        self.cursor = connection.cursor()
        table = connection.ops.quote_name(Invitation._meta.db_table)
        self.sql = {True: _ADVANCE_FIRST.format(table=table), False: _ADVANCE_REMINDER.format(table=table)}

    def close(self):
        self.cursor.close()
        if self.smtp is not None:
            self.smtp.close()

    def _email(self, invitation: Invitation, reminder: bool) -> InvitationEmail:
        key = (invitation.survey_id, reminder)
        if key not in self.emails:
            self.emails[key] = invitation_email_prepare(survey=invitation.survey, reminder=reminder,
                                                        survey_settings=self.settings)
        return self.emails[key]

    def run(self, *, first: bool, limit: int) -> int:
        sent = 0
        try:
            while sent < limit:
                now = timezone.now()
                due = _due_first(now) if first else _due_reminders(now)
                batch = list(due.select_related("survey").order_by("scheduled_at" if first else "reminder_at", "pk")
                             [:min(BATCH, limit - sent)])
                if not batch:
                    break
                suppressed = {s.email: s for s in Suppression.objects.filter(email__in={i.email for i in batch})}
                for invitation in batch:
                    if invitation.email in suppressed:
                        _suppressed(invitation, suppressed[invitation.email], first=first)
                        continue
                    sent += self._send_one(invitation, first=first)
                self._flush(first)  # before the next batch is read
        finally:
            self._flush(first)
        return sent

    def _advance(self, claim: int | None, first: bool) -> bool:
        """Mark the pending email sent and claim ``claim``, in one committed statement
        (autocommit: no transaction is open here). False: ``claim`` changed since it
        was read (unsubscribed, answered) and is not sent."""
        params = self.done or {"done": None, "sent_at": None, "expires_at": None}
        self.cursor.execute(self.sql[first], {**params, "claim": claim})
        self.done = None
        return self.cursor.fetchone() is not None

    def _flush(self, first: bool) -> None:
        if self.done is not None:
            self._advance(None, first)

    def _send_one(self, invitation: Invitation, *, first: bool) -> int:
        now = timezone.now()
        expires_at = now + self.expiry if first else invitation.expires_at
        message = self._email(invitation, reminder=not first).message(invitation, expires_at=expires_at)
        if self.smtp is None:
            # Opened before any invitation is claimed: a server that cannot be reached
            # is retried without counting against anyone's invitation.
            self.smtp = get_connection()
            self.smtp.open()
        if not self._advance(invitation.pk, first):
            return 0
        try:
            self.smtp.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            if code < 500:  # temporary (greylisting, mailbox busy): again at the next run
                self._back_to_queue(invitation, smtplib.SMTPResponseException(code, text), first=first, reconnect=False)
                return 0
            self._refused(invitation, code, text, first=first)
            return 0
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:  # the server will never take this message
                self._failed(invitation, f"refused by the mail server: {_smtp_reason(exc.smtp_code, exc.smtp_error)}",
                             first=first)
                return 0
            self._back_to_queue(invitation, exc, first=first)
            raise
        except CONNECTION_ERRORS as exc:
            self._back_to_queue(invitation, exc, first=first)
            raise
        self.done = {"done": invitation.pk, "sent_at": now, "expires_at": expires_at}
        return 1

    def _refused(self, invitation: Invitation, code: int, text, *, first: bool) -> None:
        self._failed(invitation, f"refused by the mail server: {_smtp_reason(code, text)}", first=first)
        # A permanent refusal (no such mailbox): no survey goes there again.
        Suppression.objects.get_or_create(email=invitation.email, defaults={
            "reason": Suppression.Reason.BOUNCED, "invitation": invitation})

    def _failed(self, invitation: Invitation, reason: str, *, first: bool) -> None:
        rows = Invitation.objects.filter(pk=invitation.pk)
        if first:
            rows.update(status=InvitationStatus.FAILED, failure_reason=reason[:500])
        else:
            rows.update(reminder_status="failed", failure_reason=f"reminder not delivered: {reason}"[:500])

    def _back_to_queue(self, invitation: Invitation, exc: Exception, *, first: bool, reconnect: bool = True) -> None:
        """The server did not take the message (the connection failed, or it answered
        "try later"): back to the queue for the retry, or failed for good after
        MAX_ATTEMPTS."""
        if isinstance(exc, smtplib.SMTPResponseException):
            reason = f"the mail server said to try later: {_smtp_reason(exc.smtp_code, exc.smtp_error)}"[:400]
        else:
            reason = f"the mail server could not be reached: {type(exc).__name__}: {exc}"[:400]
        rows = Invitation.objects.filter(pk=invitation.pk)
        if invitation.attempts + 1 >= MAX_ATTEMPTS:
            self._failed(invitation, f"gave up after {MAX_ATTEMPTS} attempts; {reason}", first=first)
            rows.update(attempts=F("attempts") + 1)
        else:
            # Backing off 5, 10, 20, 40 minutes: greylisting servers want a later retry,
            # and a failing server is not hammered by every run of the sender.
            later = timezone.now() + RETRY_DELAY * 2 ** invitation.attempts
            if first:
                rows.update(status=InvitationStatus.SCHEDULED, attempts=F("attempts") + 1, failure_reason=reason,
                            scheduled_at=later)
            else:
                rows.update(reminder_status="", attempts=F("attempts") + 1, failure_reason=f"reminder: {reason}",
                            reminder_at=later)
        if reconnect and self.smtp is not None:
            self.smtp.close()
            self.smtp = None


def _smtp_reason(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _suppressed(invitation: Invitation, suppression: Suppression, *, first: bool) -> None:
    """An address suppressed after it was invited (the suppression arrived between the
    read and now): called off with the reason."""
    reason = suppression_reason_text(suppression)
    status = InvitationStatus.UNSUBSCRIBED if suppression.reason == Suppression.Reason.UNSUBSCRIBED else (
        InvitationStatus.FAILED if first else InvitationStatus.UNSUBSCRIBED)
    current = InvitationStatus.SCHEDULED if first else InvitationStatus.SENT
    Invitation.objects.filter(pk=invitation.pk, status=current).update(status=status, failure_reason=reason)


def invitations_expire(*, now: datetime | None = None) -> int:
    """Invitations whose link expired unanswered (sent, or never sent because the survey
    was closed meanwhile) become ``expired``; returns how many."""
    now = now or timezone.now()
    expired = Invitation.objects.filter(status__in=[InvitationStatus.SCHEDULED, InvitationStatus.SENT],
                                        expires_at__lte=now).update(status=InvitationStatus.EXPIRED)
    # Housekeeping: a reminder that can no longer be sent (answered, expired, failed,
    # unsubscribed) leaves the partial index of pending reminders, which keeps the
    # sender's every-minute check small however many invitations were ever sent.
    Invitation.objects.filter(reminder_status="", reminder_at__isnull=False).exclude(
        status__in=[InvitationStatus.SCHEDULED, InvitationStatus.SENDING, InvitationStatus.SENT]).update(
        reminder_status="skipped")
    return expired

