"""The alerts page's reads: the rules and the alerts, newest first, firing ones on top."""
from django.db.models import F

from kpis.models import Alert, AlertRule

ALERTS_SHOWN = 200


def alert_rules() -> list[AlertRule]:
    return list(AlertRule.objects.select_related("created_by").order_by("kpi", "pk"))


def alerts_recent(*, limit: int = ALERTS_SHOWN) -> list[Alert]:
    """The latest alerts (firing first), with their rule and who acknowledged them: one query."""
    return list(Alert.objects.select_related("rule", "acknowledged_by")
                .order_by(F("cleared_at").desc(nulls_first=True), "-fired_at")[:limit])

