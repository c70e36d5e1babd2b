"""Digest emails, the pure part: which period a digest covers and when it is sent, in the
workspace's time zone. No database.

A digest covers the last *complete* period — yesterday, last week (Monday–Sunday), last
month — never a period still under way, and goes out at 08:00 local on the day after it
ends (daily at 08:00, weekly on Monday at 08:00, monthly on the 1st at 08:00). Before that
time nothing is due: between Monday 00:00 and 08:00 the weekly digest of the week that
just ended waits, it does not fall back on the week before."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kpis.periods import Period, period_of

SEND_TIME = time(8, 0)
# Digest frequency → the KPI period kind it covers.
FREQUENCY_KINDS = {"daily": "day", "weekly": "week", "monthly": "month"}


def digest_last_period(frequency: str, now: datetime, time_zone: str) -> Period:
    """The last complete period of ``frequency`` at the instant ``now`` (aware), in the
    local calendar of ``time_zone``: the one ending on or before today's local date."""
    kind = FREQUENCY_KINDS[frequency]
    today = now.astimezone(ZoneInfo(time_zone)).date()
    return period_of(kind, period_of(kind, today).start - timedelta(days=1))


def digest_send_at(period: Period, time_zone: str) -> datetime:
    """When the digest of ``period`` goes out: 08:00 local on the day after it ends (an
    aware datetime; 08:00 exists on every day of every zone's DST changes, so it is never
    ambiguous nor skipped)."""
    return datetime.combine(period.end, SEND_TIME, tzinfo=ZoneInfo(time_zone))


def digest_due_period(frequency: str, now: datetime, time_zone: str) -> Period | None:
    """The period whose digest is due at ``now``: the last complete one once its send time
    has come, else None (nothing due before 08:00)."""
    period = digest_last_period(frequency, now, time_zone)
    return period if now >= digest_send_at(period, time_zone) else None


def digest_next_send_at(frequency: str, now: datetime, time_zone: str) -> datetime:
    """The next send time after ``now``, for the member's page."""
    period = digest_last_period(frequency, now, time_zone)
    send_at = digest_send_at(period, time_zone)
    if send_at > now:
        return send_at
    return digest_send_at(period_of(period.kind, period.end), time_zone)
