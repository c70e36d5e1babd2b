"""Social media monitoring (kpis.md #9) on a small fixture, every expected value computed by
hand (workspace time zone Europe/Paris): mention volume and reach, net sentiment with blank
sentiments scored by VADER, share of voice against competitor brands, the platform segment,
the spike rule, and scores surviving re-imports."""
import hashlib
import math
from datetime import date, timedelta

import pytest
from django_tenants.utils import tenant_context

from ingestion.models import SocialMention, TouchedDay
from ingestion.sentiment import mentions_score_sentiment, mentions_score_sentiment_later, sentiment_label
from ingestion.tasks import mentions_score_sentiment_task
from kpis.registry import KPIS
from kpis.selectors.social import social_spikes
from kpis.services.compute import kpis_compute
from tests.kpis.helpers import HATE, LOVE, MENTIONS, mention, snapshot_get, value

SOCIAL = ["social_mention_volume", "social_net_sentiment", "social_share_of_voice"]


def score(workspace, **kwargs) -> int:
    with tenant_context(workspace):
        return mentions_score_sentiment(**kwargs)


@pytest.fixture
def snapshot(workspace):
    """``snapshot_get`` in ``workspace``, whatever schema the test is in."""
    def get(*args, **kwargs):
        with tenant_context(workspace):
            return snapshot_get(*args, **kwargs)
    return get


def compute(workspace):
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1), keys=SOCIAL)


@pytest.fixture
def mentions(load):
    load("social_mentions", MENTIONS)


@pytest.fixture
def computed(workspace, mentions, snapshot):
    assert score(workspace) == 5  # m1 m2 m5 m7 and the competitor's c2
    compute(workspace)
    return snapshot


def scored(workspace):
    with tenant_context(workspace):
        return {m.external_id: (m.sentiment, m.scored_sentiment) for m in SocialMention.objects.all()}


def test_sentiment_thresholds():
    # VADER's convention on the compound score.
    assert [sentiment_label(c) for c in (0.9, 0.05, 0.0499, 0.0, -0.0499, -0.05, -0.8)] == [
        "positive", "positive", "neutral", "neutral", "neutral", "negative", "negative"]


def test_blank_sentiments_are_scored_once_without_touching_imported_ones(workspace, mentions):
    assert score(workspace, batch_size=2) == 5  # in three batches
    assert scored(workspace) == {
        "m1": ("", "positive"), "m2": ("", "negative"), "m3": ("positive", ""), "m4": ("neutral", ""),
        "m5": ("", "neutral"), "m7": ("", "positive"), "m6": ("positive", ""),
        "c1": ("negative", ""), "c2": ("", "negative"), "c3": ("neutral", ""), "c4": ("neutral", ""),
    }
    with tenant_context(workspace):
        m1, m4 = SocialMention.objects.get(external_id="m1"), SocialMention.objects.get(external_id="m4")
    assert m1.sentiment_score >= 0.05 and m1.scored_text_md5 == hashlib.md5(LOVE.encode()).hexdigest()
    assert (m4.sentiment_score, m4.scored_text_md5) == (None, None)  # imported sentiment: not scored
    assert score(workspace) == 0  # nothing left to score


def test_scoring_task_is_enqueued_for_the_workspace(workspace, mentions, django_capture_on_commit_callbacks):
    with tenant_context(workspace):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            mentions_score_sentiment_later()
        assert len(callbacks) == 1  # sent once the import's transaction commits
        assert mentions_score_sentiment_task() == 5
    assert scored(workspace)["m7"] == ("", "positive")


def test_mention_volume_and_reach(computed):
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    volume = computed("social_mention_volume", "month", march)  # m1 m2 m3 m4 m5 m7
    assert (volume.numerator, volume.denominator, volume.value, volume.extra) == (6, None, 6.0, {"reach": 1165.0})
    assert value(computed("social_mention_volume", "month", april)) == 1.0  # m6, 1 April locally
    assert value(computed("social_mention_volume", "day", date(2026, 3, 31))) == 1.0  # m5 at 23:30
    assert computed("social_mention_volume", "day", date(2026, 3, 31)).extra == {"reach": 0.0}
    week = computed("social_mention_volume", "week", date(2026, 3, 2))  # m1 m2 m3 m4
    assert (week.value, week.extra) == (4.0, {"reach": 1160.0})
    assert value(computed("social_mention_volume", "quarter", date(2026, 1, 1))) == 6.0
    assert computed("social_mention_volume", "year", date(2026, 1, 1)).extra == {"reach": 1185.0}
    twitter = computed("social_mention_volume", "month", march, "platform", "twitter")  # m1 m2 m5 m7
    assert (twitter.value, twitter.extra) == (4.0, {"reach": 155.0})
    assert value(computed("social_mention_volume", "month", march, "platform", "instagram")) == 2.0


def test_net_sentiment_uses_imported_then_scored_sentiment(computed):
    march = date(2026, 3, 1)
    # Positive m1 (scored), m3 (imported), m7 (scored); negative m2 (scored); neutral m4
    # (imported, although VADER finds its text positive) and m5 (scored): (3 − 1) / 6.
    net = computed("social_net_sentiment", "month", march)
    assert (net.numerator, net.denominator, value(net)) == (2, 6, round(2 / 6 * 100, 4))
    assert net.extra == {"positive": 3.0, "negative": 1.0, "unscored": 0.0}
    assert value(computed("social_net_sentiment", "month", march, "platform", "twitter")) == 25.0  # (2 − 1) / 4
    assert value(computed("social_net_sentiment", "month", march, "platform", "instagram")) == 50.0  # (1 − 0) / 2
    assert value(computed("social_net_sentiment", "month", date(2026, 4, 1))) == 100.0  # m6
    assert value(computed("social_net_sentiment", "day", date(2026, 3, 2))) == 0.0  # m1 and m2 cancel out


def test_net_sentiment_before_scoring_counts_unscored_mentions_as_neither(workspace, mentions, snapshot):
    compute(workspace)
    net = snapshot("social_net_sentiment", "month", date(2026, 3, 1))
    assert (net.numerator, net.denominator) == (1, 6)  # only m3 is known to be positive
    assert net.extra == {"positive": 1.0, "negative": 0.0, "unscored": 4.0}


def test_share_of_voice_against_competitors(computed):
    march = date(2026, 3, 1)
    sov = computed("social_share_of_voice", "month", march)  # 6 own of 9 (c1 c2 c3)
    assert (sov.numerator, sov.denominator, value(sov)) == (6, 9, round(6 / 9 * 100, 4))
    assert value(computed("social_share_of_voice", "month", march, "platform", "twitter")) == round(4 / 7 * 100, 4)
    assert value(computed("social_share_of_voice", "month", march, "platform", "instagram")) == 100.0
    assert value(computed("social_share_of_voice", "day", date(2026, 3, 31))) == 50.0  # m5 and c3 at 23:45
    assert value(computed("social_share_of_voice", "month", date(2026, 4, 1))) == 50.0  # m6 and c4
    assert value(computed("social_share_of_voice", "day", date(2026, 3, 10))) == 0.0  # only c2


def test_empty_period_has_no_snapshot(computed):
    for key in SOCIAL:
        assert computed(key, "month", date(2026, 2, 1)) is None
        assert computed(key, "day", date(2026, 3, 15)) is None
    assert computed("social_net_sentiment", "day", date(2026, 3, 10)) is None  # only a competitor's mention
    volume = KPIS["social_mention_volume"]
    assert (volume.value(3, None), volume.value(None, None)) == (3.0, None)


def test_reimport_keeps_the_score_and_a_changed_text_is_scored_again(workspace, load, mentions):
    score(workspace)
    with tenant_context(workspace):
        before = SocialMention.objects.get(external_id="m1")
    result = load("social_mentions", MENTIONS)
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(MENTIONS))
    with tenant_context(workspace):
        after = SocialMention.objects.get(external_id="m1")
    assert (after.scored_sentiment, after.sentiment_score, after.scored_text_md5, after.imported_at) == (
        before.scored_sentiment, before.sentiment_score, before.scored_text_md5, before.imported_at)
    assert score(workspace) == 0

    with tenant_context(workspace):
        TouchedDay.objects.all().delete()
    changed = {**MENTIONS[0], "text": HATE}
    assert load("social_mentions", [changed]).updated == 1
    assert scored(workspace)["m1"] == ("", "positive")  # stale until scored again
    assert score(workspace) == 1
    assert scored(workspace)["m1"] == ("", "negative")
    with tenant_context(workspace):
        m1 = SocialMention.objects.get(external_id="m1")
        assert m1.scored_text_md5 == hashlib.md5(HATE.encode()).hexdigest() and m1.sentiment_score <= -0.05
        # The new label changes 2 March's KPIs: the day is recorded for the KPI engine.
        assert list(TouchedDay.objects.values_list("dataset", "day")) == [("social_mentions", date(2026, 3, 2))]
    # A sentiment imported later wins over the kept score, which is left alone.
    load("social_mentions", [{**changed, "sentiment": "positive"}])
    assert score(workspace) == 0 and scored(workspace)["m1"] == ("positive", "negative")


def test_spike_alert(workspace, load):
    # 40 days from 1 January: 1, 0, 2, 1, 0, 2, … own-brand mentions a day (days without
    # any count as 0), except 4 February (day 34) with 9, and 30 competitor mentions on
    # 5 February that do not count.
    first, spike = date(2026, 1, 1), date(2026, 2, 4)
    volumes = {first + timedelta(days=i): 9 if first + timedelta(days=i) == spike else (1, 0, 2)[i % 3]
               for i in range(40)}
    load("social_mentions", [
        mention(f"s{day}-{k}", "twitter", f"{day}T12:00", "hello") for day, n in volumes.items() for k in range(n)
    ] + [mention(f"g{k}", "twitter", "2026-02-05T12:00", "hello", brand="Globex") for k in range(30)])
    with tenant_context(workspace):
        spikes = social_spikes(since=first, until=first + timedelta(days=40))
        later = social_spikes(since=spike + timedelta(days=1), until=first + timedelta(days=40))
    # The 28 days before 4 February (6 January to 3 February) are nine cycles of (1, 0, 2)
    # and a 1: mean 28 / 28 = 1, sample variance (9 × 2 + 0) / 27 = 2/3; 9 > 1 + 3 × 0.816.
    # Days in January before the 29th have no 28-day history (the first mention is on
    # 1 January) and are not judged; the days after the spike have it in their window.
    assert [(s.day, s.volume, s.mean) for s in spikes] == [(spike, 9, 1.0)]
    assert math.isclose(spikes[0].stddev, math.sqrt(2 / 3))
    assert later == []


def test_the_spike_rule_every_workspace_has_alerts_on_the_days_the_social_page_marks(workspace, load):
    """The contract's spike alert is also an alert rule (kpis.alerting.SOCIAL_SPIKE): judged
    day by day over the series above, it fires once, for 4 February only, with the same
    mean + 3 standard deviations as the social page's marker."""
    from kpis.models import Alert, AlertRule
    from kpis.services.alerts import alerts_evaluate

    first, spike = date(2026, 1, 1), date(2026, 2, 4)
    volumes = {first + timedelta(days=i): 9 if first + timedelta(days=i) == spike else (1, 0, 2)[i % 3]
               for i in range(40)}
    load("social_mentions", [
        mention(f"s{day}-{k}", "twitter", f"{day}T12:00", "hello") for day, n in volumes.items() for k in range(n)])
    with tenant_context(workspace):
        rule = AlertRule.objects.get()  # the one every workspace starts with
        assert rule.is_social_spike and (rule.kind, rule.direction, rule.k, rule.history, rule.min_history) == (
            "anomaly", "above", 3.0, 28, 28)
        kpis_compute(since=first, until=first + timedelta(days=40), keys=["social_mention_volume"])
        fired = {}
        for offset in range(1, 41):
            today = first + timedelta(days=offset)
            fired[today - timedelta(days=1)] = alerts_evaluate(today=today)["fired"]
        alert = Alert.objects.get()
    assert {day for day, ids in fired.items() if ids} == {spike} and fired[spike] == [alert.pk]
    # 1 + 3 × sqrt(2/3) = 3.449490
    assert (alert.value, alert.expected_low, round(alert.expected_high, 6)) == (9.0, None, 3.44949)
    assert alert.message == "Mention volume is 9 count, above its usual range (≤ 3.449)."
