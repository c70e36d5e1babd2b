"""Product KPIs from events: conversion rate and checkout abandonment (kpis.md #5, #12),
active users DAU / WAU / MAU and stickiness (#11). An event's user is the customer whose
external id it carries: events of test customers are left out, and the segment is that
customer's plan ('' without one)."""
from kpis.definitions._sql import (
    NOT_TEST_K, PLAN_COLUMN, PLAN_SEGMENTS, TODAY, customer_of, day_in_range, day_number, in_days, local_midnight,
)
from kpis.registry import HIGHER, LOWER, Kpi, proportion_interval, register_kpi


class EventKpi(Kpi):
    dataset, datasets, segments = "events", ("customers",), ("plan",)


class EventCountKpi(EventKpi):
    """Counts of events (not distinct users) by occurred_at, of the named settings."""

    counted: str  # the KpiSettings list of the numerator's events
    of: str  # ... and of the denominator's

    def numerator(self, counted: str, of: str) -> str:
        """The numerator's SQL from the 0/1 columns of counted and of events (each KPI's own)."""
        raise TypeError(f"{type(self).__name__} must say how its numerator is made")

    def rows_sql(self):
        counted = f"(e.name = ANY(%({self.counted})s))::int"
        of = f"(e.name = ANY(%({self.of})s))::int"
        extra = f", {counted} AS {self.extra_columns[0]}" if self.extra_columns else ""
        return f"""
            SELECT {day_in_range('e.occurred_at')} AS day, {PLAN_COLUMN},
                   {self.numerator(counted, of)} AS numerator, {of} AS denominator{extra}
            FROM ingestion_event e
            {customer_of('e', 'user_external_id')}
            WHERE (e.name = ANY(%({self.counted})s) OR e.name = ANY(%({self.of})s))
              AND {in_days('e.occurred_at')} AND {NOT_TEST_K}"""


@register_kpi
class ConversionRate(EventCountKpi):
    """Conversion events / visit events in the period × 100: counts of events (not distinct
    users) by occurred_at. The event names are settings (defaults visit and purchase)."""

    key, label, unit, direction = "conversion_rate", "Conversion rate", "%", HIGHER

    interval = proportion_interval
    counted, of = "conversion_events", "visit_events"

    def numerator(self, counted, of):
        return counted


@register_kpi
class CheckoutAbandonmentRate(EventCountKpi):
    """(1 − completed checkouts / initiated checkouts) × 100: counts of events (not distinct
    users) by occurred_at; initiated = checkout start events (default checkout_started),
    completed = conversion events (default purchase). Numerator: initiated − completed; below
    0 when a period has more completed than initiated checkouts."""

    key, label, unit, direction = "checkout_abandonment_rate", "Checkout abandonment", "%", LOWER

    interval = proportion_interval
    counted, of = "conversion_events", "checkout_events"
    extra_columns = ("completed",)

    def numerator(self, counted, of):
        return f"{of} - {counted}"


FIRST = "(%(since)s::date - 29)"  # the first day of the 30-day window of the first day


class ActiveUsersKpi(EventKpi):
    """Day rows whose numerator is the day's value and denominator 1, so that a longer
    period's value is the mean of its daily values (stickiness: Σ DAU / Σ MAU)."""

    # The family's one query returns (dau, wau, mau) per day; each KPI picks its figures.
    pick: tuple[int, int | None]  # indexes of the numerator and denominator (None: 1)

    def figures(self, figures):
        numerator, denominator = self.pick
        return figures[numerator], (1 if denominator is None else figures[denominator])
    window_days = 1  # the days ending on a day whose activity counts for it

    def reach(self, settings):
        # An event on a day counts for the rolling windows of the following days.
        return 0, self.window_days - 1

    def day_sql(self, segment):
        # Each user's activity is read once: from each of their active days to the next one
        # (or to the end of the window, whichever comes first), they count in the WAU (7 days)
        # and MAU (30 days) of every day. So each active day adds 1 to the WAU and MAU from that
        # day on, and takes it off again from the span's end: the running sums of these
        # changes per day are the WAU and MAU of each day; DAU is the day's count. Every day of
        # [since, until) up to today where the segment has a monthly active user gets a row
        # (DAU and WAU may be 0 on it), so all four KPIs average over the same days.
        return f"""
            WITH user_days AS (
                -- Distinct (user, local day) with an event, from 29 days before the range, days
                -- numbered from there, each with the user's next active day. The
                -- (user_external_id, occurred_at) index gives the events in user order: only
                -- each user's few rows get sorted (incremental sort), for the grouping and the
                -- window alike.
                SELECT user_id, day, lead(day) OVER (PARTITION BY user_id ORDER BY day) AS next_day
                FROM (SELECT e.user_external_id AS user_id,
                             {day_number('e.occurred_at', FIRST, "%(until)s::date")} AS day
                      FROM ingestion_event e
                      WHERE e.occurred_at >= {local_midnight(FIRST)}
                        AND e.occurred_at < {local_midnight("%(until)s::date")}
                      GROUP BY 1, 2) distinct_days
            ), activity AS (
                SELECT {PLAN_SEGMENTS[segment]} AS segment, {FIRST} + d.day AS day,
                       {FIRST} + least(d.day + 7, d.next_day) AS wau_end,
                       {FIRST} + least(d.day + 30, d.next_day) AS mau_end
                FROM user_days d
                {customer_of('d', 'user_id')}
                WHERE {NOT_TEST_K}
            ), counts AS (
                SELECT segment, day, wau_end, mau_end, count(*) AS n, GROUPING(day, wau_end, mau_end) AS set
                FROM activity
                GROUP BY GROUPING SETS ((segment, day), (segment, wau_end), (segment, mau_end))
            ), changes AS (
                SELECT segment, coalesce(day, wau_end, mau_end) AS day,
                       coalesce(sum(n) FILTER (WHERE set = 3), 0) AS active,
                       coalesce(sum(n) FILTER (WHERE set = 5), 0) AS wau_left,
                       coalesce(sum(n) FILTER (WHERE set = 6), 0) AS mau_left
                FROM counts
                GROUP BY 1, 2
                UNION ALL
                SELECT segment, day::date, 0, 0, 0
                FROM (SELECT DISTINCT segment FROM counts) s,
                     generate_series(%(since)s::date, %(until)s::date - 1, interval '1 day') AS day
            ), daily AS (
                SELECT segment, day, sum(active) AS dau,
                       sum(sum(active) - sum(wau_left)) OVER w AS wau, sum(sum(active) - sum(mau_left)) OVER w AS mau
                FROM changes
                GROUP BY 1, 2
                WINDOW w AS (PARTITION BY segment ORDER BY day)
            )
            SELECT day, segment, dau, wau, mau
            FROM daily
            WHERE day >= %(since)s AND day < %(until)s AND day <= {TODAY} AND mau > 0"""


def _active_users_doc(window: str) -> str:
    return (f"Distinct users with at least one event {window} (test customers left out); for a period "
            f"longer than a day, the mean of the daily values over its days.")


@register_kpi
class DailyActiveUsers(ActiveUsersKpi):
    __doc__ = _active_users_doc("on the local day")
    key, label, unit, direction, scale, pick = "dau", "Daily active users", "users", HIGHER, 1.0, (0, None)


@register_kpi
class WeeklyActiveUsers(ActiveUsersKpi):
    __doc__ = _active_users_doc("in the 7 local days ending on the day")
    key, label, unit, direction, scale, pick = "wau", "Weekly active users", "users", HIGHER, 1.0, (1, None)
    window_days = 7


@register_kpi
class MonthlyActiveUsers(ActiveUsersKpi):
    __doc__ = _active_users_doc("in the 30 local days ending on the day")
    key, label, unit, direction, scale, pick = "mau", "Monthly active users", "users", HIGHER, 1.0, (2, None)
    window_days = 30


@register_kpi
class Stickiness(ActiveUsersKpi):
    """DAU / MAU × 100; for a period longer than a day, the mean DAU / the mean MAU over its
    days × 100 (= Σ DAU / Σ MAU)."""

    key, label, unit, direction, pick = "stickiness", "Stickiness (DAU / MAU)", "%", HIGHER, (0, 2)
    window_days = 30
