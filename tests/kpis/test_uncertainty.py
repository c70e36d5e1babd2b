"""Confidence intervals, significance of the change and small samples (issue #10 part 3)
through recompute → snapshots → dashboard card, KPI page and API, with values by hand."""
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings
from kpis.selectors.values import dashboard_cards
from kpis.services.compute import kpis_compute
from tenants.accounts.models import Role
from tests.helpers import api_key_client, host_client
from tests.kpis.helpers import RESOLVED, SURVEYS, load_into, recompute_finished


MARCH = {"period": "month", "start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def loaded(workspace, load):
    load("survey_responses", SURVEYS)
    load("conversations", RESOLVED)
    with tenant_context(workspace):
        KpiSettings.load()
        KpiSettings.objects.update(targets={"mean_time_to_resolution": {"target": 10}})
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 4, 1))
    return workspace


def series(workspace, key, **query):
    return api_key_client(workspace, Role.VIEWER).get(f"/api/v1/kpis/{key}", {**MARCH, **query}).json()["series"]


def rounded(point):
    return (round(point["value"], 2), round(point["ci_low"], 2), round(point["ci_high"], 2), point["n"],
            point["small_sample"], point["change_significant"])


def test_nps_interval_and_a_significant_change(loaded):
    # n = 75: p = 40.75/78, d = 25.75/78, centre 19.23, SE 10.2255 → [−0.81, 39.27].
    # February: p = 10.75/78, d = 55.75/78, p + d − (p − d)² = 0.852564 − 0.332840, SE =
    # 100·√(0.519724/78) = 8.1628. z = (20 − (−60))/√(10.2255² + 8.1628²) = 80/13.084 = 6.1.
    [march] = series(loaded, "nps")
    assert rounded(march) == (20.0, -0.81, 39.27, 75, False, True)
    # A custom range is computed live from the data: the same figures, the same interval.
    [live] = series(loaded, "nps", period="range")
    assert rounded(live)[:5] == rounded(march)[:5]


def test_csat_wilson_interval_and_a_change_that_is_not_significant(loaded):
    # 24 of 30: z²/n = 0.128049, centre (0.8 + 0.064024)/1.128049 = 0.765946, half-width
    # 1.959964/1.128049·√(0.16/30 + 3.841459/3600) = 1.737482·0.080003 = 0.139003 → [62.69, 90.49]%.
    # February 21 of 30: half-width 1.737482·√(0.007 + 0.001067) = 0.156058. SEs 7.0921 and
    # 7.9624: z = 10/√(50.30 + 63.40) = 0.94 → p = 0.35, not significant.
    [march] = series(loaded, "csat")
    assert rounded(march) == (80.0, 62.69, 90.49, 30, False, False)


def test_a_small_sample_has_no_status_and_no_significance(loaded):
    # Hours 1, 2, 6: Σx = 9, Σx² = 41, s² = (41 − 27)/2 = 7, SE = √(7/3) = 1.5275,
    # t(0.975, 2) = 4.3027 → 3 ± 6.5724 → [−3.57, 9.57]; n = 3 < 30: too few to judge.
    [march] = series(loaded, "mean_time_to_resolution")
    assert rounded(march) == (3.0, -3.57, 9.57, 3, True, None)
    assert (march["target"], march["status"]) == (10, None)  # 3 h would be on target: it does not fire
    with tenant_context(loaded):
        KpiSettings.objects.update(min_sample_size=3)
    [march] = series(loaded, "mean_time_to_resolution")
    assert (march["small_sample"], march["status"]) == (False, "on_target")


def test_counts_have_no_interval_and_are_never_too_few(loaded):
    with tenant_context(loaded):
        cards = {card["kpi"].key: card for card in dashboard_cards(period="month", anchor=date(2026, 3, 1))}
    assert {k: cards["social_mention_volume"][k] for k in ("ci_low", "ci_high", "n", "small_sample",
                                                            "change_significant")} == {
        "ci_low": None, "ci_high": None, "n": None, "small_sample": False, "change_significant": None}
    assert (round(cards["nps"]["ci_low"], 2), cards["nps"]["change_significant"]) == (-0.81, True)


def test_the_dashboard_and_kpi_page_show_the_interval_and_grey_small_samples(loaded, make_member):
    client = host_client(loaded, make_member(Role.VIEWER))
    page = client.get("/", {"period": "month", "date": "2026-03-15"}).content.decode()
    nps = page.split('aria-labelledby="kpi-nps"')[1].split("</article>")[0]
    assert "95% CI −0.8 to +39.3" in nps and ">significant</span>" in nps
    csat = page.split('aria-labelledby="kpi-csat"')[1].split("</article>")[0]
    assert "95% CI 62.7–90.5%" in csat and ">not significant</span>" in csat
    mttr = page.split('aria-labelledby="kpi-mean_time_to_resolution"')[1].split("</article>")[0]
    assert 'class="kpi-value muted">3.0 h' in mttr and "n = 3, too few to judge" in mttr
    assert "on target" not in mttr and "target 10.0 h" in mttr
    page = client.get("/kpis/mean_time_to_resolution/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert 'class="kpi-value muted">3.0 h' in page and "n = 3, too few to judge" in page


@pytest.mark.worker
def test_a_recompute_in_the_worker_writes_the_figures_of_the_interval(committed_workspace, celery_worker):

    workspace = committed_workspace("kpici")
    load_into(workspace, "conversations", RESOLVED)
    client = api_key_client(workspace, Role.TEAM_LEAD)
    url = client.post("/api/v1/kpis/recompute").json()["url"]
    state = recompute_finished(client, url)
    assert state["status"] == "done"
    [march] = series(workspace, "mean_time_to_resolution")
    assert rounded(march) == (3.0, -3.57, 9.57, 3, True, None)
