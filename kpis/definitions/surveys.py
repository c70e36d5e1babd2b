"""Survey KPIs: NPS and CSAT (kpis.md #1, #8), from imported survey responses, answers to
Pulse surveys (once they exist) and, for CSAT, conversations' csat_score."""
import math

from kpis.definitions._sql import in_days, local_day, not_test_customer
from kpis.registry import HIGHER, Kpi, register_kpi



def _responses(kind: str, numerator: str, extras: str = "") -> str:
    """Per-response contributions of the survey responses of ``kind`` (non-test customers)."""
    return f"""
        SELECT {local_day('r.responded_at')} AS day, r.channel COLLATE "C" AS channel, r.agent COLLATE "C" AS agent,
               {numerator} AS numerator, 1 AS denominator{extras}
        FROM ingestion_surveyresponse r
        WHERE r.kind = '{kind}' AND {in_days('r.responded_at')} AND {not_test_customer('r')}"""


@register_kpi
class NetPromoterScore(Kpi):
    """% promoters (9–10) − % detractors (0–6) over NPS responses in the period, by
    responded_at; passives are 7–8. Range −100..100."""

    key, label, unit, direction = "nps", "Net Promoter Score", "score", HIGHER
    dataset, datasets, segments = "survey_responses", ("customers",), ("channel", "agent")
    extra_columns = ("promoters", "detractors")

    def rows_sql(self):
        return _responses("nps", "(r.score >= 9)::int - (r.score <= 6)::int",
                          ", (r.score >= 9)::int AS promoters, (r.score <= 6)::int AS detractors")

    @staticmethod
    def margin_of_error(promoters: float, detractors: float, responses: float) -> float | None:
        """Half-width of the 95% confidence interval of NPS, in points: NPS is the mean of
        +1 (promoter), 0 (passive) and −1 (detractor) per answer, so its variance is
        p + d − (p − d)² with p, d the shares of promoters and detractors."""
        if not responses or responses < 2:
            return None
        p, d = promoters / responses, detractors / responses
        variance = p + d - (p - d) ** 2
        return 1.96 * math.sqrt(variance / responses) * 100


@register_kpi
class CustomerSatisfaction(Kpi):
    """Positive answers (4 or 5 on the 1–5 scale) / all CSAT answers in the period × 100:
    survey responses by responded_at and conversations' csat_score at resolved_at (at
    created_at when unresolved)."""

    key, label, unit, direction = "csat", "Customer satisfaction (CSAT)", "%", HIGHER
    dataset, datasets, segments = "survey_responses", ("conversations", "customers"), ("channel", "agent")
    extra_columns = ("score_sum",)

    def rows_sql(self):
        # A conversation's score counts at resolved_at, or at created_at when unresolved:
        # two index-friendly branches rather than one condition on coalesce().
        at = "coalesce(c.resolved_at, c.created_at)"
        return f"""{_responses('csat', '(r.score >= 4)::int', ', r.score AS score_sum')}
            UNION ALL
            SELECT {local_day(at)}, c.channel COLLATE "C", c.agent COLLATE "C", (c.csat_score >= 4)::int, 1, c.csat_score
            FROM ingestion_conversation c
            WHERE c.csat_score IS NOT NULL AND {not_test_customer('c')}
              AND ((c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')})
                   OR (c.resolved_at IS NULL AND {in_days('c.created_at')}))"""

    @staticmethod
    def margin_of_error(positive: float, responses: float) -> float | None:
        """Half-width of the 95% confidence interval of a share (normal approximation), in
        percentage points."""
        if not responses or responses < 2:
            return None
        p = positive / responses
        return 1.96 * math.sqrt(p * (1 - p) / responses) * 100
