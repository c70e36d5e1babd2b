"""Per theme and period: mentions, share of the period's comments, the net sentiment of its
social mentions, and its impact on NPS and CSAT, ranked (issue #13). Two queries whatever
the number of themes; test customers' responses are left out, as in every KPI, and only
answers that count (not held for review), and own-brand mentions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection

from kpis.definitions._sql import in_days, not_test_customer
from kpis.themes.impact import Impact, csat_impact, nps_impact
from kpis.themes.models import Theme

# The period's comments and scored responses: imported responses (r), answers to Pulse
# surveys (p) and own-brand mentions (m), each with its kind and score.
_ITEMS = f"""
    SELECT 'response' AS source, r.id::text AS record, r.kind AS kind, r.score AS score, r.comment <> '' AS commented,
           NULL::text AS sentiment
    FROM ingestion_surveyresponse r WHERE {in_days('r.responded_at')} AND {not_test_customer('r')}
    UNION ALL
    SELECT 'answer', p.id::text, p.score_kind, p.score, p.comment <> '', NULL
    FROM surveys_response p
    WHERE p.review IN ('', 'accepted') AND {in_days('p.responded_at')} AND {not_test_customer('p')}
    UNION ALL
    SELECT 'mention', m.id::text, '', NULL, TRUE, coalesce(nullif(m.sentiment, ''), m.scored_sentiment)
    FROM ingestion_socialmention m WHERE m.brand = '' AND {in_days('m.posted_at')}"""

_FIGURES = """
    count(*) FILTER (WHERE i.commented) AS comments,
    count(*) FILTER (WHERE i.source = 'mention') AS mentions,
    count(*) FILTER (WHERE i.sentiment = 'positive') AS positive,
    count(*) FILTER (WHERE i.sentiment = 'negative') AS negative,
    count(*) FILTER (WHERE i.sentiment <> '') AS with_sentiment,
    count(*) FILTER (WHERE i.kind = 'nps' AND i.score >= 9) AS promoters,
    count(*) FILTER (WHERE i.kind = 'nps' AND i.score <= 6) AS detractors,
    count(*) FILTER (WHERE i.kind = 'nps') AS nps_n,
    count(*) FILTER (WHERE i.kind = 'csat' AND i.score >= 4) AS satisfied,
    count(*) FILTER (WHERE i.kind = 'csat') AS csat_n"""

_PER_THEME_SQL = f"""
    WITH items AS ({_ITEMS})
    SELECT ct.theme_id, {_FIGURES}
    FROM items i JOIN themes_commenttheme ct ON ct.source = i.source AND ct.record = i.record
    GROUP BY ct.theme_id"""

_OVERALL_SQL = f"WITH items AS ({_ITEMS}) SELECT {_FIGURES} FROM items i"

FIGURE_NAMES = ("comments", "mentions", "positive", "negative", "with_sentiment", "promoters", "detractors", "nps_n",
                "satisfied", "csat_n")


@dataclass
class ThemeFigures:
    theme: Theme
    comments: int  # comments carrying the theme (survey comments and mentions)
    share: float | None  # of the period's comments, %
    mentions: int  # social mentions among them
    net_sentiment: float | None  # of those mentions: % positive − % negative
    nps: Impact | None
    csat: Impact | None


def theme_figures(*, since: date, until: date) -> tuple[dict, list[ThemeFigures]]:
    """The period's totals and one entry per theme, the costliest for NPS first (then CSAT,
    then the most mentioned)."""
    params = {"since": since, "until": until, "tz": connection.tenant.time_zone}
    with connection.cursor() as cursor:
        cursor.execute(_OVERALL_SQL, params)
        overall = dict(zip(FIGURE_NAMES, cursor.fetchone()))
        cursor.execute(_PER_THEME_SQL, params)
        per_theme = {row[0]: dict(zip(FIGURE_NAMES, row[1:])) for row in cursor.fetchall()}
    empty = dict.fromkeys(FIGURE_NAMES, 0)
    entries = []
    for theme in Theme.objects.all():
        figures = per_theme.get(theme.pk, empty)
        entries.append(ThemeFigures(
            theme=theme, comments=figures["comments"],
            share=100 * figures["comments"] / overall["comments"] if overall["comments"] else None,
            mentions=figures["mentions"],
            net_sentiment=(100 * (figures["positive"] - figures["negative"]) / figures["with_sentiment"]
                           if figures["with_sentiment"] else None),
            nps=nps_impact(theme=(figures["promoters"], figures["detractors"], figures["nps_n"]),
                           overall=(overall["promoters"], overall["detractors"], overall["nps_n"])),
            csat=csat_impact(theme=(figures["satisfied"], figures["csat_n"]),
                             overall=(overall["satisfied"], overall["csat_n"]))))
    entries.sort(key=lambda e: (e.nps.points if e.nps else 0, e.csat.points if e.csat else 0, -e.comments))
    return overall, entries
