"""Telling the KPI engine which local days survey activity changed, the way imports do
(``ingestion.TouchedDay``): answers touch ``survey_responses`` (NPS, CSAT), deliveries and
answers touch ``survey_invitations`` (response rate) on the day the invitation was sent.
The engine's 5-minute task recomputes the periods holding those days."""
from collections.abc import Iterable
from datetime import datetime

from django.db import connection

SURVEY_RESPONSES = "survey_responses"
SURVEY_INVITATIONS = "survey_invitations"


def kpi_days_touch(*, dataset: str, moments: Iterable[datetime | None]) -> None:
    """Record the workspace-local days of ``moments`` (None skipped) as touched for
    ``dataset``: one statement, whatever the number of moments."""
    stamps = sorted({moment for moment in moments if moment is not None})
    if not stamps:
        return
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO ingestion_touchedday (dataset, day, recorded_at)
            SELECT DISTINCT %s, (moment AT TIME ZONE %s)::date, now() FROM unnest(%s::timestamptz[]) AS moment
            ON CONFLICT (dataset, day) DO UPDATE SET recorded_at = excluded.recorded_at""",
                       [dataset, connection.tenant.time_zone, stamps])
