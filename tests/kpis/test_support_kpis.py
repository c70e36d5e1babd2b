"""Conversation and survey KPIs on a small fixture, every expected value computed by hand
(workspace time zone Europe/Paris)."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings, KpiSnapshot
from kpis.registry import KPIS
from kpis.services.compute import kpis_compute

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


@pytest.fixture
def computed(workspace, load):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    load("survey_responses", RESPONSES)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))
        yield lambda key, kind, start, segment_kind="", segment="": KpiSnapshot.objects.filter(
            kpi=key, period_kind=kind, period_start=start, segment_kind=segment_kind, segment=segment).first()


def value(snapshot):
    return None if snapshot is None else round(snapshot.value, 4)


def test_abandonment_by_period_and_segment(computed):
    march = date(2026, 3, 1)
    assert value(computed("conversation_abandonment_rate", "month", march)) == round(1 / 7 * 100, 4)
    assert value(computed("conversation_abandonment_rate", "day", date(2026, 3, 2))) == round(1 / 3 * 100, 4)
    assert value(computed("conversation_abandonment_rate", "day", date(2026, 3, 31))) == 0.0  # c4, local day
    assert value(computed("conversation_abandonment_rate", "week", date(2026, 3, 2))) == 20.0
    assert value(computed("conversation_abandonment_rate", "month", march, "channel", "chat")) == 50.0
    assert value(computed("conversation_abandonment_rate", "month", march, "channel", "email")) == 0.0
    assert value(computed("conversation_abandonment_rate", "month", march, "channel_kind", "voice")) == 0.0
    assert value(computed("conversation_abandonment_rate", "month", march, "channel_kind", "text")) == round(1 / 6 * 100, 4)
    assert computed("conversation_abandonment_rate", "month", date(2026, 2, 1)) is None  # no data: no value


def test_resolution_response_and_sla(computed):
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    assert value(computed("mean_time_to_resolution", "month", march)) == 6.0  # (2 + 26 + 0.5 + 1 + 0.5) / 5
    assert value(computed("mean_time_to_resolution", "month", april)) == 2.0  # c4, resolved 1 April locally
    assert value(computed("mean_time_to_resolution", "quarter", march.replace(month=1))) == 6.0  # Q1: c4 is in Q2
    assert value(computed("mean_time_to_resolution", "year", march.replace(month=1))) == round(32 / 6, 4)
    assert value(computed("first_response_time", "month", march)) == 0.3  # (0.5 + 0.1) / 2
    assert value(computed("sla_attainment", "month", march)) == 80.0  # c2 took 26 h
    assert value(computed("mean_time_to_resolution", "month", march, "agent", "bob")) == 13.5  # (26 + 1) / 2


def test_first_contact_resolution(computed):
    # Opened in March, not abandoned: c1 c2 c4 c5 c6 c8. One contact: c1 (cus-1's next
    # conversation comes 29 days later), c5, c8 (no customer). Not: c2 (cus-2 came back
    # with c5 two days after), c4 (2 contacts), c6 (reopened).
    snapshot = computed("first_contact_resolution", "month", date(2026, 3, 1))
    assert (snapshot.numerator, snapshot.denominator, snapshot.value) == (3, 6, 50.0)


def test_first_contact_resolution_settings(workspace, computed):
    with tenant_context(workspace):
        KpiSettings.objects.update(fcr_include_abandoned=True, repeat_contact_window_days=30)
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 1), keys=["first_contact_resolution"])
    # c3 (abandoned) now counts; a 30-day window makes c4 a repeat of c1.
    snapshot = computed("first_contact_resolution", "month", date(2026, 3, 1))
    assert (snapshot.numerator, snapshot.denominator) == (2, 7)


def test_csat_and_nps(computed):
    march = date(2026, 3, 1)
    # CSAT: conversations c1 5, c2 3, c5 4 and responses 5, 2 (c7 and s3: test customer).
    csat = computed("csat", "month", march)
    assert (csat.numerator, csat.denominator, csat.value, csat.extra) == (3, 5, 60.0, {"score_sum": 19.0})
    # NPS: 10, 9, 9 promoters, 8 passive, 6 detractor (the 0 is a test customer's).
    nps = computed("nps", "month", march)
    assert (nps.numerator, nps.denominator, nps.value) == (2, 5, 40.0)
    assert nps.extra == {"promoters": 3.0, "detractors": 1.0}
    # Adjusted Wald from the snapshot's figures: p = 3.75/8, d = 1.75/8, centre 25,
    # SE = 100·√((0.6875 − 0.0625)/8) = 27.95, ±54.78 → [−29.78, 79.78].
    interval = KPIS["nps"].interval((nps.numerator, nps.denominator, 3.0, 1.0))
    assert (round(interval.low, 2), round(interval.high, 2), interval.n) == (-29.78, 79.78, 5)
    assert value(computed("nps", "month", march, "channel", "email")) == 40.0


def test_recompute_replaces_stale_segments(workspace, load, computed):
    load("conversations", [conv("c3", "messaging", "2026-03-02T12:00", "cus-3", abandoned="true")])
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 3, 2), until=date(2026, 3, 3), keys=["conversation_abandonment_rate"])
    assert computed("conversation_abandonment_rate", "month", date(2026, 3, 1), "channel", "chat").value == 0.0
    assert computed("conversation_abandonment_rate", "month", date(2026, 3, 1), "channel", "messaging").value == 100.0


def test_csat_seed_example_85_of_100(workspace, load):
    # kpis.md's example: 85 of 100 answers rated 4–5 → CSAT 85.
    scores = [5] * 50 + [4] * 35 + [3] * 10 + [2] * 3 + [1] * 2
    load("survey_responses", [{"external_id": f"x{i}", "kind": "csat", "score": str(score),
                               "responded_at": "2026-06-15T12:00"} for i, score in enumerate(scores)])
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 6, 1), until=date(2026, 7, 1), keys=["csat"])
        june = KpiSnapshot.objects.get(kpi="csat", period_kind="month", period_start=date(2026, 6, 1), segment_kind="")
    assert (june.numerator, june.denominator, june.value, june.extra["score_sum"]) == (85, 100, 85.0, 50 * 5 + 35 * 4 + 30 + 6 + 2)
