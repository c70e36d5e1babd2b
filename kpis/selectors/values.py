"""Reads of KPI values, generic to every KPI: the direction and target status in force,
uncertainty, series of snapshots per period, like-for-like comparisons, dashboard cards,
and live values for custom ranges. Each page's own reads are in the modules beside this."""
from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.db.models import FloatField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from kpis import periods as kpi_periods
from kpis.models import KpiSettings, KpiSnapshot
from kpis.periods import RANGE, TREND_PERIODS, Period, comparison_of, periods_between, periods_ending
from kpis.registry import KPIS, SEGMENT_LABELS, Kpi, Query, contract_order
from kpis.stats import change_significant


def kpi_direction(*, kpi: Kpi, targets: dict) -> str:
    """The direction in force ("higher" or "lower" is better): the team lead's override in
    the KPI settings, else the registry's. Every status and change colour goes through it."""
    return (targets.get(kpi.key) or {}).get("direction") or kpi.direction


def kpi_status(*, kpi: Kpi, value: float | None, targets: dict) -> tuple[float | None, str | None]:
    """(target, "on_target" | "off_target") for a value, or (target, None) without one."""
    target = (targets.get(kpi.key) or {}).get("target")
    if target is None or value is None:
        return target, None
    higher = kpi_direction(kpi=kpi, targets=targets) == "higher"
    return target, "on_target" if (value >= target if higher else value <= target) else "off_target"


def snapshot_figures(kpi: Kpi, snapshot: KpiSnapshot | None) -> tuple | None:
    """(numerator, denominator, *extra_columns) of a snapshot, as ``_live`` gives them
    (an extra figure missing from a snapshot written before it existed is None)."""
    if snapshot is None:
        return None
    return (snapshot.numerator, snapshot.denominator, *(snapshot.extra.get(name) for name in kpi.extra_columns))


# The fields kpi_uncertainty adds to a card or a series point.
UNCERTAINTY = ("ci_low", "ci_high", "n", "small_sample", "change_significant")


def kpi_uncertainty(*, kpi: Kpi, current: tuple | None, previous: tuple | None, min_sample_size: int) -> dict:
    """The sampling uncertainty of a value from its figures (numerator, denominator,
    *extras) and those of the value it is compared with, whichever period the comparison
    takes them from: ``ci_low``/``ci_high`` (95%), ``n``, ``small_sample`` (n below the
    workspace's minimum: too few to judge) and ``change_significant`` (z test, p < 0.05;
    None when either side has no interval or too few). All None for KPIs without one."""
    # Figures come as Decimal from some SQL sums and as float from snapshots.
    current, previous = (None if f is None else tuple(None if x is None else float(x) for x in f)
                         for f in (current, previous))
    interval = kpi.interval(current) if current else None
    before = kpi.interval(previous) if previous else None
    small = interval is not None and interval.n < min_sample_size
    significant = None
    if interval and before and not small and before.n >= min_sample_size:
        value, prior = kpi.value(*current[:2]), kpi.value(*previous[:2])
        if value is not None and prior is not None:
            significant = change_significant(interval.se, before.se, value - prior)
    return {"ci_low": interval.low if interval else None, "ci_high": interval.high if interval else None,
            "n": interval.n if interval else None, "small_sample": small, "change_significant": significant}


def _live(kpi: Kpi, period: Period, segment: str | None, settings: dict, cache: dict | None = None) -> dict[str, tuple]:
    """Numerator, denominator and extras per segment value of one period, computed from
    the data (custom ranges, and the previous span of a period under way for KPIs
    aggregated per period). ``cache`` shares one query between the KPIs of a family
    (NRR and GRR)."""
    query = Query(since=period.start, until=period.end, time_zone=connection.tenant.time_zone, settings=settings)
    if kpi.rollup == "sum":
        sql, params = kpi.day_sql(segment), query.params()
    else:
        sql, params = kpi.period_sql(segment), query.params(starts=[period.start], ends=[period.end])
    key = (sql, repr(sorted(params.items())))
    if cache is not None and key in cache:
        rows = cache[key]
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if cache is not None:
            cache[key] = rows
    if kpi.rollup == "sum":
        totals: dict[str, list] = {}
        for _, seg, *row in rows:
            figures = kpi.figures(tuple(row))
            sums = totals.setdefault(seg or "", [0.0] * len(figures))
            for i, figure in enumerate(figures):
                sums[i] += float(figure or 0)
        return {seg: tuple(figures) for seg, figures in totals.items()}
    return {(seg or ""): kpi.figures(tuple(row)) for _, seg, *row in rows}


def span_figures(*, kpis: list[Kpi], since: date, until: date, segment: str | None, settings: dict,
                 cache: dict | None = None) -> dict[tuple[str, str], tuple]:
    """(numerator, denominator, *extras) of each KPI over the local days [since, until) — a
    span that is not a whole period, such as Nov 1–5 compared with Dec 1–5 — by (KPI key,
    segment value). Additive KPIs sum their day snapshots, all of them in one query; KPIs
    aggregated per period (states at boundaries, monthly MRR) run their own SQL over that
    one span, one query per family."""
    figures: dict[tuple[str, str], tuple] = {}
    additive = [kpi for kpi in kpis if kpi.rollup == "sum"]
    if additive:
        names = sorted({name for kpi in additive for name in kpi.extra_columns})
        rows = (KpiSnapshot.objects.filter(kpi__in=[kpi.key for kpi in additive], period_kind="day",
                                           segment_kind=segment or "", period_start__gte=since, period_start__lt=until)
                .values("kpi", "segment")
                .annotate(sum_numerator=Sum("numerator"), sum_denominator=Sum("denominator"),
                          **{f"sum_{name}": Sum(Cast(KT(f"extra__{name}"), FloatField())) for name in names}))
        for row in rows:
            kpi = KPIS[row["kpi"]]
            figures[(kpi.key, row["segment"])] = (row["sum_numerator"], row["sum_denominator"],
                                                  *(row[f"sum_{name}"] for name in kpi.extra_columns))
    cache = {} if cache is None else cache
    for kpi in kpis:
        if kpi.rollup != "sum":
            for seg, found in _live(kpi, Period(RANGE, since, until), segment, settings, cache).items():
                figures[(kpi.key, seg)] = found
    return figures


def _comparison_figures(*, kpis: list[Kpi], kind: str, periods: list[Period], segment: str | None, settings,
                        today: date) -> tuple[dict, dict, dict]:
    """The figures of each KPI's periods and of what each is compared with: (current,
    previous, comparisons), the first two by (KPI key, period start, segment value), the
    comparisons (``kpis.periods.comparison_of``) by (KPI key, period start). Periods of a
    kind come from the snapshots in one query; a previous span that is not a whole period
    (the period is under way) from ``span_figures``, one query per distinct span for every
    additive KPI; custom ranges are computed live."""
    params = settings.as_params()
    comparisons = {(kpi.key, p.start): comparison_of(p, today, "day" if kind == RANGE else kpi.comparison_unit)
                   for kpi in kpis for p in periods}
    current: dict[tuple[str, date, str], tuple] = {}
    previous: dict[tuple[str, date, str], tuple] = {}
    cache: dict = {}
    if kind == RANGE:
        for kpi in kpis:
            for p in periods:
                c = comparisons[(kpi.key, p.start)]
                current.update({(kpi.key, p.start, seg): f for seg, f in _live(kpi, p, segment, params, cache).items()})
                if c.has_previous:
                    span = Period(RANGE, c.previous.start, c.previous_end)
                    previous.update({(kpi.key, p.start, seg): f
                                     for seg, f in _live(kpi, span, segment, params, cache).items()})
        return current, previous, comparisons
    starts = {p.start for p in periods} | {c.previous.start for c in comparisons.values() if c.previous_whole}
    snapshots: dict[tuple[str, date], dict[str, tuple]] = {}
    for row in KpiSnapshot.objects.filter(kpi__in=[kpi.key for kpi in kpis], period_kind=kind,
                                          segment_kind=segment or "", period_start__in=starts):
        snapshots.setdefault((row.kpi, row.period_start), {})[row.segment] = snapshot_figures(KPIS[row.kpi], row)
    partial: dict[tuple[date, date], list[tuple[Kpi, date]]] = {}
    for kpi in kpis:
        for p in periods:
            for seg, f in snapshots.get((kpi.key, p.start), {}).items():
                current[(kpi.key, p.start, seg)] = f
            c = comparisons[(kpi.key, p.start)]
            if c.previous_whole:
                for seg, f in snapshots.get((kpi.key, c.previous.start), {}).items():
                    previous[(kpi.key, p.start, seg)] = f
            elif c.has_previous:
                partial.setdefault((c.previous.start, c.previous_end), []).append((kpi, p.start))
    for (since, until), wanted in partial.items():
        found = span_figures(kpis=list({kpi.key: kpi for kpi, _ in wanted}.values()), since=since, until=until,
                             segment=segment, settings=params, cache=cache)
        for kpi, start in wanted:
            previous.update({(kpi.key, start, seg): f for (key, seg), f in found.items() if key == kpi.key})
    return current, previous, comparisons


def _point(*, kpi: Kpi, comparison, current: tuple | None, prior: tuple | None, settings, segment: str | None) -> dict:
    """One series point: the value, the value it is compared with (like for like: the same
    elapsed span of the previous period while this one is under way), which span that is,
    the target status and the uncertainty (``kpi_uncertainty``, on those same figures)."""
    p = comparison.period
    value = kpi.value(*current[:2]) if current else None
    uncertainty = kpi_uncertainty(kpi=kpi, current=current, previous=prior, min_sample_size=settings.min_sample_size)
    # Too few to judge: no target status, so targets never fire on it.
    target, status = kpi_status(kpi=kpi, value=None if uncertainty["small_sample"] else value, targets=settings.targets)
    return {
        "period_start": p.start, "period_end": p.end - timedelta(days=1), "value": value,
        "numerator": current[0] if current else None, "denominator": current[1] if current else None,
        "previous_value": kpi.value(*prior[:2]) if prior else None,
        "previous_start": comparison.previous.start if comparison.has_previous else None,
        "previous_end": comparison.previous_last,
        "period_complete": comparison.complete, "comparison": comparison.label,
        "target": target, "status": status, "segment": segment, **uncertainty,
    }


def _today(today: date | None) -> date:
    return today or kpi_periods.local_today(connection.tenant.time_zone)


def kpi_series(*, key: str, period: str, start: date, end: date, segment: str | None = None,
               settings=None, today: date | None = None) -> list[dict]:
    """The KPI's value for every period of kind ``period`` overlapping [start, end) (or one
    value for the whole range when ``period`` is "range", computed live from the data),
    with the value it is compared with, the target and its status; one entry per segment
    value when ``segment`` is given. Periods without data have value None, never 0.

    A period that has ended is compared with the whole previous period; one still under
    way on ``today`` (tenant-local; default: ``kpis.periods.local_today``) is period-to-date and
    compared with the same elapsed span of the previous period (``previous_start`` –
    ``previous_end``, ``period_complete`` false, ``comparison`` "Dec 1–5 vs Nov 1–5")."""
    kpi = KPIS[key]
    settings = settings or KpiSettings.load()
    periods_shown = periods_between(period, start, end)
    current, previous, comparisons = _comparison_figures(kpis=[kpi], kind=period, periods=periods_shown,
                                                         segment=segment, settings=settings, today=_today(today))
    segments = sorted({seg for (_, _, seg) in current} | {seg for (_, _, seg) in previous}) if segment else [""]
    return [_point(kpi=kpi, comparison=comparisons[(key, p.start)], current=current.get((key, p.start, seg)),
                   prior=previous.get((key, p.start, seg)), settings=settings, segment=seg if segment else None)
            for p in periods_shown for seg in segments]


def kpi_comparisons(*, keys: list[str], period: Period, settings=None, today: date | None = None) -> dict[str, dict]:
    """``kpi_comparison`` of several KPIs for one period, by key, in a constant number of
    queries (one for the snapshots, one per distinct previous span)."""
    settings = settings or KpiSettings.load()
    kpis = [KPIS[key] for key in keys if key in KPIS]
    current, previous, comparisons = _comparison_figures(kpis=kpis, kind=period.kind, periods=[period], segment=None,
                                                         settings=settings, today=_today(today))
    found = {}
    for kpi in kpis:
        now, prior = current.get((kpi.key, period.start, "")), previous.get((kpi.key, period.start, ""))
        point = _point(kpi=kpi, comparison=comparisons[(kpi.key, period.start)], current=now, prior=prior,
                       settings=settings, segment=None)
        change = None if point["value"] is None or point["previous_value"] is None else point["value"] - point["previous_value"]
        found[kpi.key] = {**point, "key": kpi.key, "label": point["comparison"], "change": change,
                          "current_label": comparisons[(kpi.key, period.start)].current_label,
                          "direction": kpi_direction(kpi=kpi, targets=settings.targets),
                          "figures": now, "previous_figures": prior}
    return found


def kpi_comparison(*, key: str, period: Period, settings=None, today: date | None = None) -> dict:
    """A KPI's value for ``period`` against the like-for-like previous value — the digest's
    (and every page's) one comparison: ``value``, ``previous_value``, the previous span
    ``previous_start`` – ``previous_end`` (included), ``period_complete``, ``label`` ("Dec 1–5
    vs Nov 1–5", or "Nov 2025 vs Oct 2025" for a period that has ended), ``change``, the
    target status, the uncertainty of ``kpi_uncertainty`` computed on those same figures,
    and the ``figures`` / ``previous_figures`` (numerator, denominator, *extras) themselves."""
    return kpi_comparisons(keys=[key], period=period, settings=settings, today=today)[key]


def dashboard_cards(*, period: str, anchor: date, count: int = TREND_PERIODS, settings=None, today: date | None = None) -> list[dict]:
    """One card per KPI for the period of kind ``period`` containing ``anchor``: value, the
    value it is compared with (``kpi_comparison``: like for like while the period is under
    way, "Dec 1–5 vs Nov 1–5"), change, target status, the 95% interval and whether the
    change is significant (``kpi_uncertainty``, on those same figures) and the last
    ``count`` periods' values for a sparkline, the last marked ``partial`` while under way.
    One query for every KPI's snapshots, plus one per previous span that is not a whole
    period (every additive KPI at once; a live one per family aggregated per period)."""
    settings = settings or KpiSettings.load()
    shown = periods_ending(period, anchor, count)
    kpis = sorted(KPIS.values(), key=lambda kpi: contract_order(kpi.key))
    current, previous, comparisons = _comparison_figures(kpis=kpis, kind=period, periods=shown, segment=None,
                                                         settings=settings, today=_today(today))
    cards = []
    for kpi in kpis:
        comparison = comparisons[(kpi.key, shown[-1].start)]
        figures, prior = current.get((kpi.key, shown[-1].start, "")), previous.get((kpi.key, shown[-1].start, ""))
        point = _point(kpi=kpi, comparison=comparison, current=figures, prior=prior if count > 1 else None,
                       settings=settings, segment=None)
        value, before = point["value"], point["previous_value"]
        spark = []
        for p in shown:
            found = current.get((kpi.key, p.start, ""))
            spark.append((p.start.isoformat(), kpi.value(*found[:2]) if found else None))
        cards.append({
            "kpi": kpi, "direction": kpi_direction(kpi=kpi, targets=settings.targets),
            "supported": period in kpi.period_kinds, "value": value, "previous": before,
            "change": None if value is None or before is None else value - before,
            "target": point["target"], "status": point["status"], **{name: point[name] for name in UNCERTAINTY},
            "period_complete": comparison.complete, "comparison": comparison.label,
            "current_label": comparison.current_label,
            "previous_start": point["previous_start"], "previous_end": point["previous_end"],
            "spark": spark, "partial": not comparison.complete,
        })
    return cards


def period_values(*, key: str, period: Period, segment: str | None = None, settings=None,
                  today: date | None = None) -> dict[str, dict]:
    """``kpi_series`` for one period (from snapshots, or live for a custom range), by segment
    value ('' without a segment); {} when the KPI is not registered."""
    return period_values_many(keys=[key], period=period, segment=segment, settings=settings, today=today).get(key, {})


def period_values_many(*, keys, period: Period, segment: str | None = None, settings=None,
                       today: date | None = None) -> dict[str, dict[str, dict]]:
    """``period_values`` of several KPIs at once, by key then segment value: one query for
    their snapshots and one for the like-for-like previous span while the period is under
    way, whatever the number of KPIs (live per KPI for a custom range). KPIs not registered
    are left out."""
    settings = settings or KpiSettings.load()
    kpis = [KPIS[key] for key in keys if key in KPIS]
    current, previous, comparisons = _comparison_figures(kpis=kpis, kind=period.kind, periods=[period], segment=segment,
                                                         settings=settings, today=_today(today))
    found: dict[str, dict[str, dict]] = {}
    for kpi in kpis:
        segments = ({seg for (key, _, seg) in current if key == kpi.key}
                    | {seg for (key, _, seg) in previous if key == kpi.key}) if segment else {""}
        found[kpi.key] = {seg: _point(kpi=kpi, comparison=comparisons[(kpi.key, period.start)],
                                      current=current.get((kpi.key, period.start, seg)),
                                      prior=previous.get((kpi.key, period.start, seg)), settings=settings,
                                      segment=seg if segment else None)
                          for seg in sorted(segments)}
    return found


def chart_kind(period: Period) -> str:
    """The periods a chart of ``period`` is drawn in: days up to a quarter, weeks up to a
    year, months beyond."""
    return "day" if period.days <= 92 else ("week" if period.days <= 366 else "month")


def segment_labels(segment: str, values) -> dict[str, str]:
    """How segment values read on pages: as they are, '' as "(none)", unless the segment's
    owner registered its labels (``kpis.registry.register_segment_labels``: the survey
    segment's values are survey ids, shown by name)."""
    values = list(values)
    if segment in SEGMENT_LABELS:
        return SEGMENT_LABELS[segment](values)
    return {value: value or "(none)" for value in values}

