"""What an alert rule says of one value: pure functions, testable without a database.
``kpis.services.alerts`` reads the snapshots and records the alerts."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

# An anomaly band from fewer finished periods than this is noise, not a usual range.
ANOMALY_MIN_HISTORY = 4

# The contract's social spike alert (kpis.md #9): a day whose own-brand mention volume is
# above the mean of the 28 days before it by more than 3 sample standard deviations, judged
# only once those 28 days all follow the first mention. The social page marks these days
# (kpis.selectors.social) and every workspace has this rule (migration kpis 0008), so the
# same days alert by the alerts page, email and webhook.
SPIKE_WINDOW_DAYS = 28
SPIKE_DEVIATIONS = 3
SOCIAL_SPIKE = {"kpi": "social_mention_volume", "kind": "anomaly", "period_kind": "day", "segment_kind": "",
                "k": float(SPIKE_DEVIATIONS), "history": SPIKE_WINDOW_DAYS, "min_history": SPIKE_WINDOW_DAYS,
                "direction": "above"}


@dataclass(frozen=True)
class Judgement:
    broken: bool
    expected_low: float | None
    expected_high: float | None


def anomaly_band(history: list[float], k: float, min_history: int = ANOMALY_MIN_HISTORY) -> tuple[float, float] | None:
    """The usual range of a value: the mean of its previous finished periods ± k sample
    standard deviations; None with fewer than ``min_history`` of them (never fewer than
    ANOMALY_MIN_HISTORY: a standard deviation of two or three values means nothing)."""
    if len(history) < max(min_history, ANOMALY_MIN_HISTORY):
        return None
    mean, deviation = statistics.fmean(history), statistics.stdev(history)
    return mean - k * deviation, mean + k * deviation


def rule_judge(*, kind: str, value: float, low: float | None = None, high: float | None = None,
               history: list[float] = (), k: float = 3.0, status: str | None = None,
               min_history: int = ANOMALY_MIN_HISTORY, direction: str = "both") -> Judgement:
    """Whether ``value`` breaks a rule of ``kind`` (threshold: outside [low, high], either
    bound optional; off_target: ``status`` is off_target; anomaly: outside the band of
    ``history``, strictly, on the side ``direction`` names: both, above or below), with the
    range it was expected in (the side not judged is left open)."""
    if kind == "threshold":
        return Judgement((low is not None and value < low) or (high is not None and value > high), low, high)
    if kind == "off_target":
        return Judgement(status == "off_target", None, None)
    band = anomaly_band(list(history), k, min_history)
    if band is None:
        return Judgement(False, None, None)
    low, high = band
    if direction == "above":
        return Judgement(value > high, None, high)
    if direction == "below":
        return Judgement(value < low, low, None)
    return Judgement(not low <= value <= high, low, high)
