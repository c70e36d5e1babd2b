"""Periods of the KPI contract (kpis.md): day, ISO week (Monday start), month, quarter,
year, and custom ranges, as half-open ranges of local dates [start, end) in the
workspace's time zone. Pure functions, no database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
