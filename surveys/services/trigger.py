"""Post-conversation CSAT: a resolved conversation invites its customer to the chosen
survey, ``csat_trigger_delay_minutes`` after resolution.

Runs after every write of conversations or customers (import or records API, through
``ingestion.signals.records_written``) and every 5 minutes as a safety net. Each
conversation is decided once: it gets an invitation or a refusal with the reason
(suppressed, throttled), both keyed by ``conversation_external_id`` (unique), so later
scans skip it. Conversations whose customer is unknown, a test account or has no email
are not decided yet: a later import may bring the customer.
"""
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from surveys.models import InvitationSource, SurveySettings
from surveys.selectors.distribution import csat_trigger_candidates
from surveys.services.invitations import invitations_create, workspace_lock_key
from tenants.tasking import enqueue


def csat_trigger_scan() -> int:
    """Invite the customers of newly resolved conversations (see the module); returns how
    many invitations were created. Does nothing while the trigger is off."""
    survey_settings = SurveySettings.objects.select_related("csat_trigger_survey").filter(pk=1).first()
    if survey_settings is None or survey_settings.csat_trigger_survey is None:
        return 0
    survey = survey_settings.csat_trigger_survey
    now = timezone.now()
    since = survey_settings.csat_trigger_since or survey_settings.updated_at
    delay = timedelta(minutes=survey_settings.csat_trigger_delay_minutes)
    with transaction.atomic():
        # The same lock invitations_create takes, held from the selection on: two scans at
        # once cannot pick the same conversation.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_xact_lock({workspace_lock_key('surveys-invite')})")
        candidates = csat_trigger_candidates(since=since, now=now)
        if not candidates:
            return 0
        recipients = [{"email": row["customer_email"], "name": row["customer_name"],
                       "customer_external_id": row["customer_external_id"], "channel": row["channel"],
                       "agent": row["agent"], "conversation_external_id": row["external_id"],
                       "scheduled_at": row["resolved_at"] + delay} for row in candidates]
        invitations, _ = invitations_create(survey=survey, recipients=recipients, source=InvitationSource.TRIGGER)
    return len(invitations)


def csat_trigger_later() -> None:
    """Queue a scan for the current workspace after commit, when the trigger is on."""
    if SurveySettings.objects.filter(pk=1, csat_trigger_survey__isnull=False).exists():
        enqueue("surveys.tasks.csat_trigger_scan_task")
