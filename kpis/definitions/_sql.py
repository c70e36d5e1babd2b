"""SQL pieces shared by the KPI definitions. Parameters: %(tz)s (the workspace's time
zone), %(since)s / %(until)s (local dates, half-open) and the KPI settings."""


def local_day(column: str) -> str:
    """The local date of a timestamp in the workspace's time zone."""
    return f"({column} AT TIME ZONE %(tz)s)::date"


def in_days(column: str) -> str:
    """``column`` falls in the local days [since, until)."""
    return (f"{column} >= (%(since)s::timestamp AT TIME ZONE %(tz)s) "
            f"AND {column} < (%(until)s::timestamp AT TIME ZONE %(tz)s)")


def not_test_customer(alias: str) -> str:
    """The row is not tied to a test customer (kpis.md: excluded from every KPI)."""
    return (f"NOT EXISTS (SELECT 1 FROM ingestion_customer k "
            f"WHERE k.external_id = {alias}.customer_external_id AND k.is_test)")


CONVERSATION_SEGMENTS = {
    None: "''",
    "channel": "c.channel",
    "agent": "c.agent",
    "team": "c.team",
    "channel_kind": "CASE WHEN c.channel = ANY(%(voice_channels)s) THEN 'voice' ELSE 'text' END",
}
