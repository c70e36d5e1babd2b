"""The active users page: DAU, WAU, MAU, stickiness, D1/D7/D30 retention and sign-up cohorts."""
from __future__ import annotations

from datetime import date

from django.db import connection

from kpis.definitions._sql import in_days, local_day
from kpis.models import KpiSettings
from kpis.periods import Period
from kpis.registry import KPIS
from kpis.selectors.values import chart_kind, kpi_series, period_values_many


ACTIVE_USER_KPIS = ("dau", "wau", "mau", "stickiness")


RETENTION_KPIS = ("retention_d1", "retention_d7", "retention_d30")


def active_users(*, period: Period, settings=None, today: date | None = None) -> dict:
    """DAU, WAU, MAU, stickiness and D1/D7/D30 retention for ``period`` (with the previous
    period's values) and DAU/WAU/MAU/stickiness per day (week, month) across it, from
    snapshots. A KPI not registered in this workspace's build is left out (no data)."""
    settings = settings or KpiSettings.load()
    kind = chart_kind(period)
    values = period_values_many(keys=(*ACTIVE_USER_KPIS, *RETENTION_KPIS), period=period, settings=settings, today=today)
    return {
        "values": {key: values.get(key, {}).get("") for key in (*ACTIVE_USER_KPIS, *RETENTION_KPIS)},
        "series": {key: kpi_series(key=key, period=kind, start=period.start, end=period.end, settings=settings, today=today)
                   for key in ACTIVE_USER_KPIS if key in KPIS},
        "chart_kind": kind,
    }


COHORT_DAYS = (1, 7, 30)


# Non-test customers who signed up in [since, until), by local sign-up week: how many, and
# for N in 1, 7, 30 how many had day d + N on or before today (eligible) and of those how
# many were active (any event) on that local day.
_COHORTS_SQL = f"""
    WITH cohort AS (
        SELECT k.external_id, {local_day('k.signed_up_at')} AS day
        FROM ingestion_customer k
        WHERE NOT k.is_test AND {in_days('k.signed_up_at')}
    ), returned AS (
        SELECT c.external_id, c.day,
               {", ".join(f"bool_or(a.day = c.day + {n}) AS d{n}" for n in COHORT_DAYS)}
        FROM cohort c
        LEFT JOIN (SELECT DISTINCT e.user_external_id, {local_day('e.occurred_at')} AS day
                   FROM ingestion_event e
                   WHERE e.occurred_at >= (%(since)s::timestamp AT TIME ZONE %(tz)s)
                     AND e.occurred_at < ((%(until)s::date + {max(COHORT_DAYS) + 1})::timestamp AT TIME ZONE %(tz)s)
                  ) a ON a.user_external_id = c.external_id AND a.day IN ({", ".join(f"c.day + {n}" for n in COHORT_DAYS)})
        GROUP BY 1, 2
    )
    SELECT date_trunc('week', day)::date, count(*),
           {", ".join(f"count(*) FILTER (WHERE day + {n} <= %(today)s), count(*) FILTER (WHERE d{n} AND day + {n} <= %(today)s)"
                      for n in COHORT_DAYS)}
    FROM returned
    GROUP BY 1
    ORDER BY 1"""


def signup_cohorts(*, since: date, until: date, today: date) -> list[dict]:
    """Sign-up cohorts by ISO week (local) of the customers who signed up in [since, until),
    test customers excluded: the cohort's size and its D1/D7/D30 retention, Σ retained /
    Σ eligible, where a customer is eligible for day N once d + N is on or before
    ``today`` and retained when they had an event on the local day d + N. None (no data)
    while nobody in the cohort is eligible yet."""
    with connection.cursor() as cursor:
        cursor.execute(_COHORTS_SQL, {"since": since, "until": until, "today": today, "tz": connection.tenant.time_zone})
        rows = cursor.fetchall()
    cohorts = []
    for week, customers, *figures in rows:
        retention = {}
        for n, eligible, retained in zip(COHORT_DAYS, figures[::2], figures[1::2]):
            retention[f"d{n}"] = retained / eligible * 100 if eligible else None
            retention[f"d{n}_counts"] = (retained, eligible)
        cohorts.append({"week": week, "customers": customers, **retention})
    return cohorts

