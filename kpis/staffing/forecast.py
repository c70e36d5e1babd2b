"""Arrivals of the coming weeks per channel: a Poisson regression of hourly counts with
statsmodels (issue #13).

log E[arrivals in hour t] = intercept + day of week + hour of day (one profile for working
days, one for weekends) + a holiday effect + a linear trend in weeks.

- Weekly and daily seasonality are the day and hour terms; two intraday profiles, because a
  Saturday's peak is not a Tuesday's.
- Holidays come from the workspace calendar (Settings → Workspace): a holiday in the history
  estimates the effect; with none yet, a coming holiday is forecast as that day's Sunday.
- An hour of the day with no arrival in any day of its kind in the history is forecast 0 —
  the maximum-likelihood estimate — and kept out of the fit (its coefficient would run off
  to minus infinity).
- The trend is fitted on the weeks read and carried forward, so a channel that grew 5% a
  week is staffed for its next week, not its average one.

Pure: the hourly counts in, the forecasts out; the counts are read by
``kpis.staffing.selectors.hourly_counts``.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from kpis.staffing.backlog import HOURS_PER_WEEK

WEEKEND = (5, 6)
NEGLIGIBLE = 1e-3  # arrivals an hour


class _Calendar:
    """How the model sees an hour: its weekday (a holiday is a Sunday while the history has
    no holiday to learn from), its day kind (working day or weekend) and its holiday flag."""

    def __init__(self, holidays: frozenset[date], learn_holidays: bool):
        self.holidays, self.learn = holidays, learn_holidays

    def of(self, moment: datetime) -> tuple[int, int, int]:
        holiday = moment.date() in self.holidays
        weekday = 6 if holiday and not self.learn else moment.weekday()
        return weekday, 1 if weekday in WEEKEND else 0, 1 if holiday and self.learn else 0


def _design(hours: list[datetime], start: datetime, calendar: _Calendar, profile: list[tuple[int, int]]) -> np.ndarray:
    """One row per hour: intercept, 6 weekday dummies (Monday the reference), one dummy per
    (day kind, hour of day) of ``profile`` but the first of each kind (the references),
    holiday, trend (weeks since ``start``)."""
    references = {kind: min(hour for k, hour in profile if k == kind) for kind, _ in profile}
    columns = {key: 7 + n for n, key in enumerate(k for k in profile if references[k[0]] != k[1])}
    holiday_column, trend_column = 7 + len(columns), 8 + len(columns)
    rows = np.zeros((len(hours), trend_column + 1))
    for row, moment in enumerate(hours):
        weekday, kind, holiday = calendar.of(moment)
        rows[row, 0] = 1.0
        if weekday:
            rows[row, weekday] = 1.0
        if (kind, moment.hour) in columns:
            rows[row, columns[(kind, moment.hour)]] = 1.0
        rows[row, holiday_column] = holiday
        rows[row, trend_column] = (moment - start).total_seconds() / (7 * 86400)
    return rows


def arrivals_forecast(*, counts: dict[datetime, int], since: date, until: date, holidays: frozenset[date] = frozenset(),
                      weeks: list[date]) -> dict[date, list[float]]:
    """Expected arrivals for each hour of each week starting on a Monday in ``weeks``, from
    ``counts`` (local naive hour → arrivals; hours absent had none) over the local days
    [since, until)."""
    start = datetime(since.year, since.month, since.day)
    hours = [start + timedelta(hours=n) for n in range((until - since).days * 24)]
    observed = np.array([counts.get(hour, 0) for hour in hours], dtype=float)
    calendar = _Calendar(holidays, learn_holidays=any(hour.date() in holidays for hour in hours))
    slot = (lambda moment: (calendar.of(moment)[1], moment.hour))
    seen = sorted({slot(hour) for hour, n in zip(hours, observed) if n > 0})
    if not seen:
        return {monday: [0.0] * HOURS_PER_WEEK for monday in weeks}
    kept = set(seen)
    fitted = [n for n, hour in enumerate(hours) if slot(hour) in kept]
    design = _design([hours[n] for n in fitted], start, calendar, seen)
    # Columns nothing varies in (a weekday absent from the history, no holiday) would make
    # the fit singular: left out, their effect is 0.
    varying = [0] + [c for c in range(1, design.shape[1]) if design[:, c].any()]
    with warnings.catch_warnings():
        # A regular desk (the same counts every week) is fitted exactly, which statsmodels
        # reports as separation; the never-seen hours that would really separate are out.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        result = sm.GLM(observed[fitted], design[:, varying], family=sm.families.Poisson()).fit()
    coefficients = np.zeros(design.shape[1])
    coefficients[varying] = result.params
    forecasts = {}
    for monday in weeks:
        future = [datetime(monday.year, monday.month, monday.day) + timedelta(hours=n) for n in range(HOURS_PER_WEEK)]
        expected = np.exp(_design(future, start, calendar, seen) @ coefficients)
        # Below NEGLIGIBLE an expected count is the fit's way of saying never (a weekday
        # with no arrival at an hour other days have them: its coefficient runs far
        # negative); left in, the queue formulas would staff one agent for it.
        forecasts[monday] = [float(value) if slot(hour) in kept and value >= NEGLIGIBLE else 0.0
                             for value, hour in zip(expected, future)]
    return forecasts
