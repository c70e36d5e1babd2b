"""Survey KPIs: NPS and CSAT (kpis.md #1, #8), from imported survey responses, answers to
Pulse surveys and, for CSAT, conversations' csat_score; and the survey response rate (an
efficiency figure of kpis.md) from Pulse's survey invitations."""
import math

from kpis.definitions import _drilldown as drilldown
from kpis.definitions._sql import in_days, local_day, not_test_customer
from kpis import stats
from kpis.registry import HIGHER, Kpi, proportion_interval, register_kpi

# Imported responses (the survey_responses dataset, ``r``) belong to no Pulse survey: their
# survey segment is ''. Answers given to Pulse surveys (``p``: surveys_response) carry it.
RESPONSE_SEGMENTS = {None: "''", "channel": "r.channel", "agent": "r.agent", "survey": "''"}
ANSWER_SEGMENTS = {None: "''", "channel": "p.channel", "agent": "p.agent", "survey": "p.survey_id::text"}
SURVEY_SEGMENT_KEYS = ("survey", "channel", "agent")

# The NPS / CSAT answers given to Pulse surveys (any question of that kind, so a custom
# survey's NPS question counts too), at the response's responded_at: when its first answer
# arrived, which later edits do not move.
# Answers held for review (a submission that looked like a link scanner's) or rejected
# count nowhere: only Response.COUNTED_REVIEWS ('' and 'accepted') are read.
ANSWERS = """surveys_answer a
        JOIN surveys_question q ON q.id = a.question_id AND q.kind = '{kind}'
        JOIN surveys_response p ON p.id = a.response_id AND p.review IN ('', 'accepted')"""


def _response_rows(kind: str, segment, band: str) -> str:
    """Drill-down: the responses of ``kind`` in the period (imported and answered in Pulse),
    with their score and band."""
    return f"""
        SELECT {drilldown.local_time('r.responded_at')} AS sort_at, {band.format(score='r.score')} AS band,
               r.external_id AS "Response", 'imported' AS "Source", {drilldown.local_time('r.responded_at')} AS "Answered",
               r.score AS "Score", r.customer_external_id AS "Customer", r.channel AS "Channel", r.agent AS "Agent",
               r.comment AS "Comment"
        FROM ingestion_surveyresponse r
        WHERE r.kind = '{kind}' AND {in_days('r.responded_at')} AND {not_test_customer('r')}
              {drilldown.segment_filter(RESPONSE_SEGMENTS, segment)}
        UNION ALL
        SELECT {drilldown.local_time('p.responded_at')}, {band.format(score='a.score')}, p.id::text,
               'survey: ' || s.name, {drilldown.local_time('p.responded_at')}, a.score, p.customer_external_id,
               p.channel, p.agent, p.comment
        FROM {ANSWERS.format(kind=kind)} JOIN surveys_survey s ON s.id = p.survey_id
        WHERE a.score IS NOT NULL AND {in_days('p.responded_at')} AND {not_test_customer('p')}
              {drilldown.segment_filter(ANSWER_SEGMENTS, segment)}"""


def _responses(kind: str, numerator: str, extras: str = "") -> str:
    """Per-answer contributions (day, survey, channel, agent, numerator, denominator, extras)
    of the non-test NPS or CSAT answers of the period: imported responses and answers to
    Pulse surveys. ``numerator`` and ``extras`` are written over ``{score}``."""
    return f"""
        SELECT {local_day('r.responded_at')} AS day, '' COLLATE "C" AS survey, r.channel COLLATE "C" AS channel,
               r.agent COLLATE "C" AS agent, {numerator.format(score='r.score')} AS numerator, 1 AS denominator
               {extras.format(score='r.score')}
        FROM ingestion_surveyresponse r
        WHERE r.kind = '{kind}' AND {in_days('r.responded_at')} AND {not_test_customer('r')}
        UNION ALL
        SELECT {local_day('p.responded_at')}, p.survey_id::text COLLATE "C", p.channel COLLATE "C", p.agent COLLATE "C",
               {numerator.format(score='a.score')}, 1 {extras.format(score='a.score')}
        FROM {ANSWERS.format(kind=kind)}
        WHERE a.score IS NOT NULL AND {in_days('p.responded_at')} AND {not_test_customer('p')}"""


@register_kpi
class NetPromoterScore(Kpi):
    """% promoters (9–10) − % detractors (0–6) over NPS responses in the period, by
    responded_at; passives are 7–8. Range −100..100."""

    key, label, unit, direction = "nps", "Net Promoter Score", "score", HIGHER
    dataset, datasets, segments = "survey_responses", ("customers",), SURVEY_SEGMENT_KEYS
    extra_columns = ("promoters", "detractors")

    def rows_sql(self):
        return _responses("nps", "({score} >= 9)::int - ({score} <= 6)::int",
                          ", ({score} >= 9)::int AS promoters, ({score} <= 6)::int AS detractors")

    drilldown_band = "Band"

    def drilldown_sql(self, segment):
        """The NPS responses of the period, each a promoter (9–10), passive (7–8) or detractor (0–6)."""
        return _response_rows("nps", segment, "CASE WHEN {score} >= 9 THEN 'promoter' WHEN {score} >= 7 "
                                              "THEN 'passive' ELSE 'detractor' END")

    def interval(self, figures):
        """Adjusted Wald interval of Rocks (2016) from the promoters and detractors, n = the
        responses. NPS is the mean of +1 / 0 / −1 per answer, not a share."""
        promoters, detractors = figures[2:4] if len(figures) >= 4 else (None, None)
        return stats.nps_interval(promoters, detractors, figures[1])

    def margin(self, figures):
        """Plain Wald, variance p + d − (p − d)² from the promoters and detractors. The KPI
        pages use ``interval``, the adjusted Wald of Rocks (2016)."""
        responses = figures[1]
        if not responses or responses < 2:
            return None
        p, d = figures[2] / responses, figures[3] / responses
        return 1.96 * math.sqrt((p + d - (p - d) ** 2) / responses) * 100


@register_kpi
class CustomerSatisfaction(Kpi):
    """Positive answers (4 or 5 on the 1–5 scale) / all CSAT answers in the period × 100:
    survey responses by responded_at and conversations' csat_score at resolved_at (at
    created_at when unresolved)."""

    key, label, unit, direction = "csat", "Customer satisfaction (CSAT)", "%", HIGHER
    dataset, datasets, segments = "survey_responses", ("conversations", "customers"), SURVEY_SEGMENT_KEYS
    extra_columns = ("score_sum",)

    def rows_sql(self):
        # A conversation's score counts at resolved_at, or at created_at when unresolved:
        # two index-friendly branches rather than one condition on coalesce().
        at = "coalesce(c.resolved_at, c.created_at)"
        return f"""{_responses('csat', '({score} >= 4)::int', ', {score} AS score_sum')}
            UNION ALL
            SELECT {local_day(at)}, '' COLLATE "C", c.channel COLLATE "C", c.agent COLLATE "C", (c.csat_score >= 4)::int, 1,
                   c.csat_score
            FROM ingestion_conversation c
            WHERE c.csat_score IS NOT NULL AND {not_test_customer('c')}
              AND ((c.resolved_at IS NOT NULL AND {in_days('c.resolved_at')})
                   OR (c.resolved_at IS NULL AND {in_days('c.created_at')}))"""

    drilldown_band = "Answer"

    def drilldown_sql(self, segment):
        """The CSAT answers of the period: survey responses and conversations' csat_score
        (at resolved_at, else created_at), positive when 4 or 5."""
        at = "coalesce(c.resolved_at, c.created_at)"
        conversation_segment = {None: "''", "channel": "c.channel", "agent": "c.agent", "survey": "''"}
        positive = "CASE WHEN {score} >= 4 THEN 'positive' ELSE 'not positive' END"
        return f"""{_response_rows('csat', segment, positive)}
            UNION ALL
            SELECT {drilldown.local_time(at)}, {positive.format(score='c.csat_score')}, c.external_id, 'conversation',
                   {drilldown.local_time(at)}, c.csat_score, c.customer_external_id, c.channel, c.agent, c.subject
            FROM ingestion_conversation c
            WHERE c.csat_score IS NOT NULL AND {in_days(at)} AND {not_test_customer('c')}
                  {drilldown.segment_filter(conversation_segment, segment)}"""

    interval = proportion_interval

    def margin(self, figures):
        """Plain Wald of the share positive / answers. The KPI pages use the Wilson ``interval``."""
        responses = figures[1]
        if not responses or responses < 2:
            return None
        p = figures[0] / responses
        return 1.96 * math.sqrt(p * (1 - p) / responses) * 100


@register_kpi
class SurveyResponseRate(Kpi):
    """Invitations answered / invitations delivered × 100, over the survey invitations
    emailed in the period (by sent_at); an invitation counts as answered once any answer to
    it is stored, even a score alone."""

    key, label, unit, direction = "survey_response_rate", "Survey response rate", "%", HIGHER
    # Not an imported dataset: sending and answering invitations record their sent days
    # under this name, so the KPI engine recomputes them like any touched day.
    dataset, datasets, segments = "survey_invitations", ("customers",), SURVEY_SEGMENT_KEYS

    interval = proportion_interval

    def rows_sql(self):
        return f"""
            SELECT {local_day('i.sent_at')} AS day, i.survey_id::text COLLATE "C" AS survey,
                   i.channel COLLATE "C" AS channel, i.agent COLLATE "C" AS agent,
                   (i.responded_at IS NOT NULL)::int AS numerator, 1 AS denominator
            FROM surveys_invitation i
            WHERE i.sent_at IS NOT NULL AND {in_days('i.sent_at')} AND {not_test_customer('i')}"""

    drilldown_band = "Status"

    def drilldown_sql(self, segment):
        """The invitations emailed in the period, answered or not."""
        segments = {None: "''", "channel": "i.channel", "agent": "i.agent", "survey": "i.survey_id::text"}
        return f"""
            SELECT {drilldown.local_time('i.sent_at')} AS sort_at,
                   CASE WHEN i.responded_at IS NOT NULL THEN 'answered' ELSE 'not answered' END AS band,
                   i.email AS "Recipient", s.name AS "Survey", {drilldown.local_time('i.sent_at')} AS "Sent",
                   {drilldown.local_time('i.responded_at')} AS "Answered", i.customer_external_id AS "Customer",
                   i.channel AS "Channel", i.agent AS "Agent"
            FROM surveys_invitation i JOIN surveys_survey s ON s.id = i.survey_id
            WHERE i.sent_at IS NOT NULL AND {in_days('i.sent_at')} AND {not_test_customer('i')}
                  {drilldown.segment_filter(segments, segment)}"""
