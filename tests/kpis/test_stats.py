"""The uncertainty formulas of kpis/stats.py against values computed by hand."""
import pytest

from kpis.stats import change_significant, nps_interval, t_interval, t_quantile, wilson_interval


def test_nps_adjusted_wald_40_promoters_10_passives_25_detractors():
    # n = 75, adjusted n = 78: p = 40.75/78 = 0.522436, d = 25.75/78 = 0.330128;
    # centre 100·15/78 = 19.23; p + d − (p − d)² = 0.852564 − 0.036982 = 0.815582;
    # SE = 100·√(0.815582/78) = 10.2255; ±1.96·SE = ±20.04 → [−0.81, 39.27].
    interval = nps_interval(40, 25, 75)
    assert (round(interval.low, 2), round(interval.high, 2), round(interval.se, 2), interval.n) == (-0.81, 39.27, 10.23, 75)


def test_nps_interval_is_clipped_and_needs_responses():
    # 5 promoters of 5: p = 5.75/8, d = 0.75/8, centre 62.5, SE = 100·√((0.8125 − 0.390625)/8)
    # = 22.964; 62.5 + 45.01 = 107.5 → clipped to 100; low 62.5 − 45.01 = 17.49.
    interval = nps_interval(5, 0, 5)
    assert (round(interval.low, 2), interval.high) == (17.49, 100.0)
    assert nps_interval(0, 0, 0) is None


def test_wilson_interval_8_of_10():
    # p = 0.8, z² = 3.8415: centre (0.8 + 0.19207)/1.38415 = 0.71674; half-width
    # 1.96/1.38415·√(0.016 + 0.0096037) = 0.22658 → [49.02, 94.33] %.
    interval = wilson_interval(8, 10)
    assert (round(interval.low, 2), round(interval.high, 2), interval.n) == (49.02, 94.33, 10)
    assert round(interval.se, 2) == round(22.658 / 1.96, 2)


def test_wilson_interval_at_the_edges_and_outside():
    # 0 of 4: centre = half-width = (3.8415/8)/1.96038 = 0.24494 → [0, 48.99] %.
    assert round(wilson_interval(0, 4).high, 2) == 48.99
    assert wilson_interval(0, 4).low == 0.0
    assert wilson_interval(5, 4) is None  # more "successes" than trials: no share
    assert wilson_interval(-1, 4) is None
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize("df, tabulated", [(1, 12.706), (2, 4.303), (4, 2.776), (5, 2.571), (10, 2.228),
                                           (29, 2.045), (30, 2.042), (60, 2.000), (120, 1.980)])
def test_t_quantile_matches_the_tables(df, tabulated):
    assert round(t_quantile(0.975, df), 3) == tabulated


def test_t_interval_of_a_mean():
    # Values 1, 1, 2, 3, 3: Σx = 10, Σx² = 24, mean 2, s² = (24 − 20)/4 = 1, SE = 1/√5 =
    # 0.44721, t(0.975, 4) = 2.7764 → ±1.2417 → [0.76, 3.24].
    interval = t_interval(10, 24, 5)
    assert (round(interval.low, 2), round(interval.high, 2), round(interval.se, 4), interval.n) == (0.76, 3.24, 0.4472, 5)
    single = t_interval(4.0, 16.0, 1)
    assert (single.low, single.high, single.se, single.n) == (None, None, None, 1)
    assert t_interval(None, None, 0) is None


def test_change_significant_two_sided_z():
    # z = 10/√(3² + 4²) = 2 → p = 0.0455 < 0.05: significant; z = 9.5/5 = 1.9 → p = 0.0574.
    assert change_significant(3, 4, 10) is True
    assert change_significant(3, 4, -10) is True
    assert change_significant(3, 4, 9.5) is False
    assert change_significant(0, 0, 1) is None
    assert change_significant(None, 4, 1) is None
