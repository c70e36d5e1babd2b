"""The arrivals forecast on hand-made desks whose expected counts are known exactly."""
from datetime import date, datetime, timedelta

import pytest

from kpis.staffing.forecast import arrivals_forecast

SINCE, UNTIL = date(2026, 3, 2), date(2026, 3, 30)  # four whole weeks, Monday to Sunday
NEXT = date(2026, 4, 6)  # a Monday, a week after the history


def _desk(weekday=10.0, weekend=4.0, growth=1.0, special: dict | None = None) -> dict[datetime, float]:
    """Weekdays 09:00–17:00 at ``weekday`` an hour, weekends 10:00–16:00 at ``weekend``,
    each week ``growth`` times the one before; ``special``: a day's own hourly count."""
    counts, day = {}, SINCE
    while day < UNTIL:
        scale = growth ** ((day - SINCE).days // 7)
        for hour in range(24):
            moment = datetime(day.year, day.month, day.day, hour)
            if special and day in special:
                if 9 <= hour < 17:
                    counts[moment] = special[day]
            elif day.weekday() < 5 and 9 <= hour < 17:
                counts[moment] = weekday * scale
            elif day.weekday() >= 5 and 10 <= hour < 16:
                counts[moment] = weekend * scale
        day += timedelta(days=1)
    return counts


def _day(week: list[float], weekday: int) -> list[float]:
    return [round(value, 6) for value in week[weekday * 24:(weekday + 1) * 24]]


WORKDAY = [0.0] * 9 + [10.0] * 8 + [0.0] * 7
WEEKEND_DAY = [0.0] * 10 + [4.0] * 6 + [0.0] * 8


def test_a_regular_desk_is_forecast_as_it_is():
    [week] = arrivals_forecast(counts=_desk(), since=SINCE, until=UNTIL, weeks=[NEXT]).values()
    assert len(week) == 168
    assert [_day(week, day) for day in range(7)] == [WORKDAY] * 5 + [WEEKEND_DAY] * 2


def test_a_holiday_in_the_history_teaches_the_holiday_effect():
    # Wednesday 18 March was a holiday at 2 an hour: a fifth of a working day. Wednesday
    # 8 April, a holiday too, is forecast so; the other days are unchanged.
    holidays = frozenset({date(2026, 3, 18), date(2026, 4, 8)})
    counts = _desk(special={date(2026, 3, 18): 2.0})
    [week] = arrivals_forecast(counts=counts, since=SINCE, until=UNTIL, holidays=holidays, weeks=[NEXT]).values()
    assert _day(week, 2) == [0.0] * 9 + [2.0] * 8 + [0.0] * 7
    assert [_day(week, day) for day in (0, 1, 3, 4)] == [WORKDAY] * 4


def test_with_no_holiday_to_learn_from_a_holiday_is_a_sunday():
    [week] = arrivals_forecast(counts=_desk(), since=SINCE, until=UNTIL, holidays=frozenset({date(2026, 4, 8)}),
                               weeks=[NEXT]).values()
    assert _day(week, 2) == WEEKEND_DAY


def test_a_growing_channel_is_forecast_on_its_trend():
    # 10% more each week: weeks 0–3 in the history, the forecast week is week 5 (6 April).
    [week] = arrivals_forecast(counts=_desk(growth=1.1), since=SINCE, until=UNTIL, weeks=[NEXT]).values()
    assert week[9] == pytest.approx(10 * 1.1 ** 5, rel=1e-6)  # Monday 09:00: 16.1051
    assert week[5 * 24 + 10] == pytest.approx(4 * 1.1 ** 5, rel=1e-6)


def test_no_arrivals_forecast_none():
    assert arrivals_forecast(counts={}, since=SINCE, until=UNTIL, weeks=[NEXT]) == {NEXT: [0.0] * 168}


def test_an_hour_only_some_weekdays_have_is_none_on_the_others():
    # Only Mondays 09:00 ever have arrivals: the other weekdays' 09:00 are forecast 0 (not
    # the 3e-10 of a coefficient running to minus infinity, which would staff an agent).
    counts = {datetime(2026, 3, 2, 9): 200, datetime(2026, 3, 9, 9): 200}
    [week] = arrivals_forecast(counts=counts, since=SINCE, until=date(2026, 3, 16), weeks=[NEXT]).values()
    assert [round(week[day * 24 + 9], 6) for day in range(7)] == [200.0, 0, 0, 0, 0, 0, 0]
