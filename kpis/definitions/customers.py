"""Customer KPIs, split by plan: customer retention rate (kpis.md #2) from the customers
dataset, and the sign-up cohorts' activation rate (#10) and D1 / D7 / D30 retention (#11),
which follow each cohort's events. A user is active on a local day when any event of theirs
occurs on it."""
from kpis.definitions._sql import PLAN_COLUMN, PLAN_SEGMENTS, TODAY, in_days, local_day, local_midnight
from kpis.registry import HIGHER, Kpi, proportion_interval, register_kpi

# How far after a changed day customer retention can change: every later period (ten years).
LATER_PERIODS_DAYS = 3660


@register_kpi
class CustomerRetentionRate(Kpi):
    """((E − N) / S) × 100. S = customers active at period start (signed_up_at < start and
    churned_at empty or >= start), E = customers active at period end (signed_up_at < end
    and churned_at empty or >= end), N = customers acquired during the period (start <=
    signed_up_at < end). Test customers are excluded. Below 0 when more of the customers
    acquired in the period churn within it than customers from its start stay."""

    key, label, unit, direction = "customer_retention_rate", "Customer retention rate", "%", HIGHER

    interval = proportion_interval
    dataset, segments = "customers", ("plan",)
    rollup = "period"
    extra_columns = ("start_customers", "end_customers", "acquired")

    def reach(self, settings):
        # A customer's sign-up or churn changes the states at every later boundary.
        return 0, LATER_PERIODS_DAYS

    def period_sql(self, segment):
        # Every state is a count of customers before a boundary t: signed up before t, minus
        # those also churned before t (both before t ⟺ greatest(signed_up_at, churned_at) < t).
        # Each customer is placed once among the sorted boundaries (width_bucket: the number
        # of boundaries <= its instant), and the counts before each boundary are the sums over
        # the earlier buckets, so the customers are read once whatever the number of periods.
        return f"""
            WITH periods AS (
                SELECT p.start, {local_midnight('p.start')} AS start_at, {local_midnight('p."end"')} AS end_at
                FROM unnest(%(starts)s::date[], %(ends)s::date[]) AS p(start, "end")
                WHERE p.start <= {TODAY}  -- a period not yet begun has no value
            ), bounds AS (
                SELECT array_agg(at ORDER BY at) AS at
                FROM (SELECT start_at AS at FROM periods UNION SELECT end_at FROM periods) b
            ), buckets AS (
                SELECT segment, bucket, sum(signed_up) AS signed_up, sum(active) AS active
                FROM (SELECT {PLAN_SEGMENTS[segment]} AS segment, width_bucket(k.signed_up_at, bounds.at) AS bucket,
                             1 AS signed_up, 1 AS active
                      FROM ingestion_customer k, bounds WHERE NOT k.is_test
                      UNION ALL
                      SELECT {PLAN_SEGMENTS[segment]}, width_bucket(greatest(k.signed_up_at, k.churned_at), bounds.at), 0, -1
                      FROM ingestion_customer k, bounds WHERE NOT k.is_test AND k.churned_at IS NOT NULL) marks
                GROUP BY 1, 2
            ), states AS (
                -- Before boundary i: the customers in buckets 0 .. i - 1.
                SELECT bounds.at[i] AS at, b.segment, sum(b.signed_up) AS signed_up, sum(b.active) AS active
                FROM bounds, generate_subscripts(bounds.at, 1) AS i
                JOIN buckets b ON b.bucket < i
                GROUP BY 1, 2
            ), counts AS (
                SELECT p.start, e.segment, coalesce(s.active, 0) AS s, e.active AS e,
                       e.signed_up - coalesce(s.signed_up, 0) AS n
                FROM periods p
                JOIN states e ON e.at = p.end_at
                LEFT JOIN states s ON s.at = p.start_at AND s.segment = e.segment
            )
            SELECT start, segment, e - n, s, s, e, n
            FROM counts
            WHERE s > 0 OR n > 0"""


@register_kpi
class ActivationRate(Kpi):
    """New users in the period who performed an activation event within the activation
    window of sign-up / new users in the period × 100. New users = non-test customers with
    signed_up_at in the period; activated = those with an event whose name is an activation
    event (default activated) and whose occurred_at is within [signed_up_at, signed_up_at +
    N days] (N a setting, default 7)."""

    key, label, unit, direction = "activation_rate", "Activation rate", "%", HIGHER

    interval = proportion_interval
    dataset, datasets, segments = "customers", ("events",), ("plan",)

    def reach(self, settings):
        # An activation event counts for the sign-ups of the window's days before it.
        return settings["activation_window_days"] + 1, 0

    def rows_sql(self):
        return f"""
            WITH new_users AS (
                SELECT k.external_id, k.signed_up_at, {local_day('k.signed_up_at')} AS day, {PLAN_COLUMN}
                FROM ingestion_customer k
                WHERE NOT k.is_test AND {in_days('k.signed_up_at')}
            ), activated AS (
                SELECT DISTINCT u.external_id
                FROM new_users u
                JOIN ingestion_event e ON e.user_external_id = u.external_id
                WHERE e.name = ANY(%(activation_events)s) AND e.occurred_at >= u.signed_up_at
                  AND e.occurred_at <= u.signed_up_at + make_interval(days => %(activation_window_days)s)
            )
            SELECT u.day, u.plan, (a.external_id IS NOT NULL)::int AS numerator, 1 AS denominator
            FROM new_users u LEFT JOIN activated a ON a.external_id = u.external_id"""


class RetentionKpi(Kpi):
    """Σ retained / Σ cohort over the period's days."""

    dataset, datasets, segments = "customers", ("events",), ("plan",)
    after_days: int

    interval = proportion_interval

    def reach(self, settings):
        # An event on day d + N retains the cohort of day d.
        return self.after_days, 0

    def rows_sql(self):
        day = local_day("k.signed_up_at")
        return f"""
            SELECT {day} AS day, {PLAN_COLUMN},
                   EXISTS (SELECT 1 FROM ingestion_event e
                           WHERE e.user_external_id = k.external_id
                             AND e.occurred_at >= {local_midnight(f'{day} + {self.after_days}')}
                             AND e.occurred_at < {local_midnight(f'{day} + {self.after_days + 1}')})::int AS numerator,
                   1 AS denominator
            FROM ingestion_customer k
            WHERE NOT k.is_test AND {in_days('k.signed_up_at')} AND {day} + {self.after_days} <= {TODAY}"""


def _retention_doc(days: int) -> str:
    return (f"Users retained on day {days} / users in the sign-up cohorts × 100. Cohort = non-test customers "
            f"who signed up on a local day d in the period; retained = those active (any event) on day "
            f"d + {days}; Σ retained / Σ cohort over the period's days, leaving out days whose d + {days} is "
            f"after today.")


@register_kpi
class RetentionD1(RetentionKpi):
    __doc__ = _retention_doc(1)
    key, label, unit, direction, after_days = "retention_d1", "D1 retention", "%", HIGHER, 1


@register_kpi
class RetentionD7(RetentionKpi):
    __doc__ = _retention_doc(7)
    key, label, unit, direction, after_days = "retention_d7", "D7 retention", "%", HIGHER, 7


@register_kpi
class RetentionD30(RetentionKpi):
    __doc__ = _retention_doc(30)
    key, label, unit, direction, after_days = "retention_d30", "D30 retention", "%", HIGHER, 30
