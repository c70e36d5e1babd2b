"""Event KPIs (conversion rate, checkout abandonment, DAU / WAU / MAU, stickiness) on small
fixtures, every expected value computed by hand (workspace time zone Europe/Paris, UTC+2 in
summer: 00:30 local is 22:30 UTC the day before)."""
from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings
from kpis.registry import KPIS
from kpis.services.compute import kpis_recompute_touched
from tests.kpis.helpers import event, value

CUSTOMERS = [
    {"external_id": "p1", "signed_up_at": "2025-01-01T10:00", "plan": "pro"},
    {"external_id": "p2", "signed_up_at": "2025-01-01T10:00", "plan": "basic"},
    {"external_id": "pt", "signed_up_at": "2025-01-01T10:00", "plan": "pro", "is_test": "true"},
]


def test_formulas_without_a_database():
    assert KPIS["conversion_rate"].value(4_000, 200_000) == 2.0
    assert round(KPIS["checkout_abandonment_rate"].value(3 - 2, 3), 4) == 33.3333  # (1 − 2 / 3) × 100
    assert KPIS["dau"].value(5, 30) == KPIS["wau"].value(5, 30) == KPIS["mau"].value(5, 30) == 5 / 30  # daily mean
    assert KPIS["stickiness"].value(5, 80) == 6.25  # Σ DAU / Σ MAU × 100
    for key in ("conversion_rate", "checkout_abandonment_rate", "dau", "wau", "mau", "stickiness"):
        assert KPIS[key].value(0, 0) is None


# ------------------------------------------------------------ conversion and checkouts

EVENTS = [
    event("v1", "p1", "2026-03-02T10:00"),
    event("v2", "p1", "2026-03-02T11:00"),
    event("v3", "p2", "2026-03-03T10:00"),
    event("v4", "p2", "2026-03-31T23:30"),  # 23:30 local on 31 March: March
    event("v5", "p2", "2026-04-01T00:30"),  # 00:30 local on 1 April (22:30 UTC on 31 March): April
    event("v6", "p1", "2026-03-05T10:00"),
    event("vt", "pt", "2026-03-02T10:00"),  # test customer
    event("c1", "p1", "2026-03-02T10:03", "checkout_started"),
    event("c2", "p2", "2026-03-03T10:01", "checkout_started"),
    event("c3", "p2", "2026-03-31T23:40", "checkout_started"),
    event("b1", "p1", "2026-03-02T10:05", "purchase"),
    event("b2", "p2", "2026-03-31T23:45", "purchase"),
    event("bt", "pt", "2026-03-02T10:05", "purchase"),  # test customer
    event("g1", "p1", "2026-03-05T10:00", "pageview"),  # not a visit by default
]


@pytest.fixture
def conversions(load, compute):
    load("customers", CUSTOMERS)
    load("events", EVENTS)
    compute(date(2026, 2, 1), date(2026, 5, 1), "conversion_rate", "checkout_abandonment_rate")


def test_conversion_rate(conversions, snapshot):
    march = date(2026, 3, 1)
    # March visits v1 v2 v3 v4 v6 (vt: test customer), purchases b1 b2: 2 / 5.
    month = snapshot("conversion_rate", "month", march)
    assert (month.numerator, month.denominator, month.value) == (2, 5, 40.0)
    assert value(snapshot("conversion_rate", "day", date(2026, 3, 31))) == 100.0  # v4, b2
    assert value(snapshot("conversion_rate", "month", date(2026, 4, 1))) == 0.0  # v5 is April's
    assert value(snapshot("conversion_rate", "month", march, "plan", "pro")) == round(1 / 3 * 100, 4)  # b1 / v1 v2 v6
    assert value(snapshot("conversion_rate", "month", march, "plan", "basic")) == 50.0  # b2 / v3 v4
    assert snapshot("conversion_rate", "month", date(2026, 2, 1)) is None  # no events: no value


def test_conversion_event_names_are_settings(workspace, compute, conversions, snapshot):
    with tenant_context(workspace):
        KpiSettings.objects.update(visit_events=["visit", "pageview"])
    compute(date(2026, 3, 1), date(2026, 4, 1), "conversion_rate")
    assert value(snapshot("conversion_rate", "month", date(2026, 3, 1))) == round(2 / 6 * 100, 4)  # g1 counts


def test_checkout_abandonment_rate(conversions, snapshot):
    # March: initiated c1 c2 c3, completed b1 b2 → (1 − 2 / 3) × 100.
    month = snapshot("checkout_abandonment_rate", "month", date(2026, 3, 1))
    assert (month.numerator, month.denominator, month.extra) == (1, 3, {"completed": 2.0})
    assert round(month.value, 4) == 33.3333
    assert value(snapshot("checkout_abandonment_rate", "day", date(2026, 3, 3))) == 100.0  # c2, no purchase
    assert value(snapshot("checkout_abandonment_rate", "day", date(2026, 3, 31))) == 0.0  # c3, b2


def test_conversion_seed_example(workspace, compute, snapshot):
    # kpis.md: 4,000 purchases over 200,000 visits = 2%, spread over May 2026.
    with tenant_context(workspace), connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO ingestion_event (external_id, user_external_id, name, occurred_at, properties, session_id,
                                         extra, imported_at)
            SELECT 'seed-' || i, 'user-' || (i % 5000), CASE WHEN i <= 4000 THEN 'purchase' ELSE 'visit' END,
                   timestamptz '2026-05-01 00:00+02' + (i % 31) * interval '1 day' + (i % 86400) * interval '1 second',
                   '{}', '', '{}', now()
            FROM generate_series(1, 204000) AS i""")
    compute(date(2026, 5, 1), date(2026, 6, 1), "conversion_rate")
    may = snapshot("conversion_rate", "month", date(2026, 5, 1))
    assert (may.numerator, may.denominator, may.value) == (4_000, 200_000, 2.0)


# ------------------------------------------------------------------- active users

ACTIVITY = [
    event("a1", "p1", "2026-04-01T10:00"),
    event("a2", "p1", "2026-04-03T10:00"),
    event("a3", "p1", "2026-04-10T10:00", "purchase"),  # any event makes its user active
    event("a4", "p2", "2026-04-03T09:00"),
    event("a5", "p2", "2026-04-03T18:00"),  # twice on one day: one active user
    event("a6", "p2", "2026-05-02T10:00"),
    event("a7", "u3", "2026-04-09T00:30"),  # no customer record; 8 April in UTC, 9 April locally
    event("a8", "pt", "2026-04-05T10:00"),  # test customer
]


@pytest.fixture
def active(load, compute):
    load("customers", CUSTOMERS)
    load("events", ACTIVITY)
    compute(date(2026, 3, 1), date(2026, 6, 1), "dau", "wau", "mau", "stickiness")


def test_daily_values(active, snapshot):
    day = lambda key, d: value(snapshot(key, "day", d))  # noqa: E731
    assert [day("dau", date(2026, 4, d)) for d in (1, 2, 3, 5, 9, 10)] == [1, 0, 2, 0, 1, 1]
    # WAU: the 7 days ending on the day. 8 April: p1, p2 (3 April); 9 April: + u3; 10 April:
    # p2's 3 April has left the window; 16 April: p1 (10 April) only; 17 April: nobody.
    assert [day("wau", date(2026, 4, d)) for d in (8, 9, 10, 16, 17)] == [2, 3, 2, 1, 0]
    # MAU: the 30 days ending on the day. p1 counts until 9 May (10 April + 29), u3 until 8 May,
    # p2 until 31 May (2 May + 29).
    assert [day("mau", date(2026, 4, d)) for d in (1, 2, 3, 8, 9, 30)] == [1, 1, 2, 2, 3, 3]
    assert [day("mau", date(2026, 5, d)) for d in (8, 9, 10, 31)] == [3, 2, 1, 1]
    assert day("stickiness", date(2026, 4, 3)) == 100.0  # 2 / 2
    # Before any activity, and once the last active user has left the 30-day window: no value.
    assert snapshot("mau", "day", date(2026, 3, 31)) is None
    assert snapshot("dau", "month", date(2026, 3, 1)) is None


def test_longer_periods_average_the_days(active, snapshot):
    april = date(2026, 4, 1)
    # April (30 days): Σ DAU = 1 + 2 + 1 + 1 = 5; Σ WAU = 1 + 1 + 6 × 2 + 3 + 6 × 2 + 1 = 30;
    # Σ MAU = 1 + 1 + 6 × 2 + 22 × 3 = 80.
    dau = snapshot("dau", "month", april)
    assert (dau.numerator, dau.denominator) == (5, 30)
    assert value(snapshot("wau", "month", april)) == 1.0
    assert value(snapshot("mau", "month", april)) == round(80 / 30, 4)
    stickiness = snapshot("stickiness", "month", april)
    assert (stickiness.numerator, stickiness.denominator, stickiness.value) == (5, 80, 6.25)
    # May (31 days): Σ DAU = 1; Σ MAU = 8 × 3 + 2 + 22 × 1 = 48.
    assert value(snapshot("stickiness", "month", date(2026, 5, 1))) == round(1 / 48 * 100, 4)
    # Week of Monday 6 April: WAU 2, 2, 2, 3, 2, 2, 2.
    assert value(snapshot("wau", "week", date(2026, 4, 6))) == round(15 / 7, 4)


def test_active_users_by_plan(active, snapshot):
    april = date(2026, 4, 1)
    # pro = p1 (the test customer's event is left out): active 1, 3 and 10 April, in the MAU
    # every day of April.
    assert value(snapshot("mau", "month", april, "plan", "pro")) == 1.0
    assert value(snapshot("stickiness", "month", april, "plan", "pro")) == 10.0  # 3 / 30
    assert value(snapshot("dau", "day", date(2026, 4, 9), "plan", "")) == 1.0  # u3, no customer


def test_an_import_recomputes_the_following_days_windows(workspace, load, active, snapshot):
    # p1 comes back on 15 May: the touched-days recompute reaches the 29 days after it.
    load("events", [event("a9", "p1", "2026-05-15T10:00")])
    with tenant_context(workspace):
        kpis_recompute_touched()
    assert value(snapshot("mau", "day", date(2026, 5, 20))) == 2.0  # p2 and p1 (it was p2 alone)
    assert value(snapshot("mau", "day", date(2026, 6, 13))) == 1.0  # 15 May + 29: p1
    assert snapshot("mau", "day", date(2026, 6, 14)) is None
