"""What the staffing calculator reads from the workspace's own conversations: per channel,
arrivals per hour of the week, the average handle time, the callers' patience and the
agents seen answering — three queries, aggregated in PostgreSQL (issue #13).

- Arrivals: conversations created in the ``weeks`` whole local weeks before ``until`` (a
  Monday), counted per (ISO weekday, local hour) and divided by ``weeks``: the mean arrivals
  of each hour of the week. Hours of the week are 0 = Monday 00:00–01:00 … 167 = Sunday 23:00.
  Test customers' conversations are left out, as in every KPI.
- Handle time: resolved − first response of the answered conversations handled in one go
  (one contact, never reopened: the time an agent is on it), the mean of those at or below the channel's 99th percentile (a value seen:
  percentile_disc, so a small sample loses nothing), so a conversation
  left open over a weekend does not double the figure.
- Patience: the maximum-likelihood mean of an exponential patience from censored waits: an
  abandoned conversation's wait (created → resolved, the moment it was closed as abandoned)
  is a patience seen in full; an answered one's (created → first response) only says the
  patience was longer. Waits over an hour (LIVE_WAIT_SECONDS) are left out: a message left
  after hours and answered the next morning is no queue. Mean patience = Σ all those waits / number of abandoned ones. An
  abandoned conversation with no closing time (many exports leave it empty) is counted
  with the answered conversations' mean wait as its own. None with no abandoned
  conversation (nobody hangs up: Erlang C).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection

from kpis.definitions._sql import in_days, not_test_customer
from kpis.staffing.backlog import HOURS_PER_WEEK
from kpis.staffing.forecast import arrivals_forecast
from kpis.staffing.models import StaffingChannel
from kpis.staffing.planning import ChannelPlan, ChannelRules, channel_plan, default_rules, rules_with

DEFAULT_WEEKS = 8
# A wait longer than this is no queue: an offline message (a chat left after hours) answered
# when the desk opened. Such waits say nothing of how long a caller holds on.
LIVE_WAIT_SECONDS = 3600

_ARRIVALS_SQL = f"""
    SELECT c.channel,
           ((extract(isodow FROM c.created_at AT TIME ZONE %(tz)s)::int - 1) * 24
            + extract(hour FROM c.created_at AT TIME ZONE %(tz)s)::int) AS slot,
           count(*)
    FROM ingestion_conversation c
    WHERE {in_days('c.created_at')} AND {not_test_customer('c')}
    GROUP BY 1, 2"""

_TIMES_SQL = f"""
    WITH c AS (
        SELECT c.channel, c.abandoned, c.abandoned AND c.resolved_at IS NULL AS untimed,
               CASE WHEN NOT c.abandoned AND c.contacts = 1 AND NOT c.reopened
                         AND c.first_response_at IS NOT NULL AND c.resolved_at >= c.first_response_at
                    THEN extract(epoch FROM c.resolved_at - c.first_response_at) END AS handle,
               CASE WHEN c.abandoned AND c.resolved_at >= c.created_at
                         AND c.resolved_at - c.created_at <= %(live_wait)s * interval '1 second'
                         THEN extract(epoch FROM c.resolved_at - c.created_at)
                    WHEN NOT c.abandoned AND c.first_response_at >= c.created_at
                         AND c.first_response_at - c.created_at <= %(live_wait)s * interval '1 second'
                         THEN extract(epoch FROM c.first_response_at - c.created_at) END AS wait
        FROM ingestion_conversation c
        WHERE {in_days('c.created_at')} AND {not_test_customer('c')}
    ), ceiling AS (
        SELECT channel, percentile_disc(0.99) WITHIN GROUP (ORDER BY handle) AS p99 FROM c GROUP BY channel
    )
    SELECT c.channel, count(*) AS conversations,
           avg(c.handle) FILTER (WHERE c.handle <= ceiling.p99) AS aht,
           count(c.handle) AS handled,
           count(*) FILTER (WHERE c.abandoned AND c.wait IS NOT NULL) AS abandoned,
           sum(c.wait) AS exposure,
           count(*) FILTER (WHERE c.untimed) AS abandoned_untimed,
           avg(c.wait) FILTER (WHERE NOT c.abandoned) AS answered_wait
    FROM c JOIN ceiling USING (channel)
    GROUP BY c.channel"""


# Agents seen answering: distinct agents with a first response in each local hour of each
# week, averaged over the weeks (hours nobody answered in count as 0).
_OBSERVED_SQL = f"""
    SELECT c.channel,
           ((extract(isodow FROM c.first_response_at AT TIME ZONE %(tz)s)::int - 1) * 24
            + extract(hour FROM c.first_response_at AT TIME ZONE %(tz)s)::int) AS slot,
           count(DISTINCT (date_trunc('week', c.first_response_at AT TIME ZONE %(tz)s), c.agent))
    FROM ingestion_conversation c
    WHERE {in_days('c.first_response_at')} AND c.agent <> '' AND {not_test_customer('c')}
    GROUP BY 1, 2"""


_HOURLY_SQL = f"""
    SELECT c.channel, date_trunc('hour', c.created_at AT TIME ZONE %(tz)s) AS hour, count(*)
    FROM ingestion_conversation c
    WHERE {in_days('c.created_at')} AND {not_test_customer('c')}
    GROUP BY 1, 2"""

# Weeks the page and the API forecast: the week under way and the next three.
FORECAST_WEEKS = 4


@dataclass
class ChannelHistory:
    channel: str
    conversations: int = 0
    arrivals: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)  # mean per hour of the week
    aht: float | None = None  # seconds
    handled: int = 0  # conversations the handle time rests on
    abandoned: int = 0  # abandoned conversations the patience rests on
    patience: float | None = None  # seconds
    observed: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)  # agents seen answering


def history_window(*, today: date, weeks: int = DEFAULT_WEEKS) -> tuple[date, date]:
    """The ``weeks`` whole local weeks (Monday to Sunday) before the week of ``today``."""
    until = today - timedelta(days=today.weekday())
    return until - timedelta(weeks=weeks), until


def channel_histories(*, since: date, until: date) -> dict[str, ChannelHistory]:
    """Per channel, the staffing inputs over the local days [since, until) (whole weeks)."""
    weeks = max((until - since).days / 7, 1)
    params = {"since": since, "until": until, "tz": connection.tenant.time_zone, "live_wait": LIVE_WAIT_SECONDS}
    histories: dict[str, ChannelHistory] = {}
    with connection.cursor() as cursor:
        cursor.execute(_ARRIVALS_SQL, params)
        for channel, slot, count in cursor.fetchall():
            histories.setdefault(channel, ChannelHistory(channel)).arrivals[slot] = count / weeks
        cursor.execute(_TIMES_SQL, params)
        for channel, conversations, aht, handled, timed, exposure, untimed, answered_wait in cursor.fetchall():
            history = histories.setdefault(channel, ChannelHistory(channel))
            history.conversations, history.handled = conversations, handled
            history.aht = float(aht) if aht is not None else None
            exposure = float(exposure or 0)
            if untimed and answered_wait is not None:
                # Abandoned without a closing time: they are taken to have waited as long as
                # the answered ones did on average (they hung up, so at least some time).
                exposure += untimed * float(answered_wait)
                timed += untimed
            history.abandoned = timed
            history.patience = exposure / timed if timed and exposure else None
        cursor.execute(_OBSERVED_SQL, params)
        for channel, slot, agents in cursor.fetchall():
            histories.setdefault(channel, ChannelHistory(channel)).observed[slot] = agents / weeks
    return dict(sorted(histories.items()))


def channel_rules() -> dict[str, ChannelRules]:
    """The saved rules per channel (one query); channels without a row are not in it."""
    return {row.channel: row.as_rules() for row in StaffingChannel.objects.all()}


def rules_for(channel: str, saved: dict[str, ChannelRules] | None = None, voice_channels=None) -> ChannelRules:
    """The rules in force for ``channel``: its saved ones, else the defaults of its kind."""
    from kpis.models import KpiSettings

    saved = channel_rules() if saved is None else saved
    if channel in saved:
        return saved[channel]
    return default_rules(channel, KpiSettings.load().voice_channels if voice_channels is None else voice_channels)


def forecast_weeks(today: date) -> list[date]:
    """The Mondays of the weeks a plan can be forecast for."""
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(weeks=n) for n in range(FORECAST_WEEKS)]


def arrivals_forecasts(*, since: date, until: date, week: date) -> dict[str, list[float]]:
    """Per channel, the arrivals forecast for each hour of the week starting ``week`` from
    the hourly counts of [since, until) and the workspace's holidays: two queries."""
    from tenants.workspace.selectors import holiday_list

    counts: dict[str, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(_HOURLY_SQL, {"since": since, "until": until, "tz": connection.tenant.time_zone})
        for channel, hour, count in cursor.fetchall():
            counts.setdefault(channel, {})[hour] = count
    holidays = frozenset(holiday_list().values_list("date", flat=True))
    return {channel: arrivals_forecast(counts=hours, since=since, until=until, holidays=holidays, weeks=[week])[week]
            for channel, hours in counts.items()}


@dataclass
class StaffingPlans:
    since: date
    until: date
    plans: dict[str, tuple[ChannelHistory, ChannelPlan]]  # per channel: its history and plan
    saved: set[str]  # channels with rules of their own
    week: date | None = None  # the forecast week planned for (None: the mean week of the history)


def staffing_plans(*, today: date, weeks: int = DEFAULT_WEEKS, week: date | None = None) -> StaffingPlans:
    """Per channel seen in the ``weeks`` whole weeks before ``today``'s: its history and a
    plan under the rules in force, for the mean week of the history or, with ``week`` (a
    Monday), for that week's forecast arrivals. Five queries (seven with a forecast),
    whatever the number of channels."""
    from kpis.models import KpiSettings

    since, until = history_window(today=today, weeks=weeks)
    histories = channel_histories(since=since, until=until)
    forecasts = arrivals_forecasts(since=since, until=until, week=week) if week else {}
    saved = channel_rules()
    voice = KpiSettings.load().voice_channels
    plans = {}
    for channel, history in histories.items():
        rules = rules_for(channel, saved, voice)
        arrivals = forecasts.get(channel, history.arrivals) if week else history.arrivals
        plans[channel] = (history, channel_plan(rules=rules, arrivals=arrivals, measured_handle_time=history.aht,
                                                measured_patience=history.patience))
    return StaffingPlans(since=since, until=until, plans=plans, saved=set(saved), week=week)


def what_if_plan(history: ChannelHistory, plan: ChannelPlan, changes: dict) -> ChannelPlan:
    """``plan`` again with the what-if rule ``changes`` (the page's and the API's), on the
    same arrivals (the history's mean week or the forecast) and measured times."""
    return channel_plan(rules=rules_with(plan.rules, **changes), arrivals=plan.arrivals,
                        measured_handle_time=history.aht, measured_patience=history.patience)
