"""Product KPIs from events: conversion rate and checkout abandonment (kpis.md #5, #12),
active users DAU / WAU / MAU and stickiness (#11). An event's user is the customer whose
external id it carries: events of test customers are left out, and the segment is that
customer's plan ('' without one)."""
from kpis.definitions._sql import (
    NOT_TEST_K, PLAN_SEGMENTS, TODAY, customer_of, in_days, local_day, local_midnight,
)
from kpis.registry import HIGHER, LOWER, Kpi, register_kpi


class EventKpi(Kpi):
    dataset, datasets, segments = "events", ("customers",), ("plan",)


class EventCountKpi(EventKpi):
    """Counts of events (not distinct users) by occurred_at, of the named settings."""

    counted: str  # the KpiSettings list of the numerator's events
    of: str  # ... and of the denominator's

    def numerator(self, counted: str, of: str) -> str:
        raise NotImplementedError

    def day_sql(self, segment):
        counted = f"count(*) FILTER (WHERE e.name = ANY(%({self.counted})s))"
        of = f"count(*) FILTER (WHERE e.name = ANY(%({self.of})s))"
        extra = f", {counted}" if self.extra_columns else ""
        return f"""
            SELECT {local_day('e.occurred_at')}, {PLAN_SEGMENTS[segment]}, {self.numerator(counted, of)}, {of}{extra}
            FROM ingestion_event e
            {customer_of('e', 'user_external_id')}
            WHERE (e.name = ANY(%({self.counted})s) OR e.name = ANY(%({self.of})s))
              AND {in_days('e.occurred_at')} AND {NOT_TEST_K}
            GROUP BY 1, 2"""


@register_kpi
class ConversionRate(EventCountKpi):
    """Conversion events / visit events in the period × 100: counts of events (not distinct
    users) by occurred_at. The event names are settings (defaults visit and purchase)."""

    key, label, unit, direction = "conversion_rate", "Conversion rate", "%", HIGHER
    counted, of = "conversion_events", "visit_events"

    def numerator(self, counted, of):
        return counted


@register_kpi
class CheckoutAbandonmentRate(EventCountKpi):
    """(1 − completed checkouts / initiated checkouts) × 100: counts of events (not distinct
    users) by occurred_at; initiated = checkout start events (default checkout_started),
    completed = conversion events (default purchase). Numerator: initiated − completed."""

    key, label, unit, direction = "checkout_abandonment_rate", "Checkout abandonment", "%", LOWER
    counted, of = "conversion_events", "checkout_events"
    extra_columns = ("completed",)

    def numerator(self, counted, of):
        return f"{of} - {counted}"


def _user_days(segment, since: str, until: str) -> str:
    """Distinct (user, segment, local day) with at least one event of the user on that day,
    for the local days [since, until) (SQL date expressions), test customers left out."""
    return f"""
        SELECT e.user_external_id AS user_id, {PLAN_SEGMENTS[segment]} AS segment, {local_day('e.occurred_at')} AS day
        FROM ingestion_event e
        {customer_of('e', 'user_external_id')}
        WHERE e.occurred_at >= {local_midnight(since)} AND e.occurred_at < {local_midnight(until)} AND {NOT_TEST_K}
        GROUP BY 1, 2, 3"""


class ActiveUsersKpi(EventKpi):
    """Day rows whose numerator is the day's value and denominator 1, so that a longer
    period's value is the mean of its daily values (stickiness: Σ DAU / Σ MAU)."""

    def columns(self) -> str:
        raise NotImplementedError

    def day_sql(self, segment):
        # Each user's activity is read once: from each of their active days to the next one
        # (or to the end of the window, whichever comes first), they count in the WAU (7 days)
        # and MAU (30 days) of every day; DAU just on the day. These spans become +1 / −1
        # changes per day whose running sum is the number of active users of each day. Every
        # day of [since, until) up to today where the segment has a monthly active user gets a
        # row (DAU and WAU may be 0 on it), so all four KPIs average over the same days.
        return f"""
            WITH activity AS (
                SELECT segment, day, lead(day) OVER (PARTITION BY user_id ORDER BY day) AS next_day
                FROM ({_user_days(segment, "%(since)s::date - 29", "%(until)s::date")}) user_days
            ), changes AS (
                SELECT a.segment, c.day, sum(c.dau) AS dau, sum(c.wau) AS wau, sum(c.mau) AS mau
                FROM activity a
                CROSS JOIN LATERAL (VALUES (a.day, 1, 1, 1), (a.day + 1, -1, 0, 0),
                                           (least(a.day + 7, a.next_day), 0, -1, 0),
                                           (least(a.day + 30, a.next_day), 0, 0, -1)) AS c(day, dau, wau, mau)
                GROUP BY 1, 2
                UNION ALL
                SELECT segment, day::date, 0, 0, 0
                FROM (SELECT DISTINCT segment FROM activity) s,
                     generate_series(%(since)s::date, %(until)s::date - 1, interval '1 day') AS day
            ), daily AS (
                SELECT segment, day,
                       sum(sum(dau)) OVER w AS dau, sum(sum(wau)) OVER w AS wau, sum(sum(mau)) OVER w AS mau
                FROM changes
                GROUP BY 1, 2
                WINDOW w AS (PARTITION BY segment ORDER BY day)
            )
            SELECT day, segment, {self.columns()}
            FROM daily
            WHERE day >= %(since)s AND day < %(until)s AND day <= {TODAY} AND mau > 0"""


@register_kpi
class DailyActiveUsers(ActiveUsersKpi):
    """Distinct users with at least one event on the local day (test customers left out);
    for a period longer than a day, the mean of the daily values over its days."""

    key, label, unit, direction, scale = "dau", "Daily active users", "users", HIGHER, 1.0

    def columns(self):
        return "dau, 1"


@register_kpi
class WeeklyActiveUsers(ActiveUsersKpi):
    """Distinct users with at least one event in the 7 local days ending on the day (test
    customers left out); for a period longer than a day, the mean of the daily values over
    its days."""

    key, label, unit, direction, scale = "wau", "Weekly active users", "users", HIGHER, 1.0

    def columns(self):
        return "wau, 1"


@register_kpi
class MonthlyActiveUsers(ActiveUsersKpi):
    """Distinct users with at least one event in the 30 local days ending on the day (test
    customers left out); for a period longer than a day, the mean of the daily values over
    its days."""

    key, label, unit, direction, scale = "mau", "Monthly active users", "users", HIGHER, 1.0

    def columns(self):
        return "mau, 1"


@register_kpi
class Stickiness(ActiveUsersKpi):
    """DAU / MAU × 100; for a period longer than a day, the mean DAU / the mean MAU over its
    days × 100 (= Σ DAU / Σ MAU)."""

    key, label, unit, direction = "stickiness", "Stickiness (DAU / MAU)", "%", HIGHER

    def columns(self):
        return "dau, mau"
