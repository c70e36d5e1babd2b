"""A week of staffing per channel: the channel's rules and its history in, agents per hour
of the week out (pure: no database). Queue channels (phone, chat) go through Erlang A — or
Erlang C when nobody abandons or the rules say so — hour by hour; asynchronous ones through
the backlog model over their SLA window."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from kpis.staffing.backlog import HOURS_PER_WEEK, backlog_plan
from kpis.staffing.erlang import agents_needed

QUEUE, BACKLOG = "queue", "backlog"
ERLANG_A, ERLANG_C = "erlang_a", "erlang_c"
# Channels answered live by default (the rest wait hours: email, social, forms…).
LIVE_CHANNELS = ("phone", "chat")


@dataclass(frozen=True)
class ChannelRules:
    channel: str
    mode: str = BACKLOG
    method: str = ERLANG_A  # queue mode: Erlang A with the measured patience, or Erlang C
    target: float = 0.9  # share to answer within the threshold, 0..1
    within_seconds: int = 60  # queue mode threshold
    within_hours: int = 24  # backlog mode threshold
    handle_time: float | None = None  # seconds; None: measured
    patience: float | None = None  # seconds; None: measured
    concurrency: int = 1
    max_occupancy: float = 0.85
    shrinkage: float = 0.3


def default_rules(channel: str, voice_channels=()) -> ChannelRules:
    """80% answered within 60 s for voice and chat, 90% within 24 h for the rest."""
    if channel in LIVE_CHANNELS or channel in voice_channels:
        return ChannelRules(channel=channel, mode=QUEUE, target=0.8, within_seconds=60)
    return ChannelRules(channel=channel, mode=BACKLOG, target=0.9, within_hours=24)


@dataclass
class ChannelPlan:
    rules: ChannelRules
    arrivals: list[float]  # per hour of the week
    handle_time: float | None  # seconds, used
    handle_source: str  # set, measured or assumed
    patience: float | None  # seconds, used (queue mode, Erlang A)
    method: str  # what was used: erlang_a, erlang_c or backlog
    scheduled: list[int] = field(default_factory=lambda: [0] * HOURS_PER_WEEK)
    on_floor: list[int] = field(default_factory=lambda: [0] * HOURS_PER_WEEK)
    service_level: list[float | None] = field(default_factory=lambda: [None] * HOURS_PER_WEEK)
    answered_in_time: float | None = None  # backlog mode: share of the week answered in time
    reached: bool = True
    problem: str = ""  # why there is no plan

    @property
    def agent_hours(self) -> int:
        return sum(self.scheduled)

    @property
    def peak(self) -> int:
        return max(self.scheduled)


# The handle time of an asynchronous channel cannot be read from its conversations: an email
# resolved a day after its first answer took minutes of work, not a day. Until the team lead
# sets theirs, a typical one is assumed (and the page says so).
ASSUMED_HANDLE_TIME = {"email": 480.0}
ASSUMED_HANDLE_TIME_OTHER = 300.0


def handle_time_of(rules: ChannelRules, measured: float | None) -> tuple[float | None, str]:
    """The handle time a plan uses and where it comes from: set, measured or assumed."""
    if rules.handle_time:
        return float(rules.handle_time), "set"
    if rules.mode == BACKLOG:
        return ASSUMED_HANDLE_TIME.get(rules.channel, ASSUMED_HANDLE_TIME_OTHER), "assumed"
    return measured, "measured"


def channel_plan(*, rules: ChannelRules, arrivals: list[float], measured_handle_time: float | None,
                 measured_patience: float | None) -> ChannelPlan:
    handle_time, handle_source = handle_time_of(rules, measured_handle_time)
    patience = rules.patience or measured_patience
    method = BACKLOG if rules.mode == BACKLOG else (ERLANG_A if rules.method == ERLANG_A and patience else ERLANG_C)
    plan = ChannelPlan(rules=rules, arrivals=list(arrivals), handle_time=handle_time, handle_source=handle_source,
                       patience=patience if method == ERLANG_A else None, method=method)
    if not any(arrivals):
        plan.problem = "No conversations in the weeks read: nothing to staff."
        return plan
    if not handle_time:
        plan.problem = "No handle time: no conversation answered and resolved in one go to measure it from; set one."
        return plan
    if method == BACKLOG:
        backlog = backlog_plan(arrivals=arrivals, aht=handle_time, within_hours=rules.within_hours,
                               target=rules.target, max_occupancy=rules.max_occupancy)
        plan.on_floor = [math.ceil(agents / rules.concurrency) for agents in backlog.on_floor]
        plan.answered_in_time, plan.reached = backlog.answered_in_time, backlog.reached
    else:
        # Many hours share their arrival rate (nights at 0, repeated weekdays): each distinct
        # rate is solved once.
        solved = {}
        for hour, per_hour in enumerate(arrivals):
            if per_hour not in solved:
                solved[per_hour] = agents_needed(
                    rate=per_hour / 3600, aht=handle_time, target=rules.target, within=rules.within_seconds,
                    patience=patience if method == ERLANG_A else None, max_occupancy=rules.max_occupancy,
                    concurrency=rules.concurrency)
            staffing = solved[per_hour]
            plan.on_floor[hour] = staffing.on_floor
            plan.service_level[hour] = staffing.queue.service_level if staffing.queue else None
            plan.reached = plan.reached and staffing.reached
    plan.scheduled = [math.ceil(agents / (1 - rules.shrinkage) - 1e-9) for agents in plan.on_floor]
    return plan


def rules_with(rules: ChannelRules, **changes) -> ChannelRules:
    """``rules`` with the what-if ``changes`` that are not None."""
    return replace(rules, **{name: value for name, value in changes.items() if value is not None})
