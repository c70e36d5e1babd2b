"""What an alert rule says of one value: pure functions, testable without a database.
``kpis.services.alerts`` reads the snapshots and records the alerts."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

# An anomaly band from fewer finished periods than this is noise, not a usual range.
ANOMALY_MIN_HISTORY = 4


@dataclass(frozen=True)
class Judgement:
    broken: bool
    expected_low: float | None
    expected_high: float | None


def anomaly_band(history: list[float], k: float) -> tuple[float, float] | None:
    """The usual range of a value: the mean of its previous finished periods ± k sample
    standard deviations; None with fewer than ANOMALY_MIN_HISTORY of them."""
    if len(history) < ANOMALY_MIN_HISTORY:
        return None
    mean, deviation = statistics.fmean(history), statistics.stdev(history)
    return mean - k * deviation, mean + k * deviation


def rule_judge(*, kind: str, value: float, low: float | None = None, high: float | None = None,
               history: list[float] = (), k: float = 3.0, status: str | None = None) -> Judgement:
    """Whether ``value`` breaks a rule of ``kind`` (threshold: outside [low, high], either
    bound optional; off_target: ``status`` is off_target; anomaly: outside the band of
    ``history``), with the range it was expected in."""
    if kind == "threshold":
        return Judgement((low is not None and value < low) or (high is not None and value > high), low, high)
    if kind == "off_target":
        return Judgement(status == "off_target", None, None)
    band = anomaly_band(list(history), k)
    if band is None:
        return Judgement(False, None, None)
    return Judgement(not band[0] <= value <= band[1], *band)
