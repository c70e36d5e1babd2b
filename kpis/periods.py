"""Periods of the KPI contract (kpis.md): day, ISO week (Monday start), month, quarter,
year, and custom ranges, as half-open ranges of local dates [start, end) in the
workspace's time zone. Pure functions, no database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

KINDS = ("day", "week", "month", "quarter", "year")
RANGE = "range"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(kind: str, day: date) -> date:
    """The first day of the period of ``kind`` containing ``day``."""
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if kind == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown period '{kind}'; use one of {', '.join(KINDS)} or range")


def period_end(kind: str, start: date) -> date:
    """The first day after the period of ``kind`` starting on ``start``."""
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    return _add_months(start, {"month": 1, "quarter": 3, "year": 12}[kind])


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The previous period of equal length (kpis.md: period-over-period delta)."""
        if self.kind == RANGE:
            return Period(RANGE, self.start - timedelta(days=self.days), self.start)
        start = period_start(self.kind, self.start - timedelta(days=1))
        return Period(self.kind, start, period_end(self.kind, start))

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%-d %b %Y")
        if self.kind == "week":
            iso = self.start.isocalendar()
            return f"Week {iso.week}, {iso.year}"
        if self.kind == "month":
            return self.start.strftime("%b %Y")
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start:%-d %b %Y} – {self.end - timedelta(days=1):%-d %b %Y}"


def period_of(kind: str, day: date) -> Period:
    start = period_start(kind, day)
    return Period(kind, start, period_end(kind, start))


# How many periods trends and sparklines show: the one shown and the 11 before it.
TREND_PERIODS = 12


def periods_ending(kind: str, day: date, count: int = TREND_PERIODS) -> list[Period]:
    """The ``count`` periods of ``kind`` ending with the one containing ``day``, oldest first."""
    periods = [period_of(kind, day)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


def periods_between(kind: str, start: date, end: date) -> list[Period]:
    """Every period of ``kind`` overlapping the local dates [start, end)."""
    if kind == RANGE:
        return [Period(RANGE, start, end)]
    periods, cursor = [], period_start(kind, start)
    while cursor < end:
        following = period_end(kind, cursor)
        periods.append(Period(kind, cursor, following))
        cursor = following
    return periods


# --- Like-for-like comparisons (issue #10 part 2) -----------------------------------------

def local_today(time_zone: str) -> date:
    """Today's date in the workspace's time zone ``time_zone``: the one clock deciding which
    periods are still running. Selectors take ``today`` (tests pass a fixed date) and fall
    back on this; it is looked up on this module at call time, so a test may replace it
    for a whole page or API request."""
    return datetime.now(ZoneInfo(time_zone)).date()


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _span_text(first: date, last: date, year: bool) -> str:
    """"Dec 1–5", "Dec 5", "Nov 28 – Dec 4", with ", 2025" when ``year``."""
    suffix = f", {last.year}" if year else ""
    if first == last:
        return f"{first:%b} {first.day}{suffix}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%b} {first.day}–{last.day}{suffix}"
    if first.year == last.year:
        return f"{first:%b} {first.day} – {last:%b} {last.day}{suffix}"
    return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"


@dataclass(frozen=True)
class Comparison:
    """What a period's value is compared with. A period that has ended (``complete``) is
    compared with the whole previous period. One still running is period-to-date — its
    elapsed days [start, ``current_end``) — and is compared with the same elapsed span of
    the previous period, [previous.start, ``previous_end``), capped at that period's end
    (Mar 1–30 vs Feb 1–28). A period not begun yet has nothing to compare: the previous
    span is empty (``previous_end`` == previous.start)."""

    period: Period
    current_end: date  # exclusive: the end of the elapsed days
    previous: Period
    previous_end: date  # exclusive: the end of the previous span compared with
    complete: bool

    @property
    def has_previous(self) -> bool:
        return self.previous_end > self.previous.start

    @property
    def previous_whole(self) -> bool:
        """The span compared with is the whole previous period (its snapshot holds it)."""
        return self.previous_end == self.previous.end

    @property
    def previous_last(self) -> date | None:
        """The last day of the previous span, included; None when it is empty."""
        return self.previous_end - timedelta(days=1) if self.has_previous else None

    def _year(self) -> bool:
        return self.period.start.year != (self.previous_last or self.previous.start).year

    @property
    def current_label(self) -> str:
        """The days the value covers: "Dec 1–5" while the period runs, else its label."""
        if self.complete:
            return self.period.label
        if self.current_end <= self.period.start:
            return f"{self.period.label} (not begun)"
        return _span_text(self.period.start, self.current_end - timedelta(days=1), self._year())

    @property
    def label(self) -> str:
        """"Dec 1–5 vs Nov 1–5" for a period still running, "Nov 2025 vs Oct 2025" for one
        that has ended."""
        if self.complete:
            return f"{self.period.label} vs {self.previous.label}"
        if not self.has_previous:
            return self.current_label
        return f"{self.current_label} vs {_span_text(self.previous.start, self.previous_last, self._year())}"


def comparison_of(period: Period, today: date, unit: str = "day") -> Comparison:
    """The like-for-like comparison of ``period`` on the local date ``today``: the elapsed
    k days (P.start to today, included) against [prev.start, min(prev.start + k days,
    prev.end)). ``unit`` "month" counts whole elapsed months instead (KPIs of monthly
    figures such as MRR: Dec 1–5 holds December's MRR, compared with November's)."""
    previous = period.previous()
    if today >= period.end:
        return Comparison(period, period.end, previous, previous.end, True)
    if today < period.start:
        return Comparison(period, period.start, previous, previous.start, False)
    current_end = today + timedelta(days=1)
    if unit == "month":
        months = _month_index(today) - _month_index(period.start) + 1
        end = _add_months(previous.start, months)
    else:
        end = previous.start + timedelta(days=(current_end - period.start).days)
    return Comparison(period, current_end, previous, min(end, previous.end), False)
