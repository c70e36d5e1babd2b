"""Social media monitoring (kpis.md #9): mention volume and reach, net sentiment and share of
voice, by ``posted_at``, per platform. Own-brand mentions are those with an empty ``brand``;
the others are the tracked competitors'. Mentions are not tied to customers, so the
test-customer rule does not apply. Spike alerts are in ``kpis.selectors.social_spikes``."""
from kpis.definitions._sql import in_days, local_day
from kpis.registry import HIGHER, Kpi, register_kpi

MENTION_SEGMENTS = {None: "''", "platform": "m.platform"}
# The imported sentiment, or the app's VADER score when the import left it blank
# (ingestion.sentiment); '' while a blank one is not scored yet.
SENTIMENT = "coalesce(nullif(m.sentiment, ''), m.scored_sentiment)"
OWN_BRAND = "m.brand = ''"


def _mentions_by_day(segment, aggregates: str, where: str = OWN_BRAND) -> str:
    return f"""
        SELECT {local_day('m.posted_at')}, {MENTION_SEGMENTS[segment]}, {aggregates}
        FROM ingestion_socialmention m
        WHERE {in_days('m.posted_at')} AND {where}
        GROUP BY 1, 2"""


class SocialKpi(Kpi):
    dataset = "social_mentions"
    segments = ("platform",)


@register_kpi
class SocialMentionVolume(SocialKpi):
    """Own-brand mentions posted in the period (a count). Reach, Σ the authors' followers
    over the same mentions (unknown followers count 0), is kept beside it."""

    key, label, unit, direction, scale = "social_mention_volume", "Mention volume", "count", HIGHER, 1.0
    extra_columns = ("reach",)

    def value(self, numerator, denominator) -> float | None:
        """The count itself; no value only for a period without mentions (no row)."""
        return None if numerator is None else float(numerator)

    def day_sql(self, segment):
        return _mentions_by_day(segment, "count(*), NULL::bigint, coalesce(sum(m.followers), 0)")


@register_kpi
class SocialNetSentiment(SocialKpi):
    """(Positive − negative own-brand mentions) / all own-brand mentions in the period × 100,
    by posted_at; range −100..100. A mention's sentiment is the imported one, or the app's
    VADER score when it was imported without one (compound ≥ 0.05 positive, ≤ −0.05
    negative, else neutral); a mention not scored yet counts as neither."""

    key, label, unit, direction = "social_net_sentiment", "Net sentiment", "score", HIGHER
    extra_columns = ("positive", "negative", "unscored")

    def day_sql(self, segment):
        positive, negative, unscored = (f"count(*) FILTER (WHERE {SENTIMENT} = '{label}')"
                                        for label in ("positive", "negative", ""))
        return _mentions_by_day(segment, f"{positive} - {negative}, count(*), {positive}, {negative}, {unscored}")


@register_kpi
class SocialShareOfVoice(SocialKpi):
    """Own-brand mentions / mentions of all tracked brands (own included) in the period × 100,
    by posted_at."""

    key, label, unit, direction = "social_share_of_voice", "Share of voice", "%", HIGHER

    def day_sql(self, segment):
        return _mentions_by_day(segment, f"count(*) FILTER (WHERE {OWN_BRAND}), count(*)", where="TRUE")
