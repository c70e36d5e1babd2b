"""What a theme does to NPS and CSAT (issue #13), pure: the overall score minus the score of
the responses without the theme — how many points the theme costs (negative) or earns.

With t the theme's responses, o the others and n = t + o, overall = (t·S_t + o·S_o)/n, so
impact = overall − S_o = (t/n)·(S_t − S_o): the gap between the two groups weighted by the
theme's share. The groups are disjoint, so the gap's standard error is √(se_t² + se_o²)
with each group's own SE (NPS: the adjusted Wald of Rocks 2016; CSAT: Wilson), and the
impact's is t/n times that (the share taken as fixed); the 95% interval is impact ± 1.96·SE,
clipped to what the impact can be: ±(t/n)·200 for NPS (each score within ±100), ±(t/n)·100
for CSAT.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from kpis.stats import Z95, nps_interval, wilson_interval


@dataclass(frozen=True)
class Impact:
    points: float  # overall − without the theme, in the score's points
    low: float
    high: float
    responses: int  # the theme's responses
    without: float  # the score without them
    significant: bool  # the interval leaves out 0


def _nps(promoters: int, detractors: int, n: int) -> float:
    return 100 * (promoters - detractors) / n


def nps_impact(*, theme: tuple[int, int, int], overall: tuple[int, int, int]) -> Impact | None:
    """(promoters, detractors, n) of the theme's responses and of all; None when either
    group is empty (no comparison)."""
    tp, td, tn = theme
    ap, ad, an = overall
    op, od, on = ap - tp, ad - td, an - tn
    if tn <= 0 or on <= 0:
        return None
    share = tn / an
    points = _nps(ap, ad, an) - _nps(op, od, on)
    se = share * math.hypot(nps_interval(tp, td, tn).se, nps_interval(op, od, on).se)
    bound = 200 * share
    return Impact(points=points, low=max(points - Z95 * se, -bound), high=min(points + Z95 * se, bound), responses=tn,
                  without=_nps(op, od, on), significant=abs(points) > Z95 * se)


def csat_impact(*, theme: tuple[int, int], overall: tuple[int, int]) -> Impact | None:
    """(satisfied, n) of the theme's CSAT responses and of all."""
    ts, tn = theme
    as_, an = overall
    os_, on = as_ - ts, an - tn
    if tn <= 0 or on <= 0:
        return None
    share = tn / an
    points = 100 * as_ / an - 100 * os_ / on
    se = share * math.hypot(wilson_interval(ts, tn).se, wilson_interval(os_, on).se)
    bound = 100 * share
    return Impact(points=points, low=max(points - Z95 * se, -bound), high=min(points + Z95 * se, bound), responses=tn,
                  without=100 * os_ / on, significant=abs(points) > Z95 * se)
