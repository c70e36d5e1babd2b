"""The support efficiency, active users and social pages (issue #4) on small fixtures,
every expected value computed by hand (workspace time zone Europe/Paris)."""
from datetime import date

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.sentiment import mentions_score_sentiment
from kpis.models import KpiSettings, KpiSnapshot
from kpis.periods import RANGE, Period, period_of
from kpis.registry import HIGHER, KPIS, Kpi
from kpis.selectors.active_users import ACTIVE_USER_KPIS, RETENTION_KPIS, signup_cohorts
from kpis.selectors.support import support_efficiency
from kpis.services.compute import kpis_compute
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.kpis.helpers import MENTIONS, conv, load_support_data

MARCH = {"period": "month", "date": "2026-03-15"}
PAGES = ("/kpis/support/", "/kpis/active-users/", "/kpis/social/")


def test_support_efficiency_figures(workspace, load):
    load_support_data(workspace, load)
    with tenant_context(workspace):
        support = support_efficiency(period=period_of("month", date(2026, 3, 1)))
    values = {key: round(entry["value"], 4) for key, entry in support["totals"].items()}
    assert values == {"conversation_abandonment_rate": round(100 / 7, 4), "mean_time_to_resolution": 6.0,
                      "first_response_time": 0.3, "first_contact_resolution": 50.0, "sla_attainment": 80.0,
                      "csat": 60.0}
    # Resolved in March (local): c1 2 h, c2 26 h, c5 0.5 h, c6 1 h, c8 0.5 h; first responses c1 0.5 h, c2 0.1 h.
    hours = {key: round(value, 4) for key, value in support["hours"].items()}
    assert hours == {"resolved": 5, "mttr_mean": 6.0, "mttr_median": 1.0, "mttr_p90": 16.4,  # 2 + 0.6 × (26 − 2)
                     "responded": 2, "frt_mean": 0.3, "frt_median": 0.3, "frt_p90": 0.46}
    assert support["conversations"] == 7 and support["per_agent"] == 3.5  # ann 5, bob 2
    assert {kind: round(row["value"], 4) for kind, row in support["by_channel_kind"].items()} == {
        "text": round(100 / 6, 4), "voice": 0.0}
    assert support["by_channel"]["chat"]["value"] == 50.0
    rows = {row["agent"]: {k: v if not isinstance(v, float) else round(v, 2) for k, v in row.items()}
            for row in support["agents"]}
    assert [row["agent"] for row in support["agents"]] == ["ann", "bob", ""]  # most conversations first
    ann, bob = rows["ann"], rows["bob"]
    assert (ann["conversations"], ann["resolved"], ann["mean_time_to_resolution"], ann["mttr_median"]) == (5, 3, 1.0, 0.5)
    assert (ann["first_response_time"], ann["first_contact_resolution"], ann["sla_attainment"], ann["csat"]) == (
        0.5, 75.0, 100.0, 100.0)
    assert (bob["conversations"], bob["resolved"], bob["mean_time_to_resolution"], bob["mttr_p90"]) == (2, 2, 13.5, 23.5)
    assert (bob["first_contact_resolution"], bob["sla_attainment"], bob["csat"]) == (0.0, 50.0, 0.0)
    # Survey answers without an agent: a CSAT row of their own, no conversations.
    assert (rows[""]["conversations"], rows[""]["csat"], rows[""]["resolved"]) == (None, 50.0, 0)


def test_support_efficiency_custom_range_is_live(workspace, load):
    load_support_data(workspace, load)
    with tenant_context(workspace):
        KpiSnapshot.objects.all().delete()  # a custom range never reads snapshots
        support = support_efficiency(period=Period(RANGE, date(2026, 3, 2), date(2026, 3, 3)))
    # 2 March: c1, c2, c3 opened (c3 abandoned), c1 resolved; c7 is a test customer's.
    assert support["conversations"] == 3 and round(support["totals"]["conversation_abandonment_rate"]["value"], 2) == 33.33
    assert support["hours"]["mttr_median"] == 2.0 and support["hours"]["frt_p90"] == pytest.approx(0.46)


def test_support_page(workspace, load, make_member, django_assert_max_num_queries):
    load_support_data(workspace, load)
    client = host_client(workspace, make_member(Role.VIEWER))
    # Sign-in, settings, 6 KPIs in total and by agent, 2 channel breakdowns, live hours: a
    # constant number of queries whatever the number of agents (each after its search_path).
    with django_assert_max_num_queries(40):
        page = client.get("/kpis/support/", MARCH).content.decode()
    assert "<h1>Support efficiency · Mar 2026</h1>" in page
    assert "median 1.0 h · p90 16.4 h" in page and "median 0.3 h · p90 0.5 h" in page
    assert ">6.0 h</p>" in page and ">50.0%</p>" in page and "within 24 h" in page
    assert "3.5 per agent on average" in page
    assert ">chat</th><td>2</td><td>1</td><td>50.0%</td>" in page and ">voice</th><td>1</td><td>0</td><td>0.0%</td>" in page
    assert "segment=agent&amp;value=bob#drilldown-title" in page
    assert '<a href="/kpis/support/" aria-current="page">Support</a>' in page


def test_support_page_without_data(workspace, make_member):
    page = host_client(workspace, make_member(Role.VIEWER)).get("/kpis/support/", MARCH).content.decode()
    assert page.count("No conversations in this period.") == 3 and "no data" in page and "0.0%" not in page


COHORT_CUSTOMERS = [
    {"external_id": "u1", "signed_up_at": "2026-03-02T10:00"},
    {"external_id": "u2", "signed_up_at": "2026-03-02T23:30"},  # still 2 March locally
    {"external_id": "u3", "signed_up_at": "2026-03-04T10:00"},
    {"external_id": "u4", "signed_up_at": "2026-03-10T10:00"},
    {"external_id": "ut", "signed_up_at": "2026-03-02T10:00", "is_test": "true"},
    {"external_id": "u0", "signed_up_at": "2026-02-20T10:00"},  # before the cohorts asked for
]


def event(n, user, at):
    return {"external_id": f"e{n}", "user_external_id": user, "name": "visit", "occurred_at": at}


COHORT_EVENTS = [
    event(1, "u1", "2026-03-03T09:00"), event(2, "u1", "2026-03-09T09:00"), event(3, "u1", "2026-04-01T09:00"),
    event(4, "u1", "2026-03-05T09:00"),  # d + 3: not a retention day
    event(5, "u2", "2026-03-03T00:30"),  # d + 1, just after local midnight
    event(6, "u3", "2026-03-04T18:00"),  # the sign-up day itself
    event(7, "u4", "2026-03-17T09:00"),
    event(8, "ut", "2026-03-03T09:00"), event(9, "u0", "2026-03-03T09:00"),
]


@pytest.fixture
def cohorts(workspace, load):
    load("customers", COHORT_CUSTOMERS)
    load("events", COHORT_EVENTS)

    def get(today, since=date(2026, 3, 2), until=date(2026, 4, 1)):
        with tenant_context(workspace):
            return [(c["week"], c["customers"], *(None if c[d] is None else round(c[d], 2) for d in ("d1", "d7", "d30")))
                    for c in signup_cohorts(since=since, until=until, today=today)]
    return get


def test_signup_cohorts_with_d1_d7_d30(cohorts):
    # Week of 2 March: u1, u2, u3 (the test customer left out). D1: u1, u2; D7: u1; D30: u1.
    assert cohorts(date(2026, 11, 1)) == [(date(2026, 3, 2), 3, 66.67, 33.33, 33.33), (date(2026, 3, 9), 1, 0.0, 100.0, 0.0)]
    # On 12 March only the days that have come count: D30 has no data yet, nor u4's D7.
    assert cohorts(date(2026, 3, 12)) == [(date(2026, 3, 2), 3, 66.67, 33.33, None), (date(2026, 3, 9), 1, 0.0, None, None)]
    assert cohorts(date(2026, 11, 1), since=date(2026, 5, 1), until=date(2026, 6, 1)) == []


def test_active_users_page_without_the_active_user_kpis(workspace, load, make_member, monkeypatch):
    for key in (*ACTIVE_USER_KPIS, *RETENTION_KPIS):
        monkeypatch.delitem(KPIS, key, raising=False)
    load("customers", COHORT_CUSTOMERS)
    load("events", COHORT_EVENTS)
    page = host_client(workspace, make_member(Role.VIEWER)).get("/kpis/active-users/", MARCH).content.decode()
    assert "<h1>Active users · Mar 2026</h1>" in page
    assert page.count('kpi-meta">not computed in this workspace yet') == 7 and ">D7 retention</h2>" in page
    assert "No data: active users are not computed" in page and "No data: stickiness is not computed" in page
    # The cohort table is live: the 12 weeks up to the end of March, from the week of 12 January.
    assert "weeks from 12 Jan 2026" in page
    assert '<tr><th scope="row">2 Mar 2026</th><td>3</td>' in page and ">66.7%</td>" in page
    assert '<tr><th scope="row">16 Feb 2026</th><td>1</td>' in page  # u0


class FakeUsers(Kpi):
    """Stands in for the active-user KPIs of another branch: values from snapshots."""
    unit, direction, dataset, scale = "users", HIGHER, "events", 1.0

    def __init__(self, key, label):
        self.key, self.label = key, label


def test_active_users_page_with_the_active_user_kpis(workspace, make_member, monkeypatch):
    for key, label in (("dau", "Daily active users"), ("wau", "Weekly active users"), ("mau", "Monthly active users")):
        monkeypatch.setitem(KPIS, key, FakeUsers(key, label))
    monkeypatch.setitem(KPIS, "stickiness", type("Sticky", (FakeUsers,), {"unit": "%", "scale": 100.0})(
        "stickiness", "Stickiness (DAU / MAU)"))
    now = timezone.now()
    figures = {"dau": (10, 1), "wau": (30, 1), "mau": (50, 1), "stickiness": (10, 50)}
    with tenant_context(workspace):
        KpiSnapshot.objects.bulk_create(
            [KpiSnapshot(kpi=key, period_kind=kind, period_start=start, numerator=n, denominator=d, value=n / d * KPIS[key].scale,
                         computed_at=now)
             for key, (n, d) in figures.items()
             for kind, start in (("month", date(2026, 3, 1)), ("day", date(2026, 3, 2)), ("day", date(2026, 3, 3)))])
    page = host_client(workspace, make_member(Role.VIEWER)).get("/kpis/active-users/", MARCH).content.decode()
    assert ">Daily active users</a></h2>" in page and '"kpi-value">10</p>' in page and '"kpi-value">20.0%</p>' in page
    assert page.count('class="kpi-value muted">no data') == 3  # D1, D7, D30 retention: no snapshots here
    assert '"name": "Weekly active users"' in page or "Weekly active users" in page
    assert '"2026-03-02": 10.0' in page and '"2026-03-04": null' in page  # a day without data: a gap


def test_social_page(workspace, load, make_member):
    load("social_mentions", MENTIONS)
    with tenant_context(workspace):
        mentions_score_sentiment()
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 2), keys=["social_mention_volume", "social_net_sentiment",
                                                                            "social_share_of_voice"])
    page = host_client(workspace, make_member(Role.VIEWER)).get("/kpis/social/", MARCH).content.decode()
    assert "<h1>Social · Mar 2026</h1>" in page
    # Own brand in March: m1 m2 m3 m4 m5 m7; positive m1 m3 m7, negative m2; Globex c1 c2, Initech c3.
    assert '"kpi-value">6</p>' in page and '"kpi-value">+33</p>' in page and '"kpi-value">66.7%</p>' in page
    assert '"kpi-value">1,165</p>' in page  # 100 + 50 + 1000 + 10 + 5
    assert ">Globex</th>\n      <td>2</td><td>22.2%</td>" in page and ">Initech</th>\n      <td>1</td><td>11.1%</td>" in page
    assert "No spike in this period." in page
    latest = page[page.index("Latest mentions"):]
    assert latest.index("Our order arrived today.") < latest.index("Great job, thank you so much!")  # newest first
    assert "Ordered a blue jacket" not in latest  # April locally
    assert 'band-negative">negative</span>' in latest and ">scored</span>" in latest


def test_social_links_are_http_only(workspace, load, make_member):
    load("social_mentions", [
        {"external_id": "x1", "platform": "web", "posted_at": "2026-03-02T10:00", "text": "a", "sentiment": "neutral",
         "url": "javascript:alert(1)"},
        {"external_id": "x2", "platform": "web", "posted_at": "2026-03-03T10:00", "text": "b", "sentiment": "neutral",
         "url": "https://example.test/post/2"},
    ])
    page = host_client(workspace, make_member(Role.VIEWER)).get("/kpis/social/", MARCH).content.decode()
    assert 'href="https://example.test/post/2"' in page and "javascript:alert" not in page


def test_pages_need_a_member(workspace, make_member):
    for path in PAGES:
        response = host_client(workspace).get(path)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    client = host_client(workspace, make_member(Role.VIEWER))
    for path in PAGES:
        page = client.get(path).content.decode()
        for link in PAGES:  # in the main navigation and the KPI tabs
            assert page.count(f'href="{link}') >= 2


# Business-hours mode (open Monday–Friday 09:00–17:00, Europe/Paris, no holiday).
WEEKEND_CONVERSATIONS = [
    # Friday 16:00 → Monday 10:00: 66 h on the clock, Friday 16–17 + Monday 9–10 = 2 business hours.
    conv("w1", "email", "2026-03-06T16:00", resolved="2026-03-09T10:00", agent="ann"),
    # Tuesday 09:00 → 12:00: 3 h either way.
    conv("w2", "email", "2026-03-10T09:00", resolved="2026-03-10T12:00", agent="ann"),
    # Monday 15:00 → Tuesday 11:00: 20 h on the clock, Monday 15–17 + Tuesday 9–11 = 4 business hours.
    conv("w3", "chat", "2026-03-16T15:00", resolved="2026-03-17T11:00", agent="bob"),
]


@pytest.fixture
def weekend(workspace, load):
    load("conversations", WEEKEND_CONVERSATIONS)
    with tenant_context(workspace):
        KpiSettings.load()
        yield workspace


def _support_in_mode(business_hours: bool) -> dict:
    KpiSettings.objects.update(business_hours_mttr=business_hours)
    kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 1), keys=["mean_time_to_resolution"])
    support = support_efficiency(period=period_of("month", date(2026, 3, 1)))
    rounded = {key: round(value, 4) for key, value in support["hours"].items() if key.startswith("mttr")}
    agents = {row["agent"]: (row["mttr_median"], round(row["mttr_p90"], 4)) for row in support["agents"]}
    return {"mean": round(support["totals"]["mean_time_to_resolution"]["value"], 4), "hours": rounded,
            "agents": agents, "business_hours": support["business_hours"]}


def test_support_percentiles_count_wall_clock_hours_by_default(weekend):
    # 3, 20, 66 h: median 20; p90 at rank 0.9 × 2 = 1.8: 20 + 0.8 × (66 − 20) = 56.8.
    assert _support_in_mode(False) == {
        "mean": round(89 / 3, 4), "business_hours": False,
        "hours": {"mttr_mean": round(89 / 3, 4), "mttr_median": 20.0, "mttr_p90": 56.8},
        # ann 3, 66 h: median 34.5, p90 3 + 0.9 × 63 = 59.7; bob 20 h alone.
        "agents": {"ann": (34.5, 59.7), "bob": (20.0, 20.0)}}


def test_support_percentiles_count_business_hours_in_that_mode(weekend):
    # 2, 3, 4 business hours: the KPI's mean 3.0 and the page's mean agree; median 3;
    # p90 3 + 0.8 × (4 − 3) = 3.8.
    assert _support_in_mode(True) == {
        "mean": 3.0, "business_hours": True,
        "hours": {"mttr_mean": 3.0, "mttr_median": 3.0, "mttr_p90": 3.8},
        # ann 2, 3 h: median 2.5, p90 2 + 0.9 × 1 = 2.9; bob 4 h alone.
        "agents": {"ann": (2.5, 2.9), "bob": (4.0, 4.0)}}


def test_support_page_says_which_hours_count(weekend, make_member):
    client = host_client(weekend, make_member(Role.VIEWER))
    with tenant_context(weekend):  # making the member left the workspace's schema
        _support_in_mode(False)
    page = client.get("/kpis/support/", MARCH).content.decode()
    assert "median 20.0 h · p90 56.8 h · wall-clock" in page and "Hours are wall-clock." in page
    with tenant_context(weekend):
        _support_in_mode(True)
    page = client.get("/kpis/support/", MARCH).content.decode()
    assert "median 3.0 h · p90 3.8 h · business hours" in page and ">3.0 h</p>" in page
    assert "Time to resolution counts business hours only" in page and "Hours are wall-clock." not in page
    assert "<td>2.5 h</td><td>2.9 h</td>" in page  # ann's median and p90
