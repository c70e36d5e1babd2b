"""The social page (kpis.md #9): mention volume, net sentiment, share of voice, brands,
spike alerts and the latest mentions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Value
from django.db.models.functions import Coalesce, NullIf

from ingestion.models import SocialMention
from kpis.alerting import SPIKE_DEVIATIONS, SPIKE_WINDOW_DAYS
from kpis.definitions._sql import in_days, local_day
from kpis.definitions.social import SENTIMENT
from kpis.models import KpiSettings
from kpis.periods import Period
from kpis.selectors.values import chart_kind, kpi_series, period_values_many


@dataclass(frozen=True)
class Spike:
    day: date
    volume: int
    mean: float  # of the trailing 28 days
    stddev: float  # sample standard deviation of the trailing 28 days


# Own-brand mentions per local day, every day from the window before ``since`` (or the first
# own-brand mention, when later) to ``until`` - 1, days without mentions counting 0. A day
# is judged against the 28 days before it (not itself), and only when it has all 28: before
# the workspace's first mention there is no history, not a run of empty days.
_SPIKES_SQL = f"""
    WITH history AS (
        SELECT greatest(%(since)s::date - {SPIKE_WINDOW_DAYS},
                        (SELECT {local_day('min(posted_at)')} FROM ingestion_socialmention WHERE brand = '')) AS day
    ), counts AS (
        SELECT {local_day('m.posted_at')} AS day, count(*) AS volume
        FROM ingestion_socialmention m, history
        WHERE m.brand = '' AND m.posted_at >= (history.day::timestamp AT TIME ZONE %(tz)s)
          AND m.posted_at < (%(until)s::timestamp AT TIME ZONE %(tz)s)
        GROUP BY 1
    ), daily AS (
        SELECT d.day::date AS day, coalesce(c.volume, 0) AS volume
        FROM history, generate_series(history.day::timestamp, (%(until)s::date - 1)::timestamp, interval '1 day') AS d(day)
        LEFT JOIN counts c ON c.day = d.day::date
    ), judged AS (
        SELECT day, volume, avg(volume) OVER w AS mean, stddev_samp(volume) OVER w AS stddev,
               count(*) OVER w AS days
        FROM daily
        WINDOW w AS (ORDER BY day ROWS BETWEEN {SPIKE_WINDOW_DAYS} PRECEDING AND 1 PRECEDING)
    )
    SELECT day, volume, mean, stddev FROM judged
    WHERE day >= %(since)s AND days = {SPIKE_WINDOW_DAYS} AND volume > mean + {SPIKE_DEVIATIONS} * stddev
    ORDER BY day"""


def social_spikes(*, since: date, until: date) -> list[Spike]:
    """Spike alerts (kpis.md #9): the local days in [since, until) whose own-brand mention
    volume exceeds the trailing 28-day mean by more than 3 standard deviations, oldest
    first, with that mean and (sample) standard deviation."""
    with connection.cursor() as cursor:
        cursor.execute(_SPIKES_SQL, {"since": since, "until": until, "tz": connection.tenant.time_zone})
        return [Spike(day, volume, float(mean), float(stddev)) for day, volume, mean, stddev in cursor.fetchall()]


def social_brands(*, since: date, until: date) -> list[dict]:
    """Mentions per tracked brand ('' is the workspace's own) posted in the local days
    [since, until): count, share of voice, reach (Σ followers) and sentiment counts
    (imported, else scored), most mentioned first."""
    sql = f"""
        SELECT m.brand, count(*), coalesce(sum(m.followers), 0),
               {", ".join(f"count(*) FILTER (WHERE {SENTIMENT} = '{label}')" for label in ("positive", "neutral", "negative", ""))}
        FROM ingestion_socialmention m
        WHERE {in_days('m.posted_at')}
        GROUP BY 1
        ORDER BY 2 DESC, 1"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"since": since, "until": until, "tz": connection.tenant.time_zone})
        rows = cursor.fetchall()
    everyone = sum(row[1] for row in rows)
    return [{"brand": brand, "mentions": mentions, "share": mentions / everyone * 100, "reach": reach,
             "positive": positive, "neutral": neutral, "negative": negative, "unscored": unscored}
            for brand, mentions, reach, positive, neutral, negative, unscored in rows]


def social_latest_mentions(*, since: date, until: date, limit: int = 20):
    """The latest own-brand mentions posted in the local days [since, until), newest first,
    each with ``sentiment_shown`` (imported, else scored; '' when not scored yet)."""
    tz = ZoneInfo(connection.tenant.time_zone)
    start, end = (datetime.combine(day, datetime.min.time(), tzinfo=tz) for day in (since, until))
    return list(SocialMention.objects.filter(brand="", posted_at__gte=start, posted_at__lt=end)
                .annotate(sentiment_shown=Coalesce(NullIf("sentiment", Value("")), "scored_sentiment"))
                .order_by("-posted_at", "external_id")[:limit])


SOCIAL_KPIS = ("social_mention_volume", "social_net_sentiment", "social_share_of_voice")


def social_page(*, period: Period, settings=None, today: date | None = None) -> dict:
    """The social page for one period: mention volume, net sentiment and share of voice
    (with the previous period's values) and mention volume per day (week, month) from
    snapshots, brands with reach and sentiment, spike alerts and the latest mentions."""
    settings = settings or KpiSettings.load()
    kind = chart_kind(period)
    values = period_values_many(keys=SOCIAL_KPIS, period=period, settings=settings, today=today)
    brands = social_brands(since=period.start, until=period.end)
    return {
        "values": {key: values.get(key, {}).get("") for key in SOCIAL_KPIS},
        "volume": kpi_series(key="social_mention_volume", period=kind, start=period.start, end=period.end,
                             settings=settings, today=today),
        "sentiment": kpi_series(key="social_net_sentiment", period=kind, start=period.start, end=period.end,
                                settings=settings, today=today),
        "chart_kind": kind, "brands": brands, "own": next((b for b in brands if b["brand"] == ""), None),
        "spikes": social_spikes(since=period.start, until=period.end),
        "latest": social_latest_mentions(since=period.start, until=period.end),
    }

