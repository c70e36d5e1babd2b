"""Net and gross revenue retention on a small fixture, every expected value computed by
hand. Start MRR = the month before the period; end MRR = the period's last month."""
from datetime import date

import pytest

from kpis.models import KpiSnapshot
from kpis.registry import KPIS
from tests.kpis.helpers import value

NRR, GRR = "net_revenue_retention", "gross_revenue_retention"

CUSTOMERS = [
    {"external_id": "A", "signed_up_at": "2025-06-01T10:00", "plan": "enterprise"},
    {"external_id": "B", "signed_up_at": "2025-06-01T10:00", "plan": "basic"},
    {"external_id": "C", "signed_up_at": "2025-06-01T10:00", "plan": "basic"},
    {"external_id": "D", "signed_up_at": "2025-06-01T10:00", "plan": "pro"},
    {"external_id": "E", "signed_up_at": "2026-03-01T10:00", "plan": "pro"},
    {"external_id": "F", "signed_up_at": "2025-06-01T10:00", "plan": "basic"},
    {"external_id": "T", "signed_up_at": "2025-06-01T10:00", "plan": "pro", "is_test": "true"},
]


def mrr(customer, month, amount, product="core"):
    return {"customer_external_id": customer, "month": month, "mrr": str(amount), "product": product}


REVENUE = [
    # December 2025, the start of Q1 2026.
    mrr("A", "2025-12", 80), mrr("B", "2025-12", 100),
    # February 2026, the start of March.
    mrr("A", "2026-02", 100),  # March: core 100 → 150 (upsell 50), addon 0 → 20 (cross-sell 20)
    mrr("B", "2026-02", 100),  # 100 → 60: downgrade 40
    mrr("B", "2026-02", 0, "addon"),  # a row at 0 is no revenue: 0 → 10 is cross-sell 10
    mrr("C", "2026-02", 50), mrr("C", "2026-02", 30, "addon"),  # core kept, addon 30 → 0: cancellation 30
    mrr("D", "2026-02", 80),  # 80 → nothing: cancellation 80
    mrr("F", "2026-02", 0),  # 0 at the start: not in the cohort (its March 40 is not cross-sell)
    mrr("T", "2026-02", 1000),  # test customer
    # March 2026.
    mrr("A", "2026-03", 150), mrr("A", "2026-03", 20, "addon"),
    mrr("B", "2026-03", 60), mrr("B", "2026-03", 10, "addon"),
    mrr("C", "2026-03", 50),
    mrr("E", "2026-03", 200),  # new in March: not in the cohort
    mrr("F", "2026-03", 40),
    mrr("T", "2026-03", 5000),
]


@pytest.fixture
def snapshot(load, compute, snapshot):
    load("customers", CUSTOMERS)
    load("revenue", REVENUE)
    compute(date(2025, 11, 1), date(2026, 6, 1), NRR, GRR)
    return snapshot


def test_formulas_without_a_database():
    assert round(KPIS[NRR].value(290, 360), 4) == 80.5556
    assert KPIS[GRR].value(90, 100) == 90.0
    assert KPIS[NRR].value(0, 0) is None
    assert KPIS[NRR].period_kinds == KPIS[GRR].period_kinds == ("month", "quarter", "year")


def test_net_and_gross_revenue_retention_month(snapshot):
    march = date(2026, 3, 1)
    # Cohort: A, B, C, D (start MRR > 0); R = 100 + 100 + 80 + 80 = 360. Upsell 50 (A core),
    # cross-sell 20 (A addon) + 10 (B addon), downgrade 40 (B core), cancellations 30 (C
    # addon) + 80 (D).
    nrr = snapshot(NRR, "month", march)
    assert (nrr.numerator, nrr.denominator) == (290, 360)  # 360 + 50 + 30 − 40 − 110 = Σ end MRR
    assert round(nrr.value, 4) == round(290 / 360 * 100, 4)
    assert nrr.extra == {"start_mrr": 360.0, "upsell": 50.0, "cross_sell": 30.0, "downgrades": 40.0,
                         "cancellations": 110.0}
    grr = snapshot(GRR, "month", march)
    assert (grr.numerator, grr.denominator) == (210, 360)  # 360 − 40 − 110
    assert grr.extra == nrr.extra


def test_cross_sell_versus_upsell_and_grr_never_above_100(snapshot):
    march = date(2026, 3, 1)
    # A alone (enterprise): 100 → 150 on core is upsell, the new addon 20 is cross-sell.
    enterprise = snapshot(NRR, "month", march, "plan", "enterprise")
    assert (enterprise.value, enterprise.extra["upsell"], enterprise.extra["cross_sell"]) == (170.0, 50.0, 20.0)
    assert snapshot(GRR, "month", march, "plan", "enterprise").value == 100.0  # growth never lifts GRR
    # basic: B and C (F is not in the cohort), R = 180; cross-sell 10, downgrade 40,
    # cancellation 30.
    assert value(snapshot(NRR, "month", march, "plan", "basic")) == round(120 / 180 * 100, 4)
    assert value(snapshot(GRR, "month", march, "plan", "basic")) == round(110 / 180 * 100, 4)
    assert snapshot(NRR, "month", march, "plan", "pro").value == 0.0  # D cancelled; E is new


def test_quarter_and_year(snapshot):
    # Q1 2026: December 2025 → March 2026. Cohort A (80), B (100), R = 180: upsell A core 70,
    # cross-sell A addon 20 and B addon 10, downgrade B core 40.
    q1 = snapshot(NRR, "quarter", date(2026, 1, 1))
    assert (q1.numerator, q1.denominator) == (240, 180)
    assert value(snapshot(GRR, "quarter", date(2026, 1, 1))) == round(140 / 180 * 100, 4)
    # 2026 is measured to the dataset's last month (March), as Q1 is.
    year = snapshot(NRR, "year", date(2026, 1, 1))
    assert (year.numerator, year.denominator) == (240, 180)


def test_no_value_without_a_start_cohort_or_for_days_and_weeks(workspace, snapshot):
    assert snapshot(NRR, "month", date(2025, 11, 1)) is None  # no revenue in October 2025
    assert snapshot(NRR, "month", date(2026, 2, 1)) is None  # no revenue in January 2026
    assert snapshot(NRR, "month", date(2026, 4, 1)) is None  # after the last month of data
    # January 2026: A and B from December have no January rows: by the letter, all cancelled.
    assert snapshot(GRR, "month", date(2026, 1, 1)).value == 0.0
    assert not KpiSnapshot.objects.filter(kpi__in=[NRR, GRR], period_kind__in=["day", "week"]).exists()
