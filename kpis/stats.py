"""Sampling uncertainty of KPI values (issue #10): 95% confidence intervals and whether a
change between two periods is significant. Pure functions (no database, no scipy: it is not
installed), every interval in the KPI's own unit (percentage points, NPS points, hours).

- NPS: the adjusted Wald interval of Rocks (2016), "Interval estimation for the 'net
  promoter score'", The American Statistician 70(4). Add ¾ to the promoters and to the
  detractors (and 3/2 to the passives), i.e. 3 to n: p = (P + ¾)/(n + 3),
  d = (D + ¾)/(n + 3); centre 100·(p − d), SE = 100·√((p + d − (p − d)²)/(n + 3)),
  interval centre ± 1.96·SE, clipped to [−100, 100]. The n used in the SE is the adjusted
  n + 3, as in Rocks' paper; the ``n`` reported (the sample size) is the raw number of
  responses.
- Shares (CSAT and the other rates): the Wilson score interval, in percentage points. Its
  SE (for significance) is the interval's half-width / 1.96, which, unlike the Wald SE
  √(p(1 − p)/n), is not 0 at 0% or 100%.
- Means (hours): the Student t interval mean ± t(0.975, n − 1)·s/√n from n, Σx and Σx².
- Change: two-sided z test of the difference on the two SEs, significant when p < 0.05.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 0.975 quantile
ALPHA = 0.05


@dataclass(frozen=True)
class Interval:
    """A 95% confidence interval in the KPI's unit; ``n`` is the sample size it rests on.
    low/high/se are None when n is too small for any interval (a mean of one value)."""

    low: float | None
    high: float | None
    se: float | None
    n: float


def nps_interval(promoters, detractors, n) -> Interval | None:
    """Adjusted Wald interval of NPS (Rocks 2016), in NPS points; None without responses."""
    if n is None or promoters is None or detractors is None or n <= 0:
        return None
    adjusted = n + 3
    p, d = (promoters + 0.75) / adjusted, (detractors + 0.75) / adjusted
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / adjusted)
    centre = 100 * (p - d)
    return Interval(max(centre - Z95 * se, -100.0), min(centre + Z95 * se, 100.0), se, n)


def wilson_interval(successes, n) -> Interval | None:
    """Wilson score interval of a share successes/n, in percentage points; None without
    trials or when the numerator is no count of successes among them (outside 0..n: e.g.
    more conversions than visits, or a negative retention)."""
    if n is None or successes is None or n <= 0 or not 0 <= successes <= n:
        return None
    p, z2 = successes / n, Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(100 * max(centre - half, 0.0), 100 * min(centre + half, 1.0), 100 * half / Z95, n)


def t_interval(total, sum_squares, n) -> Interval | None:
    """Student t interval of a mean from n, Σx and Σx²; None without values, an Interval
    without bounds for a single value (no spread to judge by)."""
    if n is None or total is None or n <= 0:
        return None
    if n < 2 or sum_squares is None:
        return Interval(None, None, None, n)
    mean = total / n
    # Σx² − n·mean² can come out a hair below 0 in floating point when all values are equal.
    variance = max(sum_squares - n * mean * mean, 0.0) / (n - 1)
    se = math.sqrt(variance / n)
    half = t_quantile(0.975, n - 1) * se
    return Interval(mean - half, mean + half, se, n)


def change_significant(se1, se2, diff) -> bool | None:
    """Whether a change ``diff`` between two values with standard errors se1 and se2 is
    significant: two-sided z test, p < 0.05. None when it cannot be judged (no SE, or both
    0: identical values in both samples)."""
    if se1 is None or se2 is None or diff is None:
        return None
    spread = math.sqrt(se1 ** 2 + se2 ** 2)
    if spread == 0:
        return None
    z = abs(diff) / spread
    return math.erfc(z / math.sqrt(2)) < ALPHA


# --- Student t quantile ----------------------------------------------------------------------

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method,
    Numerical Recipes §6.4)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (q in (0.5, 1)): bisection on the CDF, to 1e-12."""
    low, high = 0.0, 1.0
    while t_cdf(high, df) < q:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < q:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2
