"""Sentiment of social mentions imported without one (kpis.md #9: "Mentions without a
sentiment are scored by the app"), scored with VADER (the ``vaderSentiment`` package and
the lexicon it ships; Hutto & Gilbert, 2014), a lexicon and rule model built for social
media text.

The imported ``sentiment`` column is never written: the score goes to ``scored_sentiment``,
``sentiment_score`` (VADER's compound score, −1..1) and ``scored_text_md5`` (the md5 of the
text scored). Imports neither write nor compare these columns, so re-importing a row leaves
it "unchanged" with its score, and a changed text is scored again because its md5 no
longer matches. KPIs read ``coalesce(nullif(sentiment, ''), scored_sentiment)``.
"""
from __future__ import annotations

import functools

from django.db import connection, transaction

from ingestion.touched import local_day_sql, touched_days_sql
from tenants.tasking import enqueue

# VADER's documented thresholds on the compound score.
POSITIVE_FROM, NEGATIVE_UNTIL = 0.05, -0.05


@functools.cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # reads the lexicon file once per process


def sentiment_label(compound: float) -> str:
    """positive when compound ≥ 0.05, negative when ≤ −0.05, neutral in between."""
    if compound >= POSITIVE_FROM:
        return "positive"
    if compound <= NEGATIVE_UNTIL:
        return "negative"
    return "neutral"


def text_sentiment(text: str) -> tuple[str, float]:
    """(label, compound score) of ``text``."""
    compound = _analyzer().polarity_scores(text)["compound"]
    return sentiment_label(compound), compound


# Mentions to score: no imported sentiment, and never scored or scored on another text.
_PENDING_SQL = """
    SELECT id, text, md5(text) FROM ingestion_socialmention
    WHERE sentiment = '' AND scored_text_md5 IS DISTINCT FROM md5(text) AND id > %(after)s
    ORDER BY id LIMIT %(limit)s"""

# Writes the scores of one batch, skipping a row whose text or sentiment an import changed
# meanwhile (the next run scores it), and records the local days of the mentions whose
# label changed, so the KPI engine recomputes their periods.
_TOUCHED = touched_days_sql(dataset="'social_mentions'", day=local_day_sql("posted_at"),
                            source="written WHERE relabelled")
_WRITE_SQL = f"""
    WITH scored AS (
        SELECT s.id, s.label, s.score, s.md5, m.scored_sentiment IS DISTINCT FROM s.label AS relabelled
        FROM unnest(%(ids)s::bigint[], %(labels)s::text[], %(scores)s::float8[], %(md5s)s::text[])
             AS s(id, label, score, md5)
        JOIN ingestion_socialmention m ON m.id = s.id
        WHERE m.sentiment = '' AND md5(m.text) = s.md5
    ), written AS (
        UPDATE ingestion_socialmention m
        SET scored_sentiment = s.label, sentiment_score = s.score, scored_text_md5 = s.md5
        FROM scored s WHERE m.id = s.id
        RETURNING m.posted_at, s.relabelled
    ), touched AS ({_TOUCHED}
    )
    SELECT count(*) FROM written"""


def mentions_score_sentiment(*, batch_size: int = 1000) -> int:
    """Score, in batches of ``batch_size`` (one transaction each, so an interrupted run keeps
    its finished batches), the current workspace's mentions that have no imported sentiment
    and are unscored or whose text changed since they were scored. Idempotent: a second run
    scores nothing. Returns the number of mentions scored."""
    tz = getattr(connection.tenant, "time_zone", None) or "UTC"
    after, total = 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, {"after": after, "limit": batch_size})
            rows = cursor.fetchall()
            if not rows:
                return total
            scores = [text_sentiment(text) for _, text, _ in rows]
            cursor.execute(_WRITE_SQL, {
                "ids": [row[0] for row in rows], "md5s": [row[2] for row in rows],
                "labels": [label for label, _ in scores], "scores": [score for _, score in scores], "tz": tz,
            })
            total += cursor.fetchone()[0]
        after = rows[-1][0]


def mentions_score_sentiment_later() -> None:
    """Score the current workspace's unscored mentions in a worker, once the surrounding
    transaction commits (call it after social mentions are imported)."""
    enqueue("ingestion.tasks.mentions_score_sentiment_task")
