"""The support efficiency page: support KPIs, abandonment by channel, and one row per agent
beside live medians and 90th percentiles of the hours to resolve and to first respond."""
from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from kpis.definitions._sql import in_days, not_test_customer
from kpis.definitions.conversations import RESOLUTION_HOURS
from kpis.models import KpiSettings
from kpis.periods import Period
from kpis.selectors.values import period_values, period_values_many


# Hours to resolve (conversations resolved in the period) and to first response
# (conversations created in the period with a response), for the workspace and per agent.
# Hours to resolve are the mean time to resolution KPI's own expression, so in
# business-hours mode the median and p90 count the same working hours as its mean.
_SUPPORT_HOURS_SQL = f"""
    SELECT GROUPING(agent) = 0, coalesce(agent, ''), count(resolve) AS resolved,
           avg(resolve), percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve),
           count(respond), avg(respond), percentile_cont(0.5) WITHIN GROUP (ORDER BY respond),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY respond)
    FROM (
        SELECT c.agent,
               CASE WHEN c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')}
                    THEN {RESOLUTION_HOURS} END AS resolve,
               CASE WHEN c.first_response_at IS NOT NULL AND {in_days('c.created_at')}
                    THEN EXTRACT(EPOCH FROM (c.first_response_at - c.created_at)) / 3600.0 END AS respond
        FROM ingestion_conversation c
        WHERE ((c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')})
               OR (c.first_response_at IS NOT NULL AND {in_days('c.created_at')}))
          AND {not_test_customer('c')}
    ) hours
    GROUP BY GROUPING SETS ((), (agent))"""


HOURS_FIGURES = ("resolved", "mttr_mean", "mttr_median", "mttr_p90", "responded", "frt_mean", "frt_median", "frt_p90")


def support_hours(*, since: date, until: date, settings=None) -> dict[str | None, dict]:
    """Mean, median and 90th percentile of the hours to resolve and to first respond over the
    local days [since, until), computed live (percentile_cont): None for the workspace, then
    one entry per agent ('' for conversations without one). Hours to resolve are counted as
    the mean time to resolution KPI counts them (business hours only in that mode); hours to
    first respond are wall-clock."""
    params = (settings or KpiSettings.load()).as_params()
    with connection.cursor() as cursor:
        cursor.execute(_SUPPORT_HOURS_SQL, {**params, "since": since, "until": until, "tz": connection.tenant.time_zone})
        return {(agent if by_agent else None): dict(zip(HOURS_FIGURES, (None if f is None else float(f) for f in figures)))
                for by_agent, agent, *figures in cursor.fetchall()}


SUPPORT_KPIS = ("conversation_abandonment_rate", "mean_time_to_resolution", "first_response_time",
                "first_contact_resolution", "sla_attainment", "csat")


def support_efficiency(*, period: Period, settings=None, today: date | None = None) -> dict:
    """The support efficiency page for one period: each support KPI's value (with the
    previous period's), abandonment by channel and by channel kind, and one row per agent
    (conversations, resolved, MTTR, FRT, FCR, SLA, CSAT) from snapshots (live for a
    custom range), beside live medians and 90th percentiles. A constant number of queries."""
    settings = settings or KpiSettings.load()
    whole = period_values_many(keys=SUPPORT_KPIS, period=period, settings=settings, today=today)
    totals = {key: whole.get(key, {}).get("") for key in SUPPORT_KPIS}
    per_agent = period_values_many(keys=SUPPORT_KPIS, period=period, segment="agent", settings=settings, today=today)
    by_agent = {key: per_agent.get(key, {}) for key in SUPPORT_KPIS}
    hours = support_hours(since=period.start, until=period.end, settings=settings)
    held = open_conversations(since=period.start, until=period.end)
    agents = sorted({agent for rows in by_agent.values() for agent in rows} | (set(hours) - {None}) | set(held["agents"]))
    rows = []
    for agent in agents:
        figures = {key: by_agent[key].get(agent) or {} for key in SUPPORT_KPIS}
        rows.append({"agent": agent, "conversations": figures["conversation_abandonment_rate"].get("denominator"),
                     **{key: figures[key].get("value") for key in SUPPORT_KPIS},
                     **hours.get(agent, {**dict.fromkeys(HOURS_FIGURES), "resolved": 0, "responded": 0}),
                     "open_peak": held["agents"].get(agent, {}).get("peak"),
                     "open_mean": held["agents"].get(agent, {}).get("mean")})
    rows.sort(key=lambda row: -(row["conversations"] or 0))
    conversations = (totals["conversation_abandonment_rate"] or {}).get("denominator")
    staffed = [row for row in rows if row["agent"] and row["conversations"]]
    return {
        "business_hours": settings.business_hours_mttr,
        "totals": totals, "hours": hours.get(None, {}), "agents": rows, "conversations": conversations,
        "open_by_day": held["days"],
        "per_agent": conversations / len(staffed) if conversations and staffed else None,
        "by_channel": period_values(key="conversation_abandonment_rate", period=period, segment="channel",
                                    settings=settings, today=today),
        "by_channel_kind": period_values(key="conversation_abandonment_rate", period=period, segment="channel_kind",
                                         settings=settings, today=today),
    }



# Open conversations per agent at hourly samples (kpis.md, "concurrent open conversations
# per agent"): the instants t = start of the period + k hours, up to its end or now, and a
# conversation is open at t when created_at <= t < resolved_at (unresolved: open from then
# on). Abandoned conversations never resolved are left out: the customer left, nobody holds
# them, and they would count as open for ever. Computed as +1 at the first sample at or
# after created_at and -1 at the first at or after resolved_at, summed in order per agent
# (a window function over agents × samples), not by joining every sample to every
# conversation.
_OPEN_SQL = f"""
    WITH bounds AS (
        SELECT (%(since)s::timestamp AT TIME ZONE %(tz)s) AS t0,
               least(%(until)s::timestamp AT TIME ZONE %(tz)s, %(now)s) AS t1
    ), samples AS (
        SELECT k, t0 + k * interval '1 hour' AS t
        FROM bounds, generate_series(0, ceil(EXTRACT(EPOCH FROM (t1 - t0)) / 3600.0)::int - 1) AS k
    ), held AS (
        SELECT c.agent, c.created_at, c.resolved_at
        FROM ingestion_conversation c, bounds b
        WHERE c.created_at < b.t1 AND (c.resolved_at IS NULL OR c.resolved_at > b.t0)
          AND NOT (c.abandoned AND c.resolved_at IS NULL) AND {not_test_customer('c')}
    ), deltas AS (
        SELECT agent, k, sum(d) AS d FROM (
            SELECT h.agent, greatest(0, ceil(EXTRACT(EPOCH FROM (h.created_at - b.t0)) / 3600.0))::int AS k, 1 AS d
            FROM held h, bounds b
            UNION ALL
            SELECT h.agent, ceil(EXTRACT(EPOCH FROM (h.resolved_at - b.t0)) / 3600.0)::int, -1
            FROM held h, bounds b WHERE h.resolved_at < b.t1
        ) e GROUP BY agent, k
    ), counts AS (
        SELECT a.agent, s.t, sum(coalesce(d.d, 0)) OVER (PARTITION BY a.agent ORDER BY s.k) AS n
        FROM (SELECT DISTINCT agent FROM deltas) a CROSS JOIN samples s
        LEFT JOIN deltas d ON d.agent = a.agent AND d.k = s.k
    )
    SELECT GROUPING(day) = 0, agent, day, max(n)::int, avg(n)::float
    FROM (SELECT agent, (t AT TIME ZONE %(tz)s)::date AS day, n FROM counts) per_sample
    GROUP BY GROUPING SETS ((agent), (agent, day))
    ORDER BY agent, day"""


def open_conversations(*, since: date, until: date, now=None) -> dict:
    """Concurrent open conversations per agent ('' for unassigned) over the local days
    [since, until), sampled every hour up to the end or ``now``: ``agents`` maps each agent
    to its peak and mean over the samples, ``days`` to its daily peaks [(day, peak)]. One
    query."""
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_SQL, {"since": since, "until": until, "tz": connection.tenant.time_zone,
                                   "now": now or timezone.now()})
        agents, days = {}, {}
        for by_day, agent, day, peak, mean in cursor.fetchall():
            if by_day:
                days.setdefault(agent, []).append((day, peak))
            else:
                agents[agent] = {"peak": peak, "mean": mean}
    return {"agents": agents, "days": days}
