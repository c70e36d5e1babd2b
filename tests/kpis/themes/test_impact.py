"""A theme's impact on NPS and CSAT, computed by hand."""
import pytest

from kpis.themes.impact import csat_impact, nps_impact


def test_nps_impact_and_its_interval():
    # All: 6 promoters, 4 detractors of 15 → NPS 13.33. The theme's 5: 1 promoter, 3
    # detractors (NPS −40). The other 10: 5 and 1 → NPS 40. Impact 13.33 − 40 = −26.67,
    # = (5/15)·(−40 − 40). SEs (Rocks): theme 27.951, others 19.260; the gap's √(27.951² +
    # 19.260²) = 33.944, the impact's a third of it, 11.315: ± 22.177.
    impact = nps_impact(theme=(1, 3, 5), overall=(6, 4, 15))
    assert (round(impact.points, 2), round(impact.without, 2), impact.responses) == (-26.67, 40.0, 5)
    assert (round(impact.low, 2), round(impact.high, 2), impact.significant) == (-48.84, -4.49, True)


def test_csat_impact_and_a_theme_too_small_to_judge():
    # All: 16 satisfied of 20 (80%). The theme's 4: 2 satisfied. The other 16: 14 (87.5%).
    # Impact 80 − 87.5 = −7.5 points; Wilson SEs 20.8 (2 of 4) and 7.6 (14 of 16): the
    # interval is wide and holds 0.
    impact = csat_impact(theme=(2, 4), overall=(16, 20))
    assert (impact.points, impact.without, impact.significant) == (pytest.approx(-7.5), 87.5, False)
    assert impact.low < 0 < impact.high


def test_no_comparison_without_both_groups():
    assert nps_impact(theme=(0, 0, 0), overall=(3, 1, 10)) is None
    assert nps_impact(theme=(3, 1, 10), overall=(3, 1, 10)) is None  # every response has the theme
    assert csat_impact(theme=(0, 0), overall=(0, 0)) is None


def test_the_interval_stays_within_what_the_impact_can_be():
    # 2 detractors of 5 responses, the other 3 promoters: impact −80 = (2/5)·(−100 − 100),
    # the most a 40% theme can cost; the normal interval's −114 is clipped to −80.
    impact = nps_impact(theme=(0, 2, 2), overall=(3, 2, 5))
    assert (impact.points, impact.low, round(impact.high, 1)) == (-80.0, -80.0, -45.7)
