"""Revenue KPIs: net and gross revenue retention (kpis.md #3, #4), from monthly MRR per
customer and product, split by the customer's plan. Month, quarter and year only."""
from kpis.definitions._sql import NOT_TEST_K, PLAN_SEGMENTS, customer_of
from kpis.registry import HIGHER, Kpi, register_kpi


class RevenueRetention(Kpi):
    dataset, datasets, segments = "revenue", ("customers",), ("plan",)
    rollup = "period"
    period_kinds = ("month", "quarter", "year")
    # R and its movements, so pages can show the breakdown.
    extra_columns = ("start_mrr", "upsell", "cross_sell", "downgrades", "cancellations")
    numerator: str  # SQL over the per-period sums below

    def period_sql(self, segment):
        # Per (period, customer, product): s = MRR of the month before the period, e = MRR of
        # the period's last month (0 when missing). The period's last month is capped at the
        # latest month of the dataset, so a period still under way is measured to date
        # instead of counting every customer as cancelled (see docs). The start cohort is the
        # customers whose s summed over their products is > 0.
        return f"""
            WITH periods AS (
                SELECT p.start, (p.start - interval '1 month')::date AS start_month,
                       least((p."end" - interval '1 month')::date, (SELECT max(month) FROM ingestion_revenue)) AS end_month
                FROM unnest(%(starts)s::date[], %(ends)s::date[]) AS p(start, "end")
            ), months AS (
                SELECT start, start_month AS month, true AS at_start FROM periods WHERE end_month >= start
                UNION ALL
                SELECT start, end_month, false FROM periods WHERE end_month >= start
            ), pairs AS (
                SELECT m.start, r.customer_external_id AS customer, {PLAN_SEGMENTS[segment]} AS segment,
                       coalesce(sum(r.mrr) FILTER (WHERE m.at_start), 0) AS s,
                       coalesce(sum(r.mrr) FILTER (WHERE NOT m.at_start), 0) AS e
                FROM months m
                JOIN ingestion_revenue r ON r.month = m.month
                {customer_of('r', 'customer_external_id')}
                WHERE {NOT_TEST_K}
                GROUP BY m.start, r.customer_external_id, r.product, 3
            ), cohort AS (
                SELECT *, sum(s) OVER (PARTITION BY start, customer) AS customer_start FROM pairs
            ), movements AS (
                SELECT start, segment, sum(s) AS start_mrr,
                       coalesce(sum(e - s) FILTER (WHERE s > 0 AND e > s), 0) AS upsell,
                       coalesce(sum(e) FILTER (WHERE s = 0 AND e > 0), 0) AS cross_sell,
                       coalesce(sum(s - e) FILTER (WHERE s > 0 AND e > 0 AND e < s), 0) AS downgrades,
                       coalesce(sum(s) FILTER (WHERE s > 0 AND e = 0), 0) AS cancellations
                FROM cohort
                WHERE customer_start > 0
                GROUP BY 1, 2
            )
            SELECT start, segment, {self.numerator}, start_mrr,
                   start_mrr, upsell, cross_sell, downgrades, cancellations
            FROM movements"""


@register_kpi
class NetRevenueRetention(RevenueRetention):
    """(R + upsell + cross-sell − downgrades − cancellations) / R × 100 over the customers
    that had revenue at period start (month, quarter and year only). R = their MRR at period
    start (the month before the period); end MRR = the period's last month (a missing row is
    0). Per customer and product with start s and end e: upsell e − s when s > 0 and e > s;
    downgrade s − e when s > 0 and 0 < e < s; cancellation s when s > 0 and e = 0;
    cross-sell e when s = 0 and e > 0. Equivalently Σ end MRR of the start cohort / R."""

    key, label, unit, direction = "net_revenue_retention", "Net revenue retention", "%", HIGHER
    numerator = "start_mrr + upsell + cross_sell - downgrades - cancellations"


@register_kpi
class GrossRevenueRetention(RevenueRetention):
    """(R − downgrades − cancellations) / R × 100 over the customers that had revenue at
    period start (month, quarter and year only), with R, downgrades and cancellations as for
    net revenue retention; never above 100."""

    key, label, unit, direction = "gross_revenue_retention", "Gross revenue retention", "%", HIGHER
    numerator = "start_mrr - downgrades - cancellations"
