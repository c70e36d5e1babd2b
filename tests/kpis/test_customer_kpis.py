"""Customer KPIs (customer retention, activation, D1/D7/D30 retention) on small fixtures,
every expected value computed by hand (workspace time zone Europe/Paris: UTC+1 in winter,
UTC+2 in summer)."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings
from kpis.registry import KPIS
from tests.kpis.helpers import customer, event, value


def test_formulas_without_a_database():
    assert KPIS["customer_retention_rate"].value(4 - 3, 4) == 25.0  # (E − N) / S × 100
    assert KPIS["customer_retention_rate"].value(0, 0) is None  # nobody at period start
    assert KPIS["activation_rate"].value(3, 5) == 60.0
    for key in ("retention_d1", "retention_d7", "retention_d30"):
        assert KPIS[key].value(1, 4) == 25.0
        assert KPIS[key].value(0, 0) is None


# ---------------------------------------------------------------- customer retention rate

CUSTOMERS = [
    customer("a", "2025-12-01T10:00", "pro"),
    customer("b", "2025-12-15T10:00", "basic", churned_at="2026-03-10T10:00"),
    customer("c", "2026-03-05T10:00", "pro"),
    # Churned at 23:30 local on 31 March: gone before the end of March.
    customer("d", "2026-02-01T10:00", "basic", churned_at="2026-03-31T23:30"),
    # Signed up at 23:30 local on 31 March (21:30 UTC): acquired in March.
    customer("e", "2026-03-31T23:30", "pro"),
    # Churned exactly at the end of March (midnight local): still active at the end of March.
    customer("f", "2026-01-10T10:00", churned_at="2026-04-01T00:00"),
    # Acquired and churned within March.
    customer("g", "2026-03-02T10:00", "pro", churned_at="2026-03-20T10:00"),
    customer("t", "2025-12-01T10:00", "pro", is_test="true"),  # left out everywhere
]


@pytest.fixture
def retention(load, compute, snapshot):
    load("customers", CUSTOMERS)
    compute(date(2025, 11, 1), date(2026, 5, 1), "customer_retention_rate")
    return lambda kind, start, *segment: snapshot("customer_retention_rate", kind, start, *segment)


def test_customer_retention_rate_month(retention):
    # March: S (active on 1 March) = a, b, d, f; E (active on 1 April) = a, c, e, f (f churned
    # exactly at the boundary, d half an hour before it); N (acquired in March) = c, e, g.
    march = retention("month", date(2026, 3, 1))
    assert (march.numerator, march.denominator, march.value) == (1, 4, 25.0)  # (4 − 3) / 4
    assert march.extra == {"start_customers": 4.0, "end_customers": 4.0, "acquired": 3.0}
    # February: S = a, b, f; E = a, b, d, f; N = d → (4 − 1) / 3.
    assert value(retention("month", date(2026, 2, 1))) == 100.0


def test_customer_retention_rate_other_periods(retention):
    # Day 31 March: S = a, c, d, f (b and g churned earlier); E = a, c, e, f; N = e → 3 / 4.
    assert value(retention("day", date(2026, 3, 31))) == 75.0
    # Week of Monday 30 March: S = a, c, d, f; E (6 April) = a, c, e; N = e → (3 − 1) / 4.
    assert value(retention("week", date(2026, 3, 30))) == 50.0
    # Q1: S (1 January) = a, b; E = a, c, e, f; N = c, d, e, f, g → (4 − 5) / 2: the formula
    # as written goes below 0 when more new customers churn than old ones stay.
    assert value(retention("quarter", date(2026, 1, 1))) == -50.0


def test_customer_retention_rate_by_plan(retention):
    march = date(2026, 3, 1)
    # pro: S = a; E = a, c, e; N = c, e, g → (3 − 3) / 1. basic: S = b, d; E = none; N = none.
    assert value(retention("month", march, "plan", "pro")) == 0.0
    assert value(retention("month", march, "plan", "basic")) == 0.0
    assert value(retention("month", march, "plan", "")) == 100.0  # f, without a plan


def test_customer_retention_rate_without_customers_at_start(retention):
    # November 2025: nobody yet, no snapshot. December 2025: a and b acquired but nobody at
    # the start, so the denominator is empty: no value, never 0.
    assert retention("month", date(2025, 11, 1)) is None
    december = retention("month", date(2025, 12, 1))
    assert (december.denominator, december.value) == (0, None)
    # The test customer t (signed up 1 December) is not among those at the start of January.
    assert retention("month", date(2026, 1, 1)).denominator == 2


def test_customer_retention_rate_has_no_value_for_periods_not_yet_begun(workspace, load, compute, snapshot):
    today = datetime.now(ZoneInfo(workspace.time_zone)).date()
    load("customers", [customer("x", f"{today - timedelta(days=40)}T10:00")])
    compute(today - timedelta(days=2), today + timedelta(days=3), "customer_retention_rate")
    assert value(snapshot("customer_retention_rate", "day", today)) == 100.0  # x stays
    assert snapshot("customer_retention_rate", "day", today + timedelta(days=1)) is None


# --------------------------------------------------------------------------- activation

SIGN_UPS = [
    customer("u1", "2026-06-01T10:00", "pro"),
    customer("u2", "2026-06-01T12:00", "pro"),
    customer("u3", "2026-06-02T09:00", "basic"),
    customer("u4", "2026-06-02T09:00", "basic"),
    customer("u5", "2026-06-01T10:00", "pro", is_test="true"),
    # 23:30 local on 30 June: a June sign-up, activated the next (local) day.
    customer("u6", "2026-06-30T23:30", "pro"),
]
ACTIVATIONS = [
    event("a1", "u1", "2026-06-08T10:00", "activated"),  # exactly 7 days after: in the window
    event("a2", "u2", "2026-06-08T12:00:01", "activated"),  # 1 second too late
    event("a3", "u3", "2026-06-02T08:59", "activated"),  # before signing up
    event("a4", "u3", "2026-06-03T10:00", "visit"),  # not an activation event
    event("a5", "u4", "2026-06-02T09:00", "activated"),  # at the sign-up instant
    event("a6", "u5", "2026-06-02T10:00", "activated"),  # test customer
    event("a7", "u6", "2026-07-01T01:00", "activated"),
]


@pytest.fixture
def activation(load, compute, snapshot):
    load("customers", SIGN_UPS)
    load("events", ACTIVATIONS)
    compute(date(2026, 6, 1), date(2026, 8, 1), "activation_rate")
    return lambda kind, start, *segment: snapshot("activation_rate", kind, start, *segment)


def test_activation_rate(activation):
    # June: new users u1, u2, u3, u4, u6 (u5 is a test customer); activated u1, u4, u6.
    june = activation("month", date(2026, 6, 1))
    assert (june.numerator, june.denominator, june.value) == (3, 5, 60.0)
    assert value(activation("day", date(2026, 6, 1))) == 50.0  # u1 of u1, u2
    assert value(activation("day", date(2026, 6, 2))) == 50.0  # u4 of u3, u4
    assert value(activation("day", date(2026, 6, 30))) == 100.0  # u6, by its local sign-up day
    assert value(activation("month", date(2026, 6, 1), "plan", "pro")) == round(2 / 3 * 100, 4)  # u1, u6 of u1, u2, u6
    assert value(activation("month", date(2026, 6, 1), "plan", "basic")) == 50.0
    assert activation("month", date(2026, 7, 1)) is None  # no sign-ups in July


def test_activation_window_setting(workspace, compute, activation):
    with tenant_context(workspace):
        KpiSettings.objects.update(activation_window_days=8)
    compute(date(2026, 6, 1), date(2026, 7, 1), "activation_rate")
    assert value(activation("month", date(2026, 6, 1))) == 80.0  # u2 now activated in time


# ----------------------------------------------------------------- D1 / D7 / D30 retention

COHORTS = [
    customer("r1", "2026-09-01T10:00", "pro"),
    # 23:30 local on 1 September (21:30 UTC): day d is 1 September.
    customer("r2", "2026-09-01T23:30", "pro"),
    customer("r3", "2026-09-01T08:00", "basic"),
    customer("r4", "2026-09-01T10:00", "pro", is_test="true"),
    customer("r5", "2026-09-03T12:00", "basic"),
]
COHORT_EVENTS = [
    event("e1", "r1", "2026-09-02T10:00"),  # d + 1
    event("e2", "r1", "2026-09-08T10:00"),  # d + 7
    event("e3", "r1", "2026-10-01T10:00"),  # d + 30
    event("e4", "r2", "2026-09-02T23:59"),  # d + 1 (21:59 UTC)
    event("e5", "r2", "2026-09-09T00:30"),  # 8 September 22:30 UTC but 9 September locally: d + 8
    event("e6", "r3", "2026-09-01T18:00"),  # active on day d only
    event("e7", "r4", "2026-09-02T10:00"),  # test customer
    event("e8", "r5", "2026-09-04T00:10"),  # d + 1
    event("e9", "r5", "2026-10-03T09:00"),  # d + 30
]


def test_retention_cohorts(load, compute, snapshot):
    load("customers", COHORTS)
    load("events", COHORT_EVENTS)
    compute(date(2026, 9, 1), date(2026, 10, 1), "retention_d1", "retention_d7", "retention_d30")
    september, first = date(2026, 9, 1), date(2026, 9, 1)
    # Cohort of 1 September: r1, r2, r3. D1: r1, r2. D7: r1 (r2 came back on d + 8). D30: r1.
    assert value(snapshot("retention_d1", "day", first)) == round(2 / 3 * 100, 4)
    assert value(snapshot("retention_d7", "day", first)) == round(1 / 3 * 100, 4)
    assert value(snapshot("retention_d30", "day", first)) == round(1 / 3 * 100, 4)
    # Cohort of 3 September: r5, back on d + 1 and d + 30. September: Σ retained / Σ cohort.
    d1 = snapshot("retention_d1", "month", september)
    assert (d1.numerator, d1.denominator, d1.value) == (3, 4, 75.0)
    assert value(snapshot("retention_d7", "month", september)) == 25.0
    assert value(snapshot("retention_d30", "month", september)) == 50.0
    assert value(snapshot("retention_d1", "month", september, "plan", "pro")) == 100.0  # r1, r2
    assert value(snapshot("retention_d30", "month", september, "plan", "basic")) == 50.0  # r5 of r3, r5
    assert snapshot("retention_d1", "day", date(2026, 9, 2)) is None  # nobody signed up


def test_retention_leaves_out_days_not_yet_reached(workspace, load, compute, snapshot):
    today = datetime.now(ZoneInfo(workspace.time_zone)).date()
    yesterday, ten_days_ago = today - timedelta(days=1), today - timedelta(days=10)
    load("customers", [customer("n1", f"{yesterday}T10:00"), customer("n2", f"{ten_days_ago}T10:00")])
    load("events", [event("x1", "n1", f"{today}T00:00:01")])
    compute(today - timedelta(days=40), today + timedelta(days=1), "retention_d1", "retention_d7",
            "retention_d30")
    # Yesterday's cohort: d + 1 is today, counted; d + 7 and d + 30 are after today, left out.
    assert value(snapshot("retention_d1", "day", yesterday)) == 100.0
    assert snapshot("retention_d7", "day", yesterday) is None
    # Ten days ago: d + 7 is reached (n2 was not back), d + 30 is not.
    assert value(snapshot("retention_d7", "day", ten_days_ago)) == 0.0
    assert snapshot("retention_d30", "day", ten_days_ago) is None
    # A month's D7 counts only the reached days: n2, never n1 (its d + 7 is after today).
    d7 = snapshot("retention_d7", "month", ten_days_ago.replace(day=1))
    assert (d7.numerator, d7.denominator) == (0, 1)
