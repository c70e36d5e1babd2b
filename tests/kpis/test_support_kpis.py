"""Conversation and survey KPIs on a small fixture, every expected value computed by hand
(workspace time zone Europe/Paris)."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings, KpiSnapshot
from kpis.registry import KPIS
from kpis.services.compute import kpis_compute
from tests.kpis.helpers import CONVERSATIONS, CUSTOMERS, RESPONSES, conv, snapshot_get, value


@pytest.fixture
def computed(workspace, load):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    load("survey_responses", RESPONSES)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))
        yield snapshot_get


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


OPEN_ROWS = [
    conv("a1", "email", "2026-03-02T08:30:00Z", resolved="2026-03-02T10:30:00Z", agent="ann"),
    conv("a2", "email", "2026-03-01T10:00:00Z", agent="ann"),
    conv("a3", "chat", "2026-03-02T09:15:00Z", resolved="2026-03-02T09:45:00Z", agent="ann"),
    conv("b1", "chat", "2026-03-02T12:00:00Z", resolved="2026-03-02T14:00:00Z", agent="bob"),
    conv("b2", "chat", "2026-03-02T05:00:00Z", abandoned="true", agent="bob"),
    conv("b3", "email", "2026-02-20T10:00:00Z", resolved="2026-03-02T00:30:00Z", agent="bob"),
    conv("c1", "email", "2026-03-03T10:00:00Z", agent="cat"),  # after the day: not counted
]


def test_open_conversations_per_agent_at_hourly_samples(workspace):
    """One local day in Europe/Paris (2026-03-02): 24 samples, 23:00Z on 1 March to
    22:00Z. Worked by hand: ann holds a2 at every sample and a1 at 09:00Z and 10:00Z (a3
    opens and closes between samples): peak 2, mean 26/24. bob holds b3 at 23:00Z and
    00:00Z and b1 at 12:00Z and 13:00Z (resolved at 14:00Z exactly: no longer open then);
    b2, abandoned and never resolved, is nobody's: peak 1, mean 4/24."""
    from datetime import date, datetime, timezone as tz

    from django_tenants.utils import tenant_context

    from kpis.selectors.support import open_conversations
    from tests.kpis.helpers import load_into

    load_into(workspace, "conversations", OPEN_ROWS)
    with tenant_context(workspace):
        figures = open_conversations(since=date(2026, 3, 2), until=date(2026, 3, 3),
                                     now=datetime(2026, 12, 1, tzinfo=tz.utc))
        assert figures["agents"] == {"ann": {"peak": 2, "mean": 26 / 24}, "bob": {"peak": 1, "mean": 4 / 24}}
        assert figures["days"] == {"ann": [(date(2026, 3, 2), 2)], "bob": [(date(2026, 3, 2), 1)]}
        # Under way: samples stop at now (10:00Z is the last, 12 samples): ann 1 + 2 of 12.
        partial = open_conversations(since=date(2026, 3, 2), until=date(2026, 3, 3),
                                     now=datetime(2026, 3, 2, 10, 30, tzinfo=tz.utc))
        assert partial["agents"]["ann"] == {"peak": 2, "mean": 14 / 12}
        assert partial["agents"]["bob"] == {"peak": 1, "mean": 2 / 12}


def test_the_support_page_shows_open_conversations_per_agent(workspace, lead):
    import re

    from tests.kpis.helpers import load_into

    load_into(workspace, "conversations", OPEN_ROWS)
    page = lead.get("/kpis/support/", {"period": "day", "date": "2026-03-02"}).content.decode()
    table = page[page.index('class="kpi-table open-table"'):]
    rows = re.findall(r'<tr><th scope="row">(\w+)</th><td>(\d+)</td><td>([\d.]+)</td></tr>', table)
    cells = {agent: (peak, mean) for agent, peak, mean in rows}
    assert cells == {"ann": ("2", "1.1"), "bob": ("1", "0.2")}
    assert 'id="open-title"' in page and "Chartkick" in page and '"name": "ann"' in page
