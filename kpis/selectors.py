"""Reads for the KPI pages and the API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection

from kpis.definitions._sql import local_day

# --- Social (kpis.md #9) -------------------------------------------------------------------

SPIKE_WINDOW_DAYS = 28
SPIKE_DEVIATIONS = 3


@dataclass(frozen=True)
class Spike:
    day: date
    volume: int
    mean: float  # of the trailing 28 days
    stddev: float  # sample standard deviation of the trailing 28 days


# Own-brand mentions per local day, every day from the window before ``since`` (or the first
# own-brand mention, when later) to ``until`` - 1, days without mentions counting 0. A day
# is judged against the 28 days before it (not itself), and only when it has all 28: before
# the workspace's first mention there is no history, not a run of empty days.
_SPIKES_SQL = f"""
    WITH history AS (
        SELECT greatest(%(since)s::date - {SPIKE_WINDOW_DAYS},
                        (SELECT {local_day('min(posted_at)')} FROM ingestion_socialmention WHERE brand = '')) AS day
    ), counts AS (
        SELECT {local_day('m.posted_at')} AS day, count(*) AS volume
        FROM ingestion_socialmention m, history
        WHERE m.brand = '' AND m.posted_at >= (history.day::timestamp AT TIME ZONE %(tz)s)
          AND m.posted_at < (%(until)s::timestamp AT TIME ZONE %(tz)s)
        GROUP BY 1
    ), daily AS (
        SELECT d.day::date AS day, coalesce(c.volume, 0) AS volume
        FROM history, generate_series(history.day::timestamp, (%(until)s::date - 1)::timestamp, interval '1 day') AS d(day)
        LEFT JOIN counts c ON c.day = d.day::date
    ), judged AS (
        SELECT day, volume, avg(volume) OVER w AS mean, stddev_samp(volume) OVER w AS stddev,
               count(*) OVER w AS days
        FROM daily
        WINDOW w AS (ORDER BY day ROWS BETWEEN {SPIKE_WINDOW_DAYS} PRECEDING AND 1 PRECEDING)
    )
    SELECT day, volume, mean, stddev FROM judged
    WHERE day >= %(since)s AND days = {SPIKE_WINDOW_DAYS} AND volume > mean + {SPIKE_DEVIATIONS} * stddev
    ORDER BY day"""


def social_spikes(*, since: date, until: date) -> list[Spike]:
    """Spike alerts (kpis.md #9): the local days in [since, until) whose own-brand mention
    volume exceeds the trailing 28-day mean by more than 3 standard deviations, oldest
    first, with that mean and (sample) standard deviation."""
    with connection.cursor() as cursor:
        cursor.execute(_SPIKES_SQL, {"since": since, "until": until, "tz": connection.tenant.time_zone})
        return [Spike(day, volume, float(mean), float(stddev)) for day, volume, mean, stddev in cursor.fetchall()]
