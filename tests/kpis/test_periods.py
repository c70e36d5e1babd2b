from datetime import date

import pytest

from kpis.periods import Period, comparison_of, period_of, periods_between


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


# --- Like-for-like comparisons: exact spans by hand ------------------------------------------

def _span(comparison):
    return comparison.previous.start, comparison.previous_last


def test_a_month_under_way_compares_with_the_same_days_of_the_previous_month():
    c = comparison_of(period_of("month", date(2025, 12, 5)), date(2025, 12, 5))
    assert (c.complete, c.current_end) == (False, date(2025, 12, 6))
    assert _span(c) == (date(2025, 11, 1), date(2025, 11, 5))
    assert c.label == "Dec 1–5 vs Nov 1–5"
    assert c.current_label == "Dec 1–5"


def test_the_previous_span_is_capped_at_the_previous_periods_end():
    c = comparison_of(period_of("month", date(2026, 3, 30)), date(2026, 3, 30))
    assert _span(c) == (date(2026, 2, 1), date(2026, 2, 28))  # 30 days elapsed, February has 28
    assert c.label == "Mar 1–30 vs Feb 1–28"
    assert c.previous_whole is True


def test_a_week_quarter_and_year_under_way():
    # Wednesday 3 Dec 2025: the ISO week began Monday 1 Dec; 3 days vs Mon–Wed of the week before.
    week = comparison_of(period_of("week", date(2025, 12, 3)), date(2025, 12, 3))
    assert _span(week) == (date(2025, 11, 24), date(2025, 11, 26))
    assert week.label == "Dec 1–3 vs Nov 24–26"
    # 5 Dec 2025 is day 66 of Q4 (31 + 30 + 5): Q3 from 1 Jul, 66 days → 4 Sep.
    quarter = comparison_of(period_of("quarter", date(2025, 12, 5)), date(2025, 12, 5))
    assert _span(quarter) == (date(2025, 7, 1), date(2025, 9, 4))
    assert quarter.label == "Oct 1 – Dec 5 vs Jul 1 – Sep 4"
    # 1 Mar 2024 is day 61 of leap 2024 (31 + 29 + 1): 2023 from 1 Jan, 61 days → 2 Mar.
    year = comparison_of(period_of("year", date(2024, 3, 1)), date(2024, 3, 1))
    assert _span(year) == (date(2023, 1, 1), date(2023, 3, 2))
    assert year.label == "Jan 1 – Mar 1, 2024 vs Jan 1 – Mar 2, 2023"


def test_spans_across_years_name_them():
    c = comparison_of(period_of("month", date(2026, 1, 5)), date(2026, 1, 5))
    assert c.label == "Jan 1–5, 2026 vs Dec 1–5, 2025"
    day = comparison_of(period_of("day", date(2025, 12, 5)), date(2025, 12, 5))
    assert (day.complete, _span(day), day.label) == (False, (date(2025, 12, 4), date(2025, 12, 4)), "Dec 5 vs Dec 4")


def test_a_complete_period_compares_with_the_whole_previous_one():
    c = comparison_of(period_of("month", date(2025, 11, 10)), date(2025, 12, 5))
    assert (c.complete, c.current_end) == (True, date(2025, 12, 1))
    assert _span(c) == (date(2025, 10, 1), date(2025, 10, 31))
    assert c.label == "Nov 2025 vs Oct 2025"
    # The day after a month ends, the month is complete.
    assert comparison_of(period_of("month", date(2025, 11, 30)), date(2025, 12, 1)).complete is True
    # Its last day it still runs: Nov 1–30 vs Oct 1–30.
    last = comparison_of(period_of("month", date(2025, 11, 30)), date(2025, 11, 30))
    assert (last.complete, _span(last)) == (False, (date(2025, 10, 1), date(2025, 10, 30)))


def test_a_period_not_begun_has_nothing_to_compare():
    c = comparison_of(period_of("month", date(2026, 1, 10)), date(2025, 12, 5))
    assert (c.complete, c.has_previous, c.previous_last) == (False, False, None)
    assert c.label == "Jan 2026 (not begun)"


def test_monthly_figures_compare_whole_elapsed_months():
    # MRR is monthly: on 5 Dec, December compares with all of November; Q4 on 5 Nov with Jul–Aug.
    month = comparison_of(period_of("month", date(2025, 12, 5)), date(2025, 12, 5), unit="month")
    assert _span(month) == (date(2025, 11, 1), date(2025, 11, 30))
    quarter = comparison_of(period_of("quarter", date(2025, 11, 5)), date(2025, 11, 5), unit="month")
    assert _span(quarter) == (date(2025, 7, 1), date(2025, 8, 31))
    assert quarter.label == "Oct 1 – Nov 5 vs Jul 1 – Aug 31"


def test_a_custom_range_running_to_the_future_compares_the_elapsed_days():
    c = comparison_of(Period("range", date(2025, 12, 1), date(2025, 12, 11)), date(2025, 12, 5))
    assert _span(c) == (date(2025, 11, 21), date(2025, 11, 25))
    assert c.label == "Dec 1–5 vs Nov 21–25"
