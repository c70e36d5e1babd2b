"""Row data, row builders and readers shared by the KPI tests (test modules import from
here, never from one another)."""
import zoneinfo
from datetime import date

from django_tenants.utils import tenant_context

from ingestion.datasets import DATASETS, row_parse
from ingestion.services.records import records_upsert
from kpis.models import KpiSettings, KpiSnapshot
from kpis.registry import KPIS
from kpis.services.compute import kpis_compute
from tests.helpers import wait_until


def customer(external_id, signed_up_at, plan="", churned_at="", is_test="false"):
    return {"external_id": external_id, "signed_up_at": signed_up_at, "plan": plan, "churned_at": churned_at,
            "is_test": is_test}


def event(external_id, user, occurred_at, name="visit"):
    return {"external_id": external_id, "user_external_id": user, "name": name, "occurred_at": occurred_at}


def snapshot_get(key, kind, start, segment_kind="", segment=""):
    """The stored snapshot of a KPI for one period (and segment) in the current schema, or None."""
    return KpiSnapshot.objects.filter(kpi=key, period_kind=kind, period_start=start, segment_kind=segment_kind,
                                      segment=segment).first()


def value(snapshot):
    """A snapshot's value rounded for comparisons; None without a snapshot."""
    return None if snapshot is None else round(snapshot.value, 4)


# --- Like-for-like comparisons (issue #10 part 2): rows on Nov 1–5, Nov 20 and Dec 1–5 ------

def social_mention(external_id, posted_at):
    return {"external_id": external_id, "platform": "twitter", "posted_at": posted_at, "text": "about us",
            "sentiment": "positive"}


def csat_answers(prefix, day, positive, negative):
    """``positive`` answers of 5 and ``negative`` of 2, all on ``day``."""
    scores = [5] * positive + [2] * negative
    return [{"external_id": f"{prefix}{i}", "kind": "csat", "score": str(score), "responded_at": f"{day}T10:00"}
            for i, score in enumerate(scores)]


# Own-brand mentions: Nov 1–5 has 6 (the last at 23:30 local on Nov 5), Nov 6 00:30 local
# one more (outside Nov 1–5), Nov 20 forty: November 47. Dec 1–5: 9.
LIKE_FOR_LIKE_MENTIONS = (
    [social_mention(external_id, at) for external_id, at in (
        ("n1", "2025-11-01T09:00"), ("n2", "2025-11-01T18:00"), ("n3", "2025-11-03T12:00"),
        ("n4", "2025-11-05T08:00"), ("n5", "2025-11-05T20:00"), ("n6", "2025-11-05T23:30"),
        ("n7", "2025-11-06T00:30"))]
    + [social_mention(f"m{i}", "2025-11-20T12:00") for i in range(40)]
    + [social_mention(f"d{i}", "2025-12-02T12:00") for i in range(4)]
    + [social_mention(f"e{i}", "2025-12-05T09:00") for i in range(5)])
# CSAT: Nov 1–5 4 positive of 10 (40%); Nov 20 30 of 30: November 34 of 40 (85%). Dec 1–5
# 8 of 10 (80%).
LIKE_FOR_LIKE_ANSWERS = (csat_answers("a", "2025-11-02", 2, 3) + csat_answers("b", "2025-11-04", 2, 3)
                         + csat_answers("c", "2025-11-20", 30, 0) + csat_answers("d", "2025-12-03", 8, 2))
# Customer retention ((E − N) / S): a, b, c signed up in October; b churns Nov 3, c Nov 20;
# d signs up Nov 2, e Nov 21, f Dec 2.
LIKE_FOR_LIKE_CUSTOMERS = [
    customer("a", "2025-10-01T10:00"), customer("b", "2025-10-01T10:00", churned_at="2025-11-03T10:00"),
    customer("c", "2025-10-01T10:00", churned_at="2025-11-20T10:00"), customer("d", "2025-11-02T10:00"),
    customer("e", "2025-11-21T10:00"), customer("f", "2025-12-02T10:00")]


# --- The support fixture (workspace time zone Europe/Paris) ------------------------------

CUSTOMERS = [
    {"external_id": f"cus-{i}", "signed_up_at": "2025-01-01T00:00:00Z"} for i in range(1, 5)
] + [{"external_id": "cus-test", "signed_up_at": "2025-01-01T00:00:00Z", "is_test": "true"}]


def conv(external_id, channel, created, customer="", resolved="", first_response="", contacts="1",
         reopened="false", abandoned="false", csat="", agent="ann", team="A"):
    return {"external_id": external_id, "channel": channel, "created_at": created, "customer_external_id": customer,
            "resolved_at": resolved, "first_response_at": first_response, "contacts": contacts, "reopened": reopened,
            "abandoned": abandoned, "csat_score": csat, "agent": agent, "team": team}


CONVERSATIONS = [
    conv("c1", "email", "2026-03-02T09:00", "cus-1", "2026-03-02T11:00", "2026-03-02T09:30", csat="5"),
    conv("c2", "phone", "2026-03-02T10:00", "cus-2", "2026-03-03T12:00", "2026-03-02T10:06", csat="3", agent="bob", team="B"),
    conv("c3", "chat", "2026-03-02T12:00", "cus-3", abandoned="true"),
    # 23:30 in Paris on 31 March is 21:30 UTC: still March locally.
    conv("c4", "email", "2026-03-31T23:30", "cus-1", "2026-04-01T01:30", contacts="2"),
    # cus-2 again within 7 days of c2's resolution: c2 was not resolved at first contact.
    conv("c5", "chat", "2026-03-05T10:00", "cus-2", "2026-03-05T10:30", csat="4"),
    conv("c6", "email", "2026-03-06T09:00", "cus-4", "2026-03-06T10:00", reopened="true", agent="bob", team="B"),
    conv("c7", "chat", "2026-03-02T09:00", "cus-test", "2026-03-02T09:10", csat="1"),  # test customer: left out
    conv("c8", "email", "2026-03-10T09:00", "", "2026-03-10T09:30"),  # no customer: no repeat check
]


RESPONSES = [
    {"external_id": f"n{i}", "kind": "nps", "score": str(score), "responded_at": "2026-03-12T10:00", "customer_external_id": customer,
     "channel": "email"}
    for i, (score, customer) in enumerate([(10, "cus-1"), (9, "cus-2"), (9, ""), (8, "cus-3"), (6, "cus-4"), (0, "cus-test")])
] + [
    {"external_id": "s1", "kind": "csat", "score": "5", "responded_at": "2026-03-10T10:00"},
    {"external_id": "s2", "kind": "csat", "score": "2", "responded_at": "2026-03-11T10:00"},
    {"external_id": "s3", "kind": "csat", "score": "4", "responded_at": "2026-03-11T10:00", "customer_external_id": "cus-test"},
]


LOVE, HATE = "I love this, fantastic support!", "Terrible, the worst service ever"


def mention(external_id, platform, posted, text, sentiment="", followers="", brand=""):
    return {"external_id": external_id, "platform": platform, "posted_at": posted, "text": text,
            "sentiment": sentiment, "followers": followers, "brand": brand}


MENTIONS = [
    mention("m1", "twitter", "2026-03-02T10:00", LOVE, followers="100"),  # scored positive
    mention("m2", "twitter", "2026-03-02T11:00", HATE, followers="50"),  # scored negative
    mention("m3", "instagram", "2026-03-03T09:00", "New store opening in Lyon", "positive", "1000"),
    # Imported as neutral: the import's sentiment wins over what VADER would say.
    mention("m4", "instagram", "2026-03-03T12:00", LOVE, "neutral", "10"),
    # 23:30 in Paris on 31 March (21:30 UTC): March; no follower count (reach 0).
    mention("m5", "twitter", "2026-03-31T23:30", "Our order arrived today."),  # scored neutral
    mention("m7", "twitter", "2026-03-20T15:00", "Great job, thank you so much!", followers="5"),  # scored positive
    # 00:30 in Paris on 1 April is 22:30 UTC on 31 March: April locally.
    mention("m6", "twitter", "2026-04-01T00:30", "Ordered a blue jacket", "positive", "20"),
    mention("c1", "twitter", "2026-03-02T09:00", "Globex is down again", "negative", "7", brand="Globex"),
    mention("c2", "twitter", "2026-03-10T09:00", HATE, brand="Globex"),
    mention("c3", "twitter", "2026-03-31T23:45", "Initech launches a phone", "neutral", brand="Initech"),
    mention("c4", "twitter", "2026-04-01T00:15", "Initech again", "neutral", brand="Initech"),
]


def responses(kind: str, day: str, scores: dict[int, int], prefix: str) -> list[dict]:
    """``count`` answers of each score, all on ``day``."""
    rows, i = [], 0
    for score, count in scores.items():
        for _ in range(count):
            rows.append({"external_id": f"{prefix}{i}", "kind": kind, "score": str(score), "responded_at": f"{day}T10:00"})
            i += 1
    return rows


# March: NPS 40 promoters, 10 passives, 25 detractors (value 20); CSAT 24 of 30 positive.
# February: NPS 10 / 10 / 55 (value −60); CSAT 21 of 30 positive.
SURVEYS = (responses("nps", "2026-03-12", {10: 40, 8: 10, 3: 25}, "nm")
           + responses("nps", "2026-02-12", {9: 10, 7: 10, 0: 55}, "nf")
           + responses("csat", "2026-03-12", {5: 24, 2: 6}, "cm")
           + responses("csat", "2026-02-12", {4: 21, 1: 9}, "cf"))


# Three conversations resolved in March after 1, 2 and 6 hours: a mean of 3 hours from n = 3.
RESOLVED = [conv("r1", "email", "2026-03-02T09:00", "", "2026-03-02T10:00"),
            conv("r2", "email", "2026-03-03T09:00", "", "2026-03-03T11:00"),
            conv("r3", "email", "2026-03-04T09:00", "", "2026-03-04T15:00")]


def settings_form(**overrides) -> dict:
    """The settings form as the page posts it with the default settings."""
    data = {"visit_events": "visit", "conversion_events": "purchase", "checkout_events": "checkout_started",
            "activation_events": "activated", "activation_window_days": "7", "repeat_contact_window_days": "7",
            "sla_target_hours": "24", "voice_channels": ["phone"]}
    for key, kpi in KPIS.items():
        data[f"target_{key}"], data[f"direction_{key}"] = "", kpi.direction
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def load_into(workspace, dataset_key, rows):
    """Load rows (dicts of CSV-like text) of a dataset into ``workspace`` through the
    ingestion validator, as an import would; returns the upsert's result."""
    dataset = DATASETS[dataset_key]
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    parsed = [row_parse(dataset, row, tz=tz) for row in rows]
    assert all(p.ok for p in parsed), [p.errors for p in parsed if not p.ok]
    with tenant_context(workspace):
        return records_upsert(dataset=dataset, rows=[(p.values, p.extra) for p in parsed], currency="EUR")


def load_support_data(workspace, load):
    """Load the support fixture (customers, conversations, responses), set a target and
    n ≥ 1, and compute February to April."""
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    load("survey_responses", RESPONSES)
    with tenant_context(workspace):
        # A handful of records: judged as enough (n ≥ 1) here, where targets are the subject.
        KpiSettings.objects.update(targets={"first_contact_resolution": {"target": 60}}, min_sample_size=1)
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))


def recompute_finished(client, url: str, timeout: float = 180) -> dict:
    """Poll a recompute's progress ``url`` (the page's or the API's) until it is done or
    failed; its last state."""
    return wait_until(lambda: (s := client.get(url).json())["status"] in ("done", "failed") and s, timeout=timeout)
