"""Like-for-like comparisons (issue #10 part 2): on 5 December, December 1–5 is compared
with November 1–5, not the whole of November — a count KPI (mention volume), a rate KPI
(CSAT), one aggregated per period (customer retention, computed live over Nov 1–5) —
through recompute → snapshots → dashboard card, KPI page and API, values by hand.
Workspace time zone Europe/Paris; "today" is injected (``kpis.periods.local_today``)."""
import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings
from kpis.periods import period_of
from kpis.selectors.values import dashboard_cards, kpi_comparison
from kpis.services.compute import kpis_compute
from tenants.accounts.models import Role
from tests.helpers import api_key_client, host_client
from tests.kpis.helpers import LIKE_FOR_LIKE_ANSWERS as ANSWERS, load_into, recompute_finished
from tests.kpis.helpers import LIKE_FOR_LIKE_CUSTOMERS as CUSTOMERS
from tests.kpis.helpers import LIKE_FOR_LIKE_MENTIONS as MENTIONS

DEC_5 = date(2025, 12, 5)


DECEMBER = {"period": "month", "start": "2025-12-01", "end": "2025-12-31"}


@pytest.fixture
def today(monkeypatch):
    """Sets the workspaces' "today"; records the time zones it was asked for."""
    asked = []

    def set_today(day):
        monkeypatch.setattr("kpis.periods.local_today", lambda tz: asked.append(tz) or day)
        return asked

    set_today(DEC_5)
    return set_today


@pytest.fixture
def loaded(workspace, load):
    load("social_mentions", MENTIONS)
    load("survey_responses", ANSWERS)
    load("customers", CUSTOMERS)
    with tenant_context(workspace):
        kpis_compute(since=date(2025, 10, 1), until=date(2025, 12, 6))
    return workspace


def series(workspace, key, **query):
    return api_key_client(workspace, Role.VIEWER).get(f"/api/v1/kpis/{key}", {**DECEMBER, **query}).json()["series"]


def compared(point):
    return (point["value"] if point["value"] is None else round(point["value"], 2),
            None if point["previous_value"] is None else round(point["previous_value"], 2),
            point["previous_start"], point["previous_end"], point["period_complete"], point["comparison"])


def test_on_dec_5_the_api_compares_dec_1_5_with_nov_1_5(loaded, today):
    asked = today(DEC_5)
    [mentions] = series(loaded, "social_mention_volume")
    assert compared(mentions) == (9, 6, "2025-11-01", "2025-11-05", False, "Dec 1–5 vs Nov 1–5")
    [rate] = series(loaded, "csat")
    assert compared(rate) == (80.0, 40.0, "2025-11-01", "2025-11-05", False, "Dec 1–5 vs Nov 1–5")
    # Customer retention is aggregated per period, so Nov 1–5 is computed live: S (Nov 1) =
    # a, b, c = 3; E (Nov 6) = a, c, d = 3; N = d → (3 − 1)/3. December to date: S = a, d, e,
    # E = a, d, e, f, N = f → (4 − 1)/3.
    [retention] = series(loaded, "customer_retention_rate")
    assert compared(retention) == (100.0, 66.67, "2025-11-01", "2025-11-05", False, "Dec 1–5 vs Nov 1–5")
    assert set(asked) == {"Europe/Paris"}


def test_once_december_has_ended_it_compares_with_the_whole_of_november(loaded, today):
    today(date(2026, 1, 10))
    [mentions] = series(loaded, "social_mention_volume")
    assert compared(mentions) == (9, 47, "2025-11-01", "2025-11-30", True, "Dec 2025 vs Nov 2025")
    [rate] = series(loaded, "csat")
    assert compared(rate) == (80.0, 85.0, "2025-11-01", "2025-11-30", True, "Dec 2025 vs Nov 2025")
    # November: S = 3, E (Dec 1) = a, d, e = 3, N = d, e → (3 − 2)/3.
    [retention] = series(loaded, "customer_retention_rate")
    assert compared(retention)[:2] == (100.0, 33.33)


def test_the_series_compares_only_the_period_under_way_like_for_like(loaded, today):
    points = series(loaded, "social_mention_volume", start="2025-11-01")
    assert [compared(p) for p in points] == [
        (47, None, "2025-10-01", "2025-10-31", True, "Nov 2025 vs Oct 2025"),
        (9, 6, "2025-11-01", "2025-11-05", False, "Dec 1–5 vs Nov 1–5"),
    ]
    # Weeks: Mon 1 Dec – Fri 5 Dec vs Mon 24 – Fri 28 Nov (no mentions: nothing to compare).
    [week] = series(loaded, "social_mention_volume", period="week", start="2025-12-01", end="2025-12-05")
    assert compared(week) == (9, None, "2025-11-24", "2025-11-28", False, "Dec 1–5 vs Nov 24–28")
    # A custom range reaching past today: its 5 elapsed days vs the 5 days before the range.
    [live] = series(loaded, "csat", period="range", start="2025-12-01", end="2025-12-10")
    assert compared(live) == (80.0, None, "2025-11-21", "2025-11-25", False, "Dec 1–5 vs Nov 21–25")


def test_split_by_segment_each_value_compares_like_for_like(workspace, load, today):
    load("survey_responses", [{**row, "channel": "email"} for row in ANSWERS])
    with tenant_context(workspace):
        kpis_compute(since=date(2025, 11, 1), until=date(2025, 12, 6), keys=["csat"])
    [point] = series(workspace, "csat", segment="channel")
    assert (point["segment"], *compared(point)) == ("email", 80.0, 40.0, "2025-11-01", "2025-11-05", False,
                                                    "Dec 1–5 vs Nov 1–5")


def test_uncertainty_judges_the_change_on_the_like_for_like_figures(loaded, today):
    with tenant_context(loaded):
        KpiSettings.objects.update(min_sample_size=10)
        # 8 of 10 vs 4 of 10: Wilson SEs 100·half/1.96 with z²/n = 0.384146: half-widths
        # 1.416226·√(0.016 + 0.009604) = 0.226610 and 1.416226·√(0.024 + 0.009604) = 0.259621,
        # SEs 11.5620 and 13.2462; z = 40/√(133.68 + 175.46) = 2.275 → p = 0.023: significant.
        december = kpi_comparison(key="csat", period=period_of("month", DEC_5))
        assert (december["change_significant"], round(december["change"], 2)) == (True, 40.0)
        assert december["figures"][:2] == (8, 10) and december["previous_figures"][:2] == (4, 10)
        # Against the whole of November (34 of 40) the change, −5 points, would not be.
        whole = kpi_comparison(key="csat", period=period_of("month", DEC_5), today=date(2026, 1, 10))
        assert (whole["change_significant"], round(whole["change"], 2)) == (False, -5.0)


def test_kpi_comparison_is_digest_ready(loaded, today):
    with tenant_context(loaded):
        found = kpi_comparison(key="social_mention_volume", period=period_of("month", DEC_5))
    assert {k: found[k] for k in ("key", "value", "previous_value", "previous_start", "previous_end",
                                  "period_complete", "label", "change", "direction")} == {
        "key": "social_mention_volume", "value": 9, "previous_value": 6, "previous_start": date(2025, 11, 1),
        "previous_end": date(2025, 11, 5), "period_complete": False, "label": "Dec 1–5 vs Nov 1–5", "change": 3,
        "direction": "higher"}


def test_the_dashboard_cards_read_the_previous_span_in_a_constant_number_of_queries(loaded, today):
    with tenant_context(loaded):
        settings = KpiSettings.load()
        with CaptureQueriesContext(connection) as under_way:
            cards = {card["kpi"].key: card for card in dashboard_cards(period="month", anchor=DEC_5, settings=settings)}
        with CaptureQueriesContext(connection) as ended:
            dashboard_cards(period="month", anchor=DEC_5, settings=settings, today=date(2026, 1, 10))
    # The snapshots of every KPI; Nov 1–5 summed from the day snapshots of every additive
    # KPI at once; customer retention live. Revenue KPIs (whole months) read November's
    # snapshot. A month that has ended reads its snapshots only.
    assert (len(under_way), len(ended)) == (3, 1)
    card = cards["social_mention_volume"]
    assert (card["value"], card["previous"], card["change"], card["period_complete"], card["comparison"]) == (
        9, 6, 3, False, "Dec 1–5 vs Nov 1–5")
    assert (card["partial"], card["spark"][-2:]) == (True, [("2025-11-01", 47), ("2025-12-01", 9)])
    assert (cards["csat"]["previous"], cards["csat"]["change"]) == (40.0, 40.0)
    assert cards["net_revenue_retention"]["comparison"] == "Dec 1–5 vs Nov 1–30"


def test_the_dashboard_and_kpi_page_say_what_they_compare(loaded, make_member, today):
    client = host_client(loaded, make_member(Role.VIEWER))
    page = client.get("/").content.decode()  # today's month by default: December 2025
    assert "<strong>Dec 1–5 vs Nov 1–5</strong>: the period is under way" in page
    card = page.split('aria-labelledby="kpi-social_mention_volume"')[1].split("</article>")[0]
    assert '<span class="kpi-change kpi-better">+3<span class="visually-hidden"> (better)</span></span> ' \
           '<span class="kpi-vs">Dec 1–5 vs Nov 1–5</span>' in card
    assert "Dec 1–5 (to date)" in card and json.dumps("Dec 1–5 (to date)") in card and '"borderDash": [6, 4]' in card
    rate = page.split('aria-labelledby="kpi-csat"')[1].split("</article>")[0]
    assert "+40.0 pts" in rate and "Dec 1–5 vs Nov 1–5" in rate
    page = client.get("/kpis/csat/", {"period": "month", "date": "2025-12-05"}).content.decode()
    assert '<strong>Dec 1–5 vs Nov 1–5</strong> <span class="kpi-partial-badge">to date</span>' in page
    assert "Previous (Nov 1–5, the same days): 40.0%" in page
    assert "Dashed: Dec 1–5 (to date), the period under way." in page
    assert f'"name": {json.dumps("Dec 1–5 (to date)")}' in page  # the chart's data: JSON, ASCII-escaped
    row = page.split('class="kpi-partial-row"')[1].split("</tr>")[0]
    assert "1 Dec 2025 – 31 Dec 2025" in row and "40.0% <span class=\"muted\">(Nov 1–5)</span>" in row
    # A month that has ended reads as before.
    page = client.get("/kpis/csat/", {"period": "month", "date": "2025-11-05"}).content.decode()
    assert "<strong>Nov 2025 vs Oct 2025</strong>" in page and "kpi-partial-row" not in page


def test_the_social_support_and_active_users_pages_compare_like_for_like(loaded, make_member, today):
    client = host_client(loaded, make_member(Role.VIEWER))
    query = {"period": "month", "date": "2025-12-05"}
    social = client.get("/kpis/social/", query).content.decode()
    assert "previous 6 <span class=\"kpi-vs\">(Dec 1–5 vs Nov 1–5)</span>" in social
    # The daily chart stops at today (no zeros drawn for the days to come) and marks today.
    assert '"2025-12-05"' in social and '"2025-12-06"' not in social
    assert json.dumps("Own-brand mentions · Dec 5 (to date)") in social
    support = client.get("/kpis/support/", query).content.decode()
    assert "previous 40.0% <span class=\"kpi-vs\">(Dec 1–5 vs Nov 1–5)</span>" in support


@pytest.mark.worker
def test_a_recompute_in_the_worker_then_the_api_compares_like_for_like(committed_workspace, celery_worker, today):

    workspace = committed_workspace("kpilfl")
    load_into(workspace, "social_mentions", MENTIONS)
    load_into(workspace, "survey_responses", ANSWERS)
    client = api_key_client(workspace, Role.TEAM_LEAD)
    url = client.post("/api/v1/kpis/recompute").json()["url"]
    state = recompute_finished(client, url)
    assert state["status"] == "done"
    [mentions] = series(workspace, "social_mention_volume")
    assert compared(mentions) == (9, 6, "2025-11-01", "2025-11-05", False, "Dec 1–5 vs Nov 1–5")
    [rate] = series(workspace, "csat")
    assert compared(rate) == (80.0, 40.0, "2025-11-01", "2025-11-05", False, "Dec 1–5 vs Nov 1–5")


def test_the_openapi_schema_declares_every_field_of_a_series_point(loaded, today):
    from kpis.api.series import SeriesPointSerializer

    [point] = series(loaded, "csat")
    assert set(point) == set(SeriesPointSerializer().fields)
    schema = api_key_client(loaded, Role.VIEWER).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    fields = schema["components"]["schemas"]["SeriesPoint"]["properties"]
    assert {"previous_start", "previous_end", "period_complete", "comparison"} <= set(fields)
    assert "like for like" in fields["previous_value"]["description"]


def test_the_support_page_reads_the_previous_span_in_a_constant_number_of_queries(loaded, today):
    from kpis.selectors.support import support_efficiency

    with tenant_context(loaded):
        settings = KpiSettings.load()
        with CaptureQueriesContext(connection) as ended:
            support_efficiency(period=period_of("month", DEC_5), settings=settings, today=date(2026, 1, 10))
        with CaptureQueriesContext(connection) as under_way:
            found = support_efficiency(period=period_of("month", DEC_5), settings=settings, today=DEC_5)
    # Snapshots of the six support KPIs, whole and per agent, abandonment by channel and by
    # channel kind (4), the live hours (1), the open conversations per agent (1); under way,
    # one previous-span query per those 4.
    assert (len(ended), len(under_way)) == (6, 10)
    assert (found["totals"]["csat"]["previous_value"], found["totals"]["csat"]["comparison"]) == (40.0, "Dec 1–5 vs Nov 1–5")
