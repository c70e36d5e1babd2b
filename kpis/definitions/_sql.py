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


# Customer and revenue KPIs are split by the customer's plan (kpis.md: "revenue and customer
# KPIs by customer plan/segment"); event KPIs by the plan of the event's user. ``k`` is the
# customer row (LEFT JOINed where the row may have none: its plan is then '').
PLAN_SEGMENTS = {None: "''", "plan": "coalesce(k.plan, '')"}
# The plan as a segment column of ``rows_sql`` (grouped byte-wise: cheaper, never shown sorted).
PLAN_COLUMN = "coalesce(k.plan, '') COLLATE \"C\" AS plan"


def customer_of(alias: str, column: str) -> str:
    """LEFT JOIN the customer ``alias.column`` refers to, as ``k``; pair with
    ``not_test_k``."""
    return f"LEFT JOIN ingestion_customer k ON k.external_id = {alias}.{column}"


# The LEFT JOINed customer ``k`` is not a test customer (rows without one are kept).
NOT_TEST_K = "k.is_test IS NOT TRUE"


def local_midnight(day: str) -> str:
    """The instant a local date starts in the workspace's time zone."""
    return f"(({day})::timestamp AT TIME ZONE %(tz)s)"


# Today's local date in the workspace's time zone.
TODAY = "(now() AT TIME ZONE %(tz)s)::date"


def day_number(column: str, first: str, until: str) -> str:
    """The local day of timestamp ``column`` as a number of days after the local date
    ``first`` (SQL), for timestamps from ``first`` to before ``until``: a binary search among
    the local midnights (computed once), much cheaper per row than converting the time zone."""
    return (f"(width_bucket({column}, ARRAY(SELECT {local_midnight('d::date')} FROM generate_series("
            f"{first}, {until}, interval '1 day') AS d)) - 1)")


def day_in_range(column: str) -> str:
    """``local_day(column)`` for rows filtered by ``in_days(column)``, found by binary search
    (``day_number``): for scans of many rows."""
    return f"(%(since)s::date + {day_number(column, '%(since)s::date', '%(until)s::date')})"
