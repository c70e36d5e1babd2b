from datetime import date

import pytest

from kpis.periods import Period, period_of, periods_between


@pytest.mark.parametrize("kind, day, start, end", [
    ("day", date(2026, 3, 31), date(2026, 3, 31), date(2026, 4, 1)),
    ("week", date(2026, 3, 1), date(2026, 2, 23), date(2026, 3, 2)),  # a Sunday: ISO week starts Monday
    ("month", date(2026, 12, 15), date(2026, 12, 1), date(2027, 1, 1)),
    ("quarter", date(2026, 5, 20), date(2026, 4, 1), date(2026, 7, 1)),
    ("year", date(2026, 5, 20), date(2026, 1, 1), date(2027, 1, 1)),
])
def test_period_bounds(kind, day, start, end):
    assert period_of(kind, day) == Period(kind, start, end)


def test_previous_period_of_equal_length():
    assert period_of("month", date(2026, 3, 10)).previous() == Period("month", date(2026, 2, 1), date(2026, 3, 1))
    assert period_of("quarter", date(2026, 1, 10)).previous() == Period("quarter", date(2025, 10, 1), date(2026, 1, 1))
    assert Period("range", date(2026, 3, 10), date(2026, 3, 20)).previous() == Period("range", date(2026, 2, 28), date(2026, 3, 10))


def test_periods_between_cover_the_range():
    weeks = periods_between("week", date(2026, 3, 1), date(2026, 3, 10))
    assert [p.start for p in weeks] == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert [p.label for p in periods_between("quarter", date(2026, 1, 1), date(2026, 7, 1))] == ["Q1 2026", "Q2 2026"]
