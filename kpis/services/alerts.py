"""Alert rules and their alerts: writes. Rules are judged after every recompute
(``alerts_evaluate``, queued by the recompute tasks), idempotently: one ``Alert`` per rule,
period and segment value, cleared when the value is back and fired again if it breaks again."""
from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from kpis.alerting import ANOMALY_MIN_HISTORY, rule_judge
from kpis.models import Alert, AlertRule, KpiSettings, KpiSnapshot
from kpis.periods import local_today, period_of
from kpis.registry import KPIS
from kpis.selectors.values import kpi_status, kpi_uncertainty, snapshot_figures
from tenants.mail import MailCategory, mail_categorise
from tenants.tasking import enqueue
from tenants.webhooks.events import webhook_alerts_emit

# One evaluation at a time per workspace (the key is per schema: advisory locks are per
# database), so two recomputes finishing together cannot fire one alert twice.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('pulse-alerts:' || current_schema()))"


@transaction.atomic
def alert_rule_create(*, kpi: str, kind: str, period_kind: str = "day", segment_kind: str = "", low: float | None = None,
                      high: float | None = None, k: float = 3.0, history: int = 28, min_history: int = ANOMALY_MIN_HISTORY,
                      direction: str = AlertRule.Direction.BOTH, created_by=None) -> AlertRule:
    """A new rule; the form (kpis.forms.AlertRuleForm, also behind the API) has checked it."""
    return AlertRule.objects.create(kpi=kpi, kind=kind, period_kind=period_kind, segment_kind=segment_kind, low=low,
                                    high=high, k=k, history=history, min_history=min_history, direction=direction,
                                    created_by=created_by)


@transaction.atomic
def alert_rule_mute(*, rule: AlertRule, muted: bool) -> AlertRule:
    AlertRule.objects.filter(pk=rule.pk).update(muted=muted)
    rule.muted = muted
    return rule


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    rule.delete()


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user) -> None:
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(acknowledged_at=timezone.now(),
                                                                           acknowledged_by=user)


def _message(rule: AlertRule, value: float, judgement, segment: str) -> str:
    kpi = KPIS[rule.kpi]
    where = f" ({rule.segment_kind} {segment or '(none)'})" if rule.segment_kind else ""
    if rule.kind == AlertRule.Kind.OFF_TARGET:
        return f"{kpi.label}{where} is off target: {value:g} {kpi.unit}."
    low, high = judgement.expected_low, judgement.expected_high
    bounds = " and ".join(part for part in (f"≥ {low:.4g}" if low is not None else "",
                                            f"≤ {high:.4g}" if high is not None else "") if part)
    if rule.kind == AlertRule.Kind.ANOMALY:
        side = {"above": "above", "below": "below"}.get(rule.direction, "outside")
        return f"{kpi.label}{where} is {value:.4g} {kpi.unit}, {side} its usual range ({bounds})."
    return f"{kpi.label}{where} is {value:.4g} {kpi.unit}, outside its bound ({bounds})."


@transaction.atomic
def alerts_evaluate(*, today: date | None = None) -> dict[str, list[int]]:
    """Judge every rule that is not muted on the latest finished period of its kind, per
    segment value: ``fired`` (new, or broken again after clearing) and ``cleared`` alert
    ids. Values from fewer answers than the workspace's minimum sample never fire."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK)
    # The workspace's today, not the process's: a worker runs in UTC.
    today = today or local_today(connection.tenant.time_zone)
    settings = KpiSettings.load()
    fired, cleared, now = [], [], timezone.now()
    for rule in AlertRule.objects.filter(muted=False, kpi__in=list(KPIS)):
        kpi = KPIS[rule.kpi]
        finished = period_of(rule.period_kind, period_of(rule.period_kind, today).start - timedelta(days=1))
        first = finished
        for _ in range(rule.history):
            first = period_of(rule.period_kind, first.start - timedelta(days=1))
        snapshots = KpiSnapshot.objects.filter(kpi=rule.kpi, period_kind=rule.period_kind, segment_kind=rule.segment_kind,
                                               period_start__gte=first.start, period_start__lte=finished.start)
        by_segment: dict[str, dict[date, KpiSnapshot]] = {}
        for snapshot in snapshots:
            by_segment.setdefault(snapshot.segment, {})[snapshot.period_start] = snapshot
        # A count's quiet period is a 0, from its first period with data on (before that
        # there is no history, not a run of zeros): the social spike rule counts days so.
        counted = kpi.unit == "count" and rule.kind == AlertRule.Kind.ANOMALY
        first_data = _first_data(rule) if counted and by_segment else {}
        window = _period_starts(rule.period_kind, first.start, finished.start)
        existing = {a.segment: a for a in Alert.objects.filter(rule=rule, period_start=finished.start)}
        for segment, periods in by_segment.items():
            latest = periods.get(finished.start)
            if latest is None or latest.value is None:
                continue
            figures = snapshot_figures(kpi, latest)
            if kpi_uncertainty(kpi=kpi, current=figures, previous=None, min_sample_size=settings.min_sample_size)["small_sample"]:
                continue
            by_start = {start: s.value for start, s in periods.items() if s.value is not None}
            if counted:
                since = first_data.get(segment, finished.start)
                history = [by_start.get(start, 0.0) for start in window if start >= since]
            else:
                history = [by_start[start] for start in window if start in by_start]
            judgement = rule_judge(kind=rule.kind, value=latest.value, low=rule.low, high=rule.high, history=history,
                                   k=rule.k, status=kpi_status(kpi=kpi, value=latest.value, targets=settings.targets)[1],
                                   min_history=rule.min_history, direction=rule.direction)
            alert = existing.get(segment)
            if judgement.broken:
                values = {"value": latest.value, "expected_low": judgement.expected_low,
                          "expected_high": judgement.expected_high, "message": _message(rule, latest.value, judgement, segment)}
                if alert is None:
                    alert = Alert.objects.create(rule=rule, period_start=finished.start, segment=segment, fired_at=now, **values)
                    fired.append(alert.pk)
                elif alert.cleared_at is not None:
                    Alert.objects.filter(pk=alert.pk).update(cleared_at=None, fired_at=now, times=alert.times + 1,
                                                             acknowledged_at=None, acknowledged_by=None, **values)
                    fired.append(alert.pk)
                else:
                    Alert.objects.filter(pk=alert.pk).update(**values)
            elif alert is not None and alert.cleared_at is None:
                Alert.objects.filter(pk=alert.pk).update(cleared_at=now)
                cleared.append(alert.pk)
    for alert_id in fired:
        enqueue(NOTIFY_TASK, alert_id)
    webhook_alerts_emit(fired=fired, cleared=cleared)
    return {"fired": fired, "cleared": cleared}


def _period_starts(kind: str, first: date, finished: date) -> list[date]:
    """The starts of the periods of ``kind`` from ``first`` up to, not including, ``finished``."""
    starts, start = [], first
    while start < finished:
        starts.append(start)
        start = period_of(kind, start).end
    return starts


def _first_data(rule: AlertRule) -> dict[str, date]:
    """Per segment value, the first period of the rule's kind with a value, ever: one query."""
    return dict(KpiSnapshot.objects.filter(kpi=rule.kpi, period_kind=rule.period_kind, segment_kind=rule.segment_kind,
                                           value__isnull=False)
                .values("segment").annotate(first=Min("period_start")).values_list("segment", "first"))


NOTIFY_TASK = "kpis.tasks.alert_notify_task"


def alert_notify(*, alert_id: int) -> int:
    """Email a fired alert to the workspace's active team leads, once per firing: the
    firing is claimed in its own transaction first, so a task run twice emails once (a
    worker dying between the claim and the send sends nothing rather than twice; a mail
    server error releases the claim for the retry). Returns the emails sent."""
    from tenants.accounts.models import Role, User

    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("rule").filter(pk=alert_id).first()
        if alert is None or alert.cleared_at is not None or alert.notified_times >= alert.times:
            return 0
        Alert.objects.filter(pk=alert.pk).update(notified_times=alert.times)
    leads = list(User.objects.filter(role=Role.TEAM_LEAD, is_active=True).values_list("email", flat=True))
    workspace = connection.tenant
    link = f"{workspace.url}{reverse('kpis:alerts')}"
    again = f" (fired {alert.times} times)" if alert.times > 1 else ""
    text = (f"{alert.message}\n\nPeriod: the {alert.rule.period_kind} of {alert.period_start:%b %-d, %Y}{again}.\n"
            f"See and acknowledge it: {link}\n\nYou get this email as a team lead of {workspace.name} on Pulse.\n")
    try:
        for email in leads:
            message = EmailMessage(subject=f"[{workspace.name}] {alert.message}", body=text,
                                   from_email=settings.DEFAULT_FROM_EMAIL, to=[email])
            mail_categorise(message, MailCategory.ALERT)
            message.send()
    except OSError:
        # The mail server refused or was unreachable: release the claim so the task's retry
        # sends it (a lead already reached may then get it twice, never nobody).
        Alert.objects.filter(pk=alert.pk, notified_times=alert.times).update(notified_times=alert.notified_times)
        raise
    return len(leads)
