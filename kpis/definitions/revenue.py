"""Revenue KPIs: net and gross revenue retention (kpis.md #3, #4), from monthly MRR per
customer and product, split by the customer's plan. Month, quarter and year only."""
from kpis.definitions._sql import NOT_TEST_K, PLAN_SEGMENTS, customer_of
from kpis.registry import HIGHER, Kpi, register_kpi


class RevenueRetention(Kpi):
    dataset, datasets, segments = "revenue", ("customers",), ("plan",)
    rollup = "period"
    period_kinds = ("month", "quarter", "year")
    # MRR is a monthly figure: a month under way holds its whole month's MRR, so it compares
    # with the whole previous month (a quarter under way with as many whole months).
    comparison_unit = "month"
    # R and its movements, so pages can show the breakdown.
    extra_columns = ("start_mrr", "upsell", "cross_sell", "downgrades", "cancellations")
    # NRR and GRR share one query (run once per recompute): it returns R as numerator and
    # denominator and the movements as extras; each KPI makes its numerator from them.

    def figures(self, figures):
        _, denominator, *extras = figures
        return (self.numerator(*extras), denominator, *extras)

    def reach(self, settings):
        # A month's MRR is also the start MRR of the periods beginning the month after.
        return 0, 31

    def period_sql(self, segment):
        # Per (period, customer, product): s = MRR of the month before the period, e = MRR of
        # the period's last month (0 when missing). The period's last month is capped at the
        # latest month of the dataset, so a period still under way is measured to date
        # instead of counting every customer as cancelled. Hash aggregates only: each revenue
        # row is read as the s or e of the periods it bounds, summed per (period, customer,
        # product), then per (period, customer). MRR is never negative, so the start cohort
        # is the customers whose start MRR summed over their products is > 0.
        return f"""
            WITH bounds AS (
                -- A period whose (capped) end month is before it has no data: no row.
                SELECT p.start, m.month, m.at_start
                FROM unnest(%(starts)s::date[], %(ends)s::date[]) AS p(start, "end"),
                     LATERAL (SELECT (p.start - interval '1 month')::date AS start_month,
                                     least((p."end" - interval '1 month')::date,
                                           (SELECT max(month) FROM ingestion_revenue)) AS end_month) AS b,
                     LATERAL (VALUES (b.start_month, true), (b.end_month, false)) AS m(month, at_start)
                WHERE b.end_month >= p.start
            ), pairs AS (
                SELECT b.start, r.customer_external_id AS customer,
                       sum(r.mrr::float8) FILTER (WHERE b.at_start) AS s, sum(r.mrr::float8) FILTER (WHERE NOT b.at_start) AS e
                FROM bounds b JOIN ingestion_revenue r ON r.month = b.month
                GROUP BY b.start, r.customer_external_id, r.product
            ), customers AS (
                SELECT start, customer, sum(s) AS start_mrr,
                       sum(e - s) FILTER (WHERE s > 0 AND e > s) AS upsell,
                       sum(e) FILTER (WHERE coalesce(s, 0) = 0 AND e > 0) AS cross_sell,
                       sum(s - e) FILTER (WHERE s > 0 AND e > 0 AND e < s) AS downgrades,
                       sum(s) FILTER (WHERE s > 0 AND coalesce(e, 0) = 0) AS cancellations
                FROM pairs
                GROUP BY 1, 2
                HAVING sum(s) > 0
            )
            SELECT c.start, {PLAN_SEGMENTS[segment]},
                   sum(c.start_mrr), sum(c.start_mrr),
                   sum(c.start_mrr), coalesce(sum(c.upsell), 0), coalesce(sum(c.cross_sell), 0),
                   coalesce(sum(c.downgrades), 0), coalesce(sum(c.cancellations), 0)
            FROM customers c
            {customer_of('c', 'customer')}
            WHERE {NOT_TEST_K}
            GROUP BY 1, 2"""


@register_kpi
class NetRevenueRetention(RevenueRetention):
    """(R + upsell + cross-sell − downgrades − cancellations) / R × 100 over the customers
    that had revenue at period start (month, quarter and year only). R = their MRR at period
    start (the month before the period); end MRR = the period's last month (a missing row is
    0). Per customer and product with start s and end e: upsell e − s when s > 0 and e > s;
    downgrade s − e when s > 0 and 0 < e < s; cancellation s when s > 0 and e = 0;
    cross-sell e when s = 0 and e > 0. Equivalently Σ end MRR of the start cohort / R."""

    key, label, unit, direction = "net_revenue_retention", "Net revenue retention", "%", HIGHER
    @staticmethod
    def numerator(start_mrr, upsell, cross_sell, downgrades, cancellations):
        return start_mrr + upsell + cross_sell - downgrades - cancellations


@register_kpi
class GrossRevenueRetention(RevenueRetention):
    """(R − downgrades − cancellations) / R × 100 over the customers that had revenue at
    period start (month, quarter and year only), with R, downgrades and cancellations as for
    net revenue retention; never above 100."""

    key, label, unit, direction = "gross_revenue_retention", "Gross revenue retention", "%", HIGHER
    @staticmethod
    def numerator(start_mrr, upsell, cross_sell, downgrades, cancellations):
        return start_mrr - downgrades - cancellations
