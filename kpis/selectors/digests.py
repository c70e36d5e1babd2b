"""What a digest email contains, and the digest pages' reads. The KPI figures come from
``kpis.selectors.values.dashboard_cards`` (the dashboard's own cards: like-for-like change,
z-test significance, target status, the 12-period trend), so a digest never says anything
the dashboard does not. A digest is built in a constant number of queries whatever the
number of KPIs chosen: the settings, one for every KPI's snapshots, two for the alerts,
one for the follow-ups."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import connection

from kpis.digests import FREQUENCY_KINDS
from kpis.models import Alert, DigestSettings, DigestSubscription, KpiSettings
from kpis.periods import Period
from kpis.registry import KPIS, contract_order
from kpis.selectors.values import dashboard_cards

ALERTS_SHOWN = 10
FOLLOWUPS_SHOWN = 5

# Open follow-ups (a detractor or unhappy CSAT answer nobody closed yet), read in SQL: the
# KPI app imports nothing of surveys (docs/architecture.md), as its survey KPIs do. Held
# scanner answers open none, and are left out here too.
_FOLLOWUPS_SQL = """
SELECT r.score, r.score_kind, r.comment, r.responded_at, s.name, coalesce(nullif(u.full_name, ''), u.email),
       count(*) OVER ()
FROM surveys_response r
JOIN surveys_survey s ON s.id = r.survey_id
LEFT JOIN accounts_user u ON u.id = r.followup_assignee_id
WHERE r.followup = 'open' AND r.review IN ('', 'accepted')
ORDER BY r.responded_at, r.id
LIMIT %s
"""


@dataclass
class Digest:
    frequency: str
    period: Period
    title: str  # "Week 49, 2026"
    comparison: str  # "Week 49, 2026 vs Week 48, 2026"
    cards: list[dict] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    alerts_total: int = 0
    followups: list[dict] = field(default_factory=list)
    followups_total: int = 0


def digest_kpi_keys(*, settings: DigestSettings | None = None) -> list[str]:
    """The chosen KPI keys in their order, leaving out any no longer registered."""
    settings = settings or DigestSettings.load()
    return [key for key in settings.kpis if key in KPIS]


def _local_bounds(period: Period, time_zone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(time_zone)
    return datetime.combine(period.start, time(0), tzinfo=zone), datetime.combine(period.end, time(0), tzinfo=zone)


def digest_build(*, frequency: str, period: Period, keys: list[str] | None = None,
                 kpi_settings: KpiSettings | None = None) -> Digest:
    """The digest of the complete ``period`` (of the frequency's kind): a card per chosen
    KPI, the alerts fired during the period and the open follow-ups."""
    assert period.kind == FREQUENCY_KINDS[frequency]
    keys = digest_kpi_keys() if keys is None else [key for key in keys if key in KPIS]
    # The period has ended: "today" is the day after it, so every comparison is of whole
    # periods (Week 49 vs Week 48), never period-to-date.
    cards = {card["kpi"].key: card for card in dashboard_cards(period=period.kind, anchor=period.start,
                                                                settings=kpi_settings, today=period.end)}
    digest = Digest(frequency=frequency, period=period, title=period.label,
                    comparison=f"{period.label} vs {period.previous().label}")
    for key in keys:
        card = cards[key]
        kpi = card["kpi"]
        trend = [(start, value) for start, value in card["spark"]]
        better = None
        if card["change"]:
            better = (card["change"] > 0) == (card["direction"] == "higher")
        digest.cards.append({
            "key": key, "label": kpi.label, "unit": kpi.unit, "direction": card["direction"],
            "supported": card["supported"], "value": card["value"], "previous": card["previous"],
            "change": card["change"], "better": better, "change_significant": card["change_significant"],
            "small_sample": card["small_sample"], "n": card["n"], "target": card["target"], "status": card["status"],
            "trend": trend,
        })
    since, until = _local_bounds(period, connection.tenant.time_zone)
    fired = Alert.objects.filter(fired_at__gte=since, fired_at__lt=until)
    digest.alerts_total = fired.count()
    if digest.alerts_total:
        digest.alerts = list(fired.select_related("rule").order_by("-fired_at", "-pk")[:ALERTS_SHOWN])
    with connection.cursor() as cursor:
        cursor.execute(_FOLLOWUPS_SQL, [FOLLOWUPS_SHOWN])
        rows = cursor.fetchall()
    digest.followups_total = rows[0][6] if rows else 0
    digest.followups = [{"score": score, "score_kind": kind, "comment": comment, "responded_at": at, "survey": survey,
                         "assignee": assignee} for score, kind, comment, at, survey, assignee, _ in rows]
    return digest


def digest_subscription_of(user) -> DigestSubscription:
    """The member's subscription, or an unsaved one (off) when they never opted in: the
    page's GET never writes."""
    return DigestSubscription.objects.filter(user=user).first() or DigestSubscription(user=user)


def digest_subscribers() -> list[DigestSubscription]:
    """Who receives the digest, for the team lead's page: one query."""
    return list(DigestSubscription.objects.filter(active=True, user__is_active=True).select_related("user")
                .order_by("user__full_name", "user__email"))


def digest_subscription_by_token(token: str) -> DigestSubscription | None:
    if not token or len(token) > 64:
        return None
    return DigestSubscription.objects.select_related("user").filter(token=token).first()


def digest_kpi_choices() -> list[tuple[str, str]]:
    """Every registered KPI, in the dashboard's order, for the team lead's choice."""
    return [(kpi.key, kpi.label) for kpi in sorted(KPIS.values(), key=lambda kpi: contract_order(kpi.key))]
