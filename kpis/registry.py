"""The KPI registry (PostHog's ``@register_detector`` pattern): each KPI is a small class
in ``kpis/definitions/`` with its key, label, unit, direction, a docstring stating the
formula, a pure ``value`` function testable without a database, and one SQL aggregation.
Adding a KPI means adding one class there.

Every KPI is a ratio (or a mean, or a count) of a numerator and a denominator. Most are
*additive*: the numerator and denominator of a week are the sums of those of its days, so
the engine aggregates each KPI once per local day in SQL and rolls days up into weeks,
months, quarters and years by summing. The others (``rollup = "period"``: states at period
boundaries, medians) aggregate each period directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from kpis import stats

KPIS: dict[str, "Kpi"] = {}

HIGHER, LOWER = "higher", "lower"

# The KPI keys in the order api.md lists them: the order of the dashboard and the docs.
ORDER = ("nps", "customer_retention_rate", "net_revenue_retention", "gross_revenue_retention", "conversion_rate",
         "mean_time_to_resolution", "first_contact_resolution", "csat", "social_mention_volume", "social_net_sentiment",
         "social_share_of_voice", "activation_rate", "dau", "wau", "mau", "stickiness", "retention_d1", "retention_d7",
         "retention_d30", "conversation_abandonment_rate", "checkout_abandonment_rate", "first_response_time",
         "sla_attainment", "survey_response_rate")


def contract_order(key: str) -> int:
    return ORDER.index(key) if key in ORDER else len(ORDER)


@dataclass(frozen=True)
class Segment:
    key: str
    label: str


# How the values of a segment read on pages, for segments whose values are ids owned by
# another app (the survey segment's values are survey ids): segment key → function from
# the values to {value: label}. Registered by that app (``register_segment_labels``), so
# the KPI engine imports nothing of it.
SEGMENT_LABELS: dict = {}


def register_segment_labels(segment: str):
    def register(function):
        SEGMENT_LABELS[segment] = function
        return function
    return register


SEGMENTS = {s.key: s for s in (
    Segment("channel", "Channel"), Segment("agent", "Agent"), Segment("team", "Team"),
    Segment("channel_kind", "Channel kind"), Segment("plan", "Plan"), Segment("platform", "Platform"),
    Segment("survey", "Survey"),
)}


@dataclass(frozen=True)
class Query:
    """Inputs of a KPI's SQL: the local days [since, until) and the workspace's settings."""

    since: date
    until: date
    time_zone: str
    settings: dict

    def params(self, **more) -> dict:
        return {"since": self.since, "until": self.until, "tz": self.time_zone, **self.settings, **more}


class Kpi:
    key: ClassVar[str]
    label: ClassVar[str]
    unit: ClassVar[str]  # "%", "hours", "count", "users", "score"
    direction: ClassVar[str]  # HIGHER or LOWER is better
    dataset: ClassVar[str]  # the dataset whose touched days invalidate it
    datasets: ClassVar[tuple[str, ...]] = ()  # further datasets it reads
    segments: ClassVar[tuple[str, ...]] = ()
    scale: ClassVar[float] = 100.0  # value = numerator / denominator × scale
    rollup: ClassVar[str] = "sum"  # "sum": days add up; "period": aggregated per period
    period_kinds: ClassVar[tuple[str, ...]] = ("day", "week", "month", "quarter", "year")
    # Further additive figures the SQL returns after the denominator, kept in the
    # snapshot's ``extra`` (e.g. NPS promoters and detractors, for its margin of error).
    extra_columns: ClassVar[tuple[str, ...]] = ()
    # What "the same elapsed span" of the previous period counts (kpis.periods.comparison_of):
    # days, or whole months for KPIs of monthly figures (MRR).
    comparison_unit: ClassVar[str] = "day"
    # The drill-down (kpis.selectors.drilldown): ``drilldown_sql(segment)`` gives the records
    # behind a value, each with its band, headed ``drilldown_band``. None: no drill-down.
    drilldown_sql: ClassVar = None
    drilldown_band: ClassVar[str] = "band"

    def figures(self, figures: tuple) -> tuple:
        """(numerator, denominator, *extra_columns) from the figures its SQL returns. KPIs of
        one family share one query (computed once per recompute) and each picks its own
        figures here; by default the SQL returns them as they are."""
        return figures

    def interval(self, figures: tuple) -> stats.Interval | None:
        """The 95% confidence interval of the value from (numerator, denominator,
        *extra_columns), with the sample size it rests on (kpis/stats.py). None by default:
        counts, money ratios and mixes of KPIs describe the whole population of the period
        (every conversation, every euro), not a sample of it, so they have no sampling error
        and are never "too few to judge"."""
        return None

    def margin(self, figures: tuple) -> float | None:
        """Half-width in points of the plain Wald 95% interval of the value from
        (numerator, denominator, *extra_columns): what the survey results page shows beside
        a score (surveys/selectors/results.py). None by default, and below two answers."""
        return None

    def reach(self, settings: dict) -> tuple[int, int]:
        """(days before, days after) a changed day whose values can change with it: a new
        conversation can make earlier ones repeat contacts (FCR); an event changes the
        rolling WAU/MAU of the following days. Recomputes after an import widen the
        touched days by this much."""
        return 0, 0

    @property
    def formula(self) -> str:
        return " ".join((self.__doc__ or "").split())

    def value(self, numerator, denominator) -> float | None:
        """The KPI's value from its numerator and denominator; None (no data) when the
        denominator is empty, never 0."""
        if denominator is None or denominator == 0 or numerator is None:
            return None
        return float(numerator) / float(denominator) * self.scale

    def rows_sql(self) -> str | None:
        """For additive KPIs, SQL giving each record's contribution over the local days
        [%(since)s, %(until)s): columns ``day``, one column per segment key, ``numerator``,
        ``denominator`` and the extra columns. The engine then aggregates every segment in
        one scan (GROUPING SETS). None: the KPI gives ``day_sql`` instead."""
        return None

    def segment_sql(self, rows: str, segment: str | None) -> str:
        """``rows_sql`` aggregated per day for one segment (or the whole workspace)."""
        extras = "".join(f", sum({name})" for name in self.extra_columns)
        return (f"SELECT day, {segment or chr(39) * 2}, sum(numerator), sum(denominator){extras} "
                f"FROM ({rows}) contributions GROUP BY 1, 2")

    def grouped_sql(self) -> str:
        """``rows_sql`` aggregated per day for the whole workspace and every segment at once:
        rows (day, segment kind, segment, numerator, denominator, *extras). The records are
        first summed per day and combination of segments in one hash aggregate; the
        grouping sets then run over those few thousand rows instead of re-sorting every
        record once per segment."""
        extras = [f"sum({name}) AS {name}" for name in self.extra_columns]
        keys = ", ".join(["day", *self.segments])
        fine = (f"SELECT {keys}, sum(numerator) AS numerator, sum(denominator) AS denominator"
                f"{''.join(', ' + e for e in extras)} FROM ({self.rows_sql()}) contributions GROUP BY {keys}")
        totals = "".join(f", sum({name})" for name in self.extra_columns)
        if not self.segments:
            return f"SELECT day, '', '', sum(numerator), sum(denominator){totals} FROM ({fine}) fine GROUP BY day"
        kind = " ".join(f"WHEN GROUPING({key}) = 0 THEN '{key}'" for key in self.segments)
        value = " ".join(f"WHEN GROUPING({key}) = 0 THEN {key}::text" for key in self.segments)
        sets = ", ".join(["(day)", *(f"(day, {key})" for key in self.segments)])
        return (f"SELECT day, CASE {kind} ELSE '' END, coalesce(CASE {value} END, ''), sum(numerator), "
                f"sum(denominator){totals} FROM ({fine}) fine GROUP BY GROUPING SETS ({sets})")

    def day_sql(self, segment: str | None) -> str:
        """SQL over the local days [%(since)s, %(until)s) returning rows (day, segment,
        numerator, denominator), segment '' when ``segment`` is None."""
        if self.rows_sql() is not None:
            return self.segment_sql(self.rows_sql(), segment)
        raise TypeError(f"{self.key} is aggregated per period, not per day")

    def period_sql(self, segment: str | None) -> str:
        """For rollup = "period": SQL returning (period_start, segment, numerator,
        denominator, *extra_columns) for the periods given as the parallel arrays
        %(starts)s / %(ends)s of local dates (e.g. ``unnest(%(starts)s::date[],
        %(ends)s::date[]) AS p(start, "end")``). A period without data returns no row."""
        raise TypeError(f"{self.key} is rolled up from days")


def proportion_interval(kpi: Kpi, figures: tuple) -> stats.Interval | None:
    """Wilson score interval of the share numerator / denominator, n = the denominator. The
    ``interval`` of rate KPIs; the first sentence of an interval hook's docstring is what
    docs/kpis.md says of it."""
    return stats.wilson_interval(figures[0], figures[1])


def mean_interval(kpi: Kpi, figures: tuple) -> stats.Interval | None:
    """Student t interval of the mean, n = the denominator, from Σx (the numerator) and Σx²
    (the extra column ``sum_squares``). The ``interval`` of mean KPIs."""
    at = 2 + kpi.extra_columns.index("sum_squares")
    squares = figures[at] if len(figures) > at else None
    return stats.t_interval(figures[0], squares, figures[1])


def register_kpi(cls: type[Kpi]) -> type[Kpi]:
    instance = cls()
    if instance.key in KPIS:
        raise ValueError(f"KPI {instance.key} is registered twice")
    for segment in instance.segments:
        if segment not in SEGMENTS:
            raise ValueError(f"KPI {instance.key}: unknown segment {segment}")
    KPIS[instance.key] = instance
    return cls
