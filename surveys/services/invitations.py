"""Who is invited: campaigns, invitations and refusals, audiences, the suppression list.

Every invitation is decided under a per-workspace transaction advisory lock, so two
campaigns (or a campaign and the CSAT trigger) created at the same moment cannot both
invite one address inside the throttling window: the second sees the first's rows.
"""
import csv
import io
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from surveys.models import (Campaign, Invitation, InvitationSource, InvitationStatus, Refusal, Suppression, Survey,
                            SurveySettings)
from surveys.selectors.distribution import MAX_AUDIENCE
from tenants.tasking import enqueue

RECIPIENT_FIELDS = ("email", "name", "customer_external_id", "channel", "agent")
# Longest value each recipient field takes (the columns' sizes).
FIELD_LIMITS = {"email": 254, "name": 200, "customer_external_id": 255, "channel": 50, "agent": 255}
MAX_CSV_BYTES = 10 * 1024 * 1024


def workspace_lock_key(name: str) -> str:
    """SQL expression of an advisory lock key for ``name`` in the current workspace: locks
    are database-wide, so the schema is part of the key."""
    return f"hashtextextended('{name}:' || current_schema(), 0)"


def _local_date(moment: datetime) -> str:
    return timezone.localtime(moment, zoneinfo.ZoneInfo(connection.tenant.time_zone)).date().isoformat()


def suppression_reason_text(suppression: Suppression) -> str:
    day = _local_date(suppression.created_at)
    if suppression.reason == Suppression.Reason.UNSUBSCRIBED:
        return f"unsubscribed on {day}"
    if suppression.reason == Suppression.Reason.BOUNCED:
        return f"address refused by the mail server on {day}"
    return f"on the suppression list since {day} (added by a team lead)"


@dataclass
class Screened:
    """Recipients split into those to invite and those refused (with the reason)."""

    accepted: list[dict] = field(default_factory=list)
    refused: list[tuple[dict, str]] = field(default_factory=list)


def _normalised(recipient: dict) -> dict:
    values = {name: str(recipient.get(name) or "").strip() for name in RECIPIENT_FIELDS}
    values["email"] = values["email"].lower()
    values["conversation_external_id"] = str(recipient.get("conversation_external_id") or "")
    values["scheduled_at"] = recipient.get("scheduled_at")
    return values


# The failure reason of an email a dead worker may or may not have handed over (see
# ``sending``). Defined here because throttling reads it: such an invitation may have
# reached the customer, so it counts as surveyed.
UNCERTAIN = "delivery uncertain: the worker stopped while sending; not resent so nobody gets it twice"


def invitations_screen(*, survey: Survey, recipients: list[dict], source: str = InvitationSource.CAMPAIGN,
                       now: datetime | None = None, survey_settings: SurveySettings | None = None) -> Screened:
    """Decide, without writing, who of ``recipients`` would be invited and why the others
    would not (the Send page's preview; ``invitations_create`` decides again under its
    lock). Three queries whatever the number of recipients."""
    now = now or timezone.now()
    survey_settings = survey_settings or SurveySettings.load()
    result = Screened()
    people = [_normalised(r) for r in recipients]
    if not survey.is_open:
        result.refused = [(p, "the survey is closed") for p in people]
        return result
    candidates, seen = [], set()
    for person in people:
        email = person["email"]
        too_long = next((name for name, limit in FIELD_LIMITS.items() if len(person[name]) > limit), None)
        if not email:
            result.refused.append((person, "no email address"))
            continue
        if too_long:
            result.refused.append((person, f"{too_long} is longer than {FIELD_LIMITS[too_long]} characters"))
            continue
        try:
            validate_email(email)
        except ValidationError:
            result.refused.append((person, "not a valid email address"))
            continue
        # Triggered invitations are one per conversation: a customer with two resolved
        # conversations is throttled below (or invited twice when throttling is off).
        if email in seen and source != InvitationSource.TRIGGER:
            result.refused.append((person, "listed twice: invited once"))
            continue
        seen.add(email)
        candidates.append(person)
    if not candidates:
        return result
    emails = [p["email"] for p in candidates]
    suppressed = {s.email: s for s in Suppression.objects.filter(email__in=emails)}
    recent = {}
    if survey_settings.throttle_days:
        since = now - timedelta(days=survey_settings.throttle_days)
        # Nobody is surveyed twice in the window, but an invitation that certainly never
        # reached its recipient (refused by the mail server, called off by a suppression)
        # surveyed nobody: it does not hold the address for the window.
        never_delivered = Q(status=InvitationStatus.FAILED) & ~Q(failure_reason=UNCERTAIN)
        recent = dict(Invitation.objects.filter(email__in=emails, created_at__gte=since).exclude(never_delivered)
                      .values("email").annotate(last=Max("created_at")).values_list("email", "last"))
    window = survey_settings.throttle_days
    for person in candidates:
        email = person["email"]
        if email in suppressed:
            result.refused.append((person, suppression_reason_text(suppressed[email])))
        elif email in recent:
            result.refused.append((person, f"surveyed on {_local_date(recent[email])}, within the {window}-day window"))
        else:
            result.accepted.append(person)
            if window:
                recent[email] = now  # a second conversation of the same customer in this scan
    return result


def invitations_send_later() -> None:
    """Queue a sender run (``surveys.services.sending``) for the current workspace once the
    transaction commits."""
    enqueue("surveys.tasks.invitations_send_due_task")


def invitations_create(*, survey: Survey, recipients: list[dict], source: str, campaign: Campaign | None = None,
                       scheduled_at: datetime | None = None,
                       reminder_days: int | None = None) -> tuple[list[Invitation], list[Refusal]]:
    """Invite ``recipients`` (dicts of email, name, customer_external_id, channel, agent;
    the trigger adds conversation_external_id and a scheduled_at of its own) to ``survey``:
    the refused get a ``Refusal`` row with the reason, the others a scheduled invitation,
    emailed by the sender once due (queued when this transaction commits)."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_xact_lock({workspace_lock_key('surveys-invite')})")
        survey_settings = SurveySettings.load()
        screened = invitations_screen(survey=survey, recipients=recipients, source=source, now=now,
                                      survey_settings=survey_settings)
        expiry = timedelta(days=survey_settings.link_expiry_days)
        invitations = []
        for person in screened.accepted:
            when = person["scheduled_at"] or scheduled_at or now
            invitations.append(Invitation(
                survey=survey, campaign=campaign, source=source, email=person["email"], name=person["name"],
                customer_external_id=person["customer_external_id"], channel=person["channel"], agent=person["agent"],
                conversation_external_id=person["conversation_external_id"], scheduled_at=when, expires_at=when + expiry,
                reminder_at=when + timedelta(days=reminder_days) if reminder_days else None))
        invitations = Invitation.objects.bulk_create(invitations, batch_size=2000)
        refusals = Refusal.objects.bulk_create([
            Refusal(survey=survey, campaign=campaign, source=source, email=person["email"][:320], name=person["name"][:200],
                    customer_external_id=person["customer_external_id"][:255],
                    conversation_external_id=person["conversation_external_id"], reason=reason[:300])
            for person, reason in screened.refused], batch_size=2000)
        if invitations:
            invitations_send_later()
    return invitations, refusals


def campaign_create(*, survey: Survey, recipients: list[dict], name: str = "", audience: str = "",
                    scheduled_at: datetime | None = None, reminder_days: int | None = None,
                    created_by=None) -> tuple[Campaign, list[Invitation], list[Refusal]]:
    """A campaign (one send of ``survey``) and its invitations and refusals."""
    now = timezone.now()
    scheduled_at = max(scheduled_at, now) if scheduled_at else now
    with transaction.atomic():
        campaign = Campaign.objects.create(
            survey=survey, name=(name.strip() or f"{survey.name} · {_local_date(scheduled_at)}")[:200],
            audience=audience[:300], scheduled_at=scheduled_at, reminder_days=reminder_days, created_by=created_by)
        invitations, refusals = invitations_create(survey=survey, recipients=recipients, source=InvitationSource.CAMPAIGN,
                                                   campaign=campaign, scheduled_at=scheduled_at, reminder_days=reminder_days)
    return campaign, invitations, refusals


# ---------------------------------------------------------------------------- audiences


def audience_pasted(text: str) -> list[dict]:
    """One recipient per line: ``email``, ``Name <email>`` or ``email,name``. Lines that
    are not addresses are kept as given and refused with the reason."""
    recipients = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if "<" in line and line.endswith(">"):
            name, email = parseaddr(line)
            recipients.append({"email": email or line, "name": name.strip().strip('"')})
        elif "," in line:
            email, _, name = line.partition(",")
            recipients.append({"email": email.strip(), "name": name.strip().strip('"')})
        else:
            recipients.append({"email": line, "name": ""})
        if len(recipients) > MAX_AUDIENCE:
            raise ValidationError(f"Paste at most {MAX_AUDIENCE:,} addresses at a time.")
    return recipients


def audience_csv(upload) -> list[dict]:
    """Recipients from a CSV file with a header row: columns email (required), name,
    customer_external_id, channel, agent, matched case-insensitively; other columns are
    ignored. Raises ValidationError with a message saying what to fix."""
    if upload.size > MAX_CSV_BYTES:
        raise ValidationError(f"The file is {upload.size:,} bytes, over the {MAX_CSV_BYTES // 1024 // 1024} MB limit.")
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise ValidationError("The file is empty: it needs a header row (email, name, …) and one row per recipient.")
    names = [cell.strip().lower().replace(" ", "_") for cell in header]
    if "email" not in names:
        raise ValidationError(f"The file has no “email” column (its columns: {', '.join(c.strip() for c in header)}). "
                              f"Expected columns: {', '.join(RECIPIENT_FIELDS)}.")
    duplicated = sorted({n for n in names if n in RECIPIENT_FIELDS and names.count(n) > 1})
    if duplicated:
        raise ValidationError(f"The column {duplicated[0]} appears twice in the header.")
    positions = {name: names.index(name) for name in RECIPIENT_FIELDS if name in names}
    recipients = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            raise ValidationError(f"Line {number} has {len(row)} columns, the header has {len(names)}.")
        recipients.append({name: row[i] if i < len(row) else "" for name, i in positions.items()})
        if len(recipients) > MAX_AUDIENCE:
            raise ValidationError(f"The file has more than {MAX_AUDIENCE:,} recipients; split it into smaller files.")
    if not recipients:
        raise ValidationError("The file has a header but no recipients.")
    return recipients


# ------------------------------------------------------------------------- suppression

def suppression_add(*, email: str, reason: str, invitation: Invitation | None = None) -> Suppression:
    """Put ``email`` on the suppression list (kept forever: only a team lead removes it).
    Its scheduled invitations and the reminders still to come are called off at once."""
    email = email.strip().lower()
    with transaction.atomic():
        suppression, _ = Suppression.objects.get_or_create(email=email, defaults={"reason": reason, "invitation": invitation})
        text = suppression_reason_text(suppression)
        status = (InvitationStatus.UNSUBSCRIBED if suppression.reason == Suppression.Reason.UNSUBSCRIBED
                  else InvitationStatus.FAILED)
        # A row in "sending" is left to its sender: it is already with the mail server.
        Invitation.objects.filter(email=email, status=InvitationStatus.SCHEDULED).update(
            status=status, failure_reason=text)
        pending_reminder = Q(status=InvitationStatus.SENT, reminder_status="", reminder_at__isnull=False)
        clicked = Q(pk=invitation.pk, status=InvitationStatus.SENT) if invitation is not None else Q(pk__in=[])
        Invitation.objects.filter(Q(email=email) & (pending_reminder | clicked)).update(
            status=InvitationStatus.UNSUBSCRIBED, failure_reason=text)
        Invitation.objects.filter(email=email, reminder_status="", reminder_at__isnull=False).exclude(
            status__in=[InvitationStatus.SENDING, InvitationStatus.SENT]).update(reminder_status="skipped")
    return suppression


def suppression_remove(*, suppression: Suppression) -> None:
    """Take an address off the suppression list (a team lead's decision): it may be
    surveyed again by later sends; invitations already called off stay so."""
    with transaction.atomic():
        Suppression.objects.filter(pk=suppression.pk).delete()


def unsubscribe(*, token: str) -> Invitation | None:
    """The recipient of invitation ``token`` unsubscribes; None for an unknown token."""
    invitation = Invitation.objects.filter(token=token).first()
    if invitation is None:
        return None
    suppression_add(email=invitation.email, reason=Suppression.Reason.UNSUBSCRIBED, invitation=invitation)
    invitation.refresh_from_db()
    return invitation
