"""Agents for asynchronous channels (email, social, forms): a backlog capacity model over
the SLA window, pure functions (issue #13).

A queue formula does not fit a channel where a customer waits hours, not seconds: what
matters is whether the work that arrives can be cleared within the window (say 90% answered
within 24 h). The model is a fluid first-in-first-out backlog at hourly resolution over a
repeating week:

- the plan's need in hour h is the work that arrived in the W hours up to h, spread over
  those W hours at the capped occupancy: Σ arrivals·AHT / (W·3600·occupancy) agents (a
  window of 1 h is "answer everything within the hour it came"); whole agents are placed so
  that their running total is the running need rounded up (a trickle of emails costs the
  agent-hours it takes, not one agent in every hour of the window);
- the plan is checked by running the week three times (the backlog of Sunday night is
  Monday's work) and counting, of the contacts arriving in the middle week (the first fills
  the backlog a real Monday starts with, the last answers what that week left), the share of contacts answered within W
  hours of their arrival hour; while that share is below the target, the planned workload is
  raised 5% at a time.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

HOURS_PER_WEEK = 168
_WEEKS_RUN = 3
_MAX_RAISES = 60


@dataclass(frozen=True)
class BacklogPlan:
    on_floor: list[int]  # agents per hour of the week (0 = Monday 00:00–01:00)
    answered_in_time: float  # share of the week's contacts answered within the window, 0..1
    reached: bool


def backlog_check(*, arrivals: list[float], on_floor: list[int], aht: float, within_hours: int,
                  max_occupancy: float = 1.0) -> float:
    """The share of a week's contacts answered within ``within_hours`` of the hour they
    arrived in, with ``on_floor`` agents per hour working the oldest first."""
    backlog: deque[list] = deque()  # [arrival hour, contacts left]
    in_time = total = 0.0
    for hour in range(HOURS_PER_WEEK * _WEEKS_RUN):
        slot = hour % HOURS_PER_WEEK
        measured = HOURS_PER_WEEK <= hour < 2 * HOURS_PER_WEEK
        if arrivals[slot] > 0:
            backlog.append([hour, arrivals[slot]])
            total += arrivals[slot] if measured else 0
        capacity = on_floor[slot] * 3600 * max_occupancy / aht
        while capacity > 1e-12 and backlog:
            arrived, left = backlog[0]
            done = min(left, capacity)
            capacity -= done
            # Answered by the end of this hour: in time when that is within the window.
            if HOURS_PER_WEEK <= arrived < 2 * HOURS_PER_WEEK and hour + 1 - arrived <= within_hours:
                in_time += done
            if done >= left - 1e-12:
                backlog.popleft()
            else:
                backlog[0][1] = left - done
    return in_time / total if total else 1.0


def backlog_plan(*, arrivals: list[float], aht: float, within_hours: int, target: float,
                 max_occupancy: float = 1.0) -> BacklogPlan:
    """Agents per hour of the week for ``arrivals`` (contacts per hour of the week, 168
    values) to answer ``target`` (0..1) of them within ``within_hours``."""
    if len(arrivals) != HOURS_PER_WEEK:
        raise ValueError(f"arrivals must have {HOURS_PER_WEEK} hourly values, not {len(arrivals)}")
    if within_hours < 1 or not 0 < target <= 1 or not 0 < max_occupancy <= 1 or aht <= 0:
        raise ValueError("within_hours ≥ 1, target and max_occupancy in (0, 1], aht > 0")
    if not any(arrivals):
        return BacklogPlan(on_floor=[0] * HOURS_PER_WEEK, answered_in_time=1.0, reached=True)
    window = min(within_hours, HOURS_PER_WEEK)
    share = 0.0
    for raise_step in range(_MAX_RAISES + 1):
        factor = 1 + 0.05 * raise_step
        plan, needed, staffed = [], 0.0, 0
        for hour in range(HOURS_PER_WEEK):
            work = sum(arrivals[(hour - k) % HOURS_PER_WEEK] for k in range(window)) * aht * factor
            # Whole agents whose running total keeps up with the running fractional need:
            # one email a week costs one agent-hour, not a 24th of an agent every hour
            # rounded up to a whole one.
            needed += work / (window * 3600 * max_occupancy)
            agents = max(math.ceil(needed - 1e-9) - staffed, 0)
            staffed += agents
            plan.append(agents)
        share = backlog_check(arrivals=arrivals, on_floor=plan, aht=aht, within_hours=within_hours,
                              max_occupancy=max_occupancy)
        if share >= target - 1e-9:
            return BacklogPlan(on_floor=plan, answered_in_time=share, reached=True)
    return BacklogPlan(on_floor=plan, answered_in_time=share, reached=False)
