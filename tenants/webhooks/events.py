"""The events other apps emit, each built from the row it is about: one call at each place
something happens (kpis.services.alerts, surveys.services.answering,
ingestion.services.import_run), so those services stay as they were but for that line.
Every function runs inside its caller's transaction; ``webhook_event_emit`` sends nothing
until it commits."""
from django.db import connection
from django.urls import reverse

from tenants.webhooks.models import EventType
from tenants.webhooks.services import webhook_event_emit


def _link(name: str, *args) -> str:
    return f"{connection.tenant.url}{reverse(name, args=args)}"


def webhook_alerts_emit(*, fired: list[int], cleared: list[int]) -> None:
    """``alert.fired`` for each alert id in ``fired``, ``alert.cleared`` for ``cleared``
    (what ``alerts_evaluate`` returns: each firing and each clearing once)."""
    if not (fired or cleared):
        return
    from kpis.models import Alert
    from kpis.registry import KPIS

    alerts = Alert.objects.select_related("rule").filter(pk__in=[*fired, *cleared]).order_by("pk")
    for alert in alerts:
        rule = alert.rule
        kpi = KPIS.get(rule.kpi)
        data = {"alert_id": alert.pk, "rule_id": rule.pk, "rule_kind": rule.kind,
                "rule_direction": rule.direction, "kpi": rule.kpi,
                "kpi_label": kpi.label if kpi else rule.kpi, "unit": kpi.unit if kpi else "",
                "period_kind": rule.period_kind, "period_start": alert.period_start,
                "segment_kind": rule.segment_kind, "segment": alert.segment, "value": alert.value,
                "expected_low": alert.expected_low, "expected_high": alert.expected_high, "message": alert.message,
                "times_fired": alert.times, "fired_at": alert.fired_at, "cleared_at": alert.cleared_at,
                "link": _link("kpis:alerts")}
        event = EventType.ALERT_FIRED if alert.pk in fired else EventType.ALERT_CLEARED
        webhook_event_emit(event_type=event.value, data=data)


def webhook_response_created(*, response) -> None:
    """``survey.response.created`` for a new response (``surveys.models.Response``, as
    ``response_save`` returns it). A response held for review (a link scanner's, by its
    look) is no customer's answer: nothing is sent for it."""
    from surveys.models import SCORE_BANDS, QuestionKind, Response

    if response.review not in Response.COUNTED_REVIEWS:
        return
    survey, invitation, score, kind = response.survey, response.invitation, response.score, response.score_kind
    category = satisfied = None
    if score is not None and kind == QuestionKind.NPS:
        category = next(band for band, (low, high) in SCORE_BANDS[QuestionKind.NPS].items() if low <= score <= high)
    if score is not None and kind == QuestionKind.CSAT:
        satisfied = score >= SCORE_BANDS[QuestionKind.CSAT]["positive"][0]
    data = {"response_id": response.id, "survey": {"id": survey.pk, "name": survey.name, "kind": survey.kind},
            "score": score, "score_kind": kind or None, "nps_category": category, "csat_satisfied": satisfied,
            "comment": response.comment, "channel": response.channel, "agent": response.agent,
            "customer": {"external_id": invitation.customer_external_id or None if invitation else None,
                         "email": invitation.email or None if invitation else None},
            "invitation_id": invitation.pk if invitation else None, "answered_at": response.responded_at,
            "link": _link("surveys:response", survey.pk, response.id)}
    webhook_event_emit(event_type=EventType.SURVEY_RESPONSE_CREATED.value, data=data)


def webhook_import_finished(*, job) -> None:
    """``import.finished`` for an import job that has just ended, done or failed."""
    from ingestion.models import ImportJob

    data = {"import_id": job.pk, "dataset": job.dataset, "file_name": job.file_name, "source": job.source,
            "status": "succeeded" if job.status == ImportJob.Status.DONE else "failed", "mode": job.mode,
            "rows": {"total": job.total_rows, "inserted": job.created_rows, "updated": job.updated_rows,
                     "unchanged": job.unchanged_rows, "rejected": job.rejected_rows, "skipped": job.skipped_rows},
            "error": job.error, "started_at": job.started_at, "finished_at": job.finished_at,
            "link": _link("ingestion:import", job.pk)}
    webhook_event_emit(event_type=EventType.IMPORT_FINISHED.value, data=data)
