"""The backlog model of asynchronous channels, on hand-made weeks."""
import pytest

from kpis.staffing.backlog import backlog_check, backlog_plan

MONDAY_9 = 9  # hour of the week: Monday 09:00–10:00


def _week(**hours):
    arrivals = [0.0] * 168
    for hour, contacts in hours.items():
        arrivals[int(hour[1:])] = contacts
    return arrivals


def test_a_burst_is_spread_over_the_window():
    # 36 emails at 10 minutes each are 6 agent-hours. Within 4 h: 1.5 agents in each of the
    # hours 9–12, placed whole so that their running total is the running need rounded up
    # (⌈1.5⌉, ⌈3⌉, ⌈4.5⌉, ⌈6⌉ = 2, 3, 5, 6): 2, 1, 2, 1. They answer 12, 6, 12 and 6: all 36
    # by 13:00, within the 4 h.
    plan = backlog_plan(arrivals=_week(h9=36), aht=600, within_hours=4, target=0.9)
    assert plan.on_floor[8:14] == [0, 2, 1, 2, 1, 0]
    assert (plan.answered_in_time, plan.reached) == (1.0, True)
    # Within the hour: the 6 agent-hours in hour 9 itself.
    assert backlog_plan(arrivals=_week(h9=36), aht=600, within_hours=1, target=1.0).on_floor[8:11] == [0, 6, 0]


def test_the_check_counts_what_is_answered_late():
    # One agent answers 6 an hour: of 36 arriving at 9:00, 6 are answered in each of the
    # hours 9..14; within 4 h (by 13:00) 24 of 36.
    on_floor = [0] * 168
    for hour in range(9, 15):
        on_floor[hour] = 1
    assert backlog_check(arrivals=_week(h9=36), on_floor=on_floor, aht=600, within_hours=4) == pytest.approx(24 / 36)


def test_an_occupancy_cap_and_a_stricter_target_raise_the_plan():
    # At 75% occupancy one agent answers 4.5 an hour: 36 in 4 h needs 8 agent-hours, 2 per hour.
    plan = backlog_plan(arrivals=_week(h9=36), aht=600, within_hours=4, target=1.0, max_occupancy=0.75)
    assert plan.on_floor[9:13] == [2, 2, 2, 2] and plan.answered_in_time == 1.0
    # Sunday-night work wraps to Monday: the window runs across the week's end.
    wrapped = backlog_plan(arrivals=_week(h167=12), aht=600, within_hours=2, target=1.0)
    assert (wrapped.on_floor[167], wrapped.on_floor[0], wrapped.answered_in_time) == (1, 1, 1.0)


def test_a_trickle_costs_the_agent_hours_it_takes():
    # One 10-minute email a week, within 24 h at 85% occupancy: one agent-hour, in the hour it
    # arrives (not a 24th of an agent rounded up to one in each of 24 hours).
    plan = backlog_plan(arrivals=_week(h59=1), aht=600, within_hours=24, target=0.9, max_occupancy=0.85)
    assert ([hour for hour, agents in enumerate(plan.on_floor) if agents], sum(plan.on_floor)) == ([59], 1)


def test_an_empty_week_needs_nobody_and_bad_input_is_refused():
    assert backlog_plan(arrivals=[0.0] * 168, aht=600, within_hours=24, target=0.9).on_floor == [0] * 168
    with pytest.raises(ValueError, match="168 hourly values"):
        backlog_plan(arrivals=[1.0] * 24, aht=600, within_hours=24, target=0.9)
    with pytest.raises(ValueError):
        backlog_plan(arrivals=[1.0] * 168, aht=600, within_hours=0, target=0.9)
