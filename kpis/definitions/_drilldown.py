"""SQL of the drill-down lists: the records behind a KPI's value over the local days
[%(since)s, %(until)s), optionally for one segment value (%(segment_value)s).

A KPI with a drill-down has ``drilldown_sql(segment)`` and ``drilldown_band`` (the heading
of its band column). The SQL returns ``sort_at`` (a local timestamp: newest first), ``band``
(the mark the list can be filtered by: promoter, over SLA, missed…), then the columns shown
and exported, aliased by their headings, the record's id first. Test customers' rows are
left out, as from the KPI itself."""
from kpis.definitions._sql import CONVERSATION_SEGMENTS, in_days, not_test_customer

HOURS = "EXTRACT(EPOCH FROM ({until} - {since})) / 3600.0"


def local_time(column: str) -> str:
    """A timestamp as the workspace's wall-clock time (a timestamp without time zone)."""
    return f"({column} AT TIME ZONE %(tz)s)"


def hours(since: str, until: str) -> str:
    """Hours from ``since`` to ``until``, to two decimals (shown; tests use the exact ones)."""
    return f"round(({HOURS.format(since=since, until=until)})::numeric, 2)"


def segment_filter(segments: dict, segment: str | None) -> str:
    """``AND <segment expression> = %(segment_value)s`` for a chosen segment, else ''."""
    return "" if segment is None else f" AND {segments[segment]} = %(segment_value)s"


def conversations(segment, *, band: str, where: str, sort: str = "c.created_at", columns: tuple[str, ...] = (),
                  source: str = "ingestion_conversation c") -> str:
    """Conversations ``c`` (of ``source``) matching ``where``, with their id, creation time,
    ``columns``, channel, agent, team, customer and subject."""
    more = "".join(f"{column}, " for column in columns)
    return f"""
        SELECT {local_time(sort)} AS sort_at, {band} AS band, c.external_id AS "Conversation",
               {local_time('c.created_at')} AS "Created", {more}c.channel AS "Channel", c.agent AS "Agent",
               c.team AS "Team", c.customer_external_id AS "Customer", c.subject AS "Subject"
        FROM {source}
        WHERE {where} AND {not_test_customer('c')}{segment_filter(CONVERSATION_SEGMENTS, segment)}"""


def resolved_conversations(segment) -> str:
    """Conversations resolved in the period (MTTR, SLA attainment), with their hours and
    whether they met the SLA target."""
    exact = HOURS.format(since="c.created_at", until="c.resolved_at")
    return conversations(
        segment, band=f"CASE WHEN {exact} <= %(sla_target_hours)s THEN 'within SLA' ELSE 'over SLA' END",
        where=f"c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')}", sort="c.resolved_at",
        columns=(f"{local_time('c.resolved_at')} AS \"Resolved\"", f'{hours("c.created_at", "c.resolved_at")} AS "Hours to resolve"'))
