"""The alerts page's reads: the rules and the alerts, newest first, firing ones on top."""
from django.db.models import F

from kpis.models import Alert, AlertRule

ALERTS_SHOWN = 200


def alert_rules_query():
    return AlertRule.objects.select_related("created_by").order_by("kpi", "pk")


def alert_rules() -> list[AlertRule]:
    return list(alert_rules_query())


def alerts_query(*, state: str | None = None, rule: int | None = None, kpi: str | None = None):
    """The alerts (firing first, then the newest), with their rule and who acknowledged
    them in the same query; only ``state`` (firing, cleared), one rule's or one KPI's."""
    alerts = Alert.objects.select_related("rule", "acknowledged_by")
    if state is not None:
        alerts = alerts.filter(cleared_at__isnull=state == "firing")
    if rule is not None:
        alerts = alerts.filter(rule_id=rule)
    if kpi is not None:
        alerts = alerts.filter(rule__kpi=kpi)
    return alerts.order_by(F("cleared_at").desc(nulls_first=True), "-fired_at", "-pk")


def alerts_recent(*, limit: int = ALERTS_SHOWN) -> list[Alert]:
    """The latest alerts (firing first): one query."""
    return list(alerts_query()[:limit])

