"""Formatting KPI values by unit, for the KPI pages."""
from django import template

register = template.Library()


@register.filter
def kpi_value(value, unit):
    """85.0% · 6.2 h · +40 · 1,234; "no data" when there is none (never 0)."""
    if value is None or value == "":
        return "no data"
    if unit == "%":
        return f"{value:,.1f}%"
    if unit == "hours":
        return f"{value:,.1f} h"
    if unit == "score":
        return f"{value:+.0f}"
    return f"{value:,.0f}"


@register.filter
def kpi_change(change, unit):
    """The change against the previous period: +2.1 pts, −0.4 h."""
    if change is None:
        return ""
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    magnitude = abs(change)
    if unit in ("%", "score"):
        return f"{sign}{magnitude:,.1f} pts"
    if unit == "hours":
        return f"{sign}{magnitude:,.1f} h"
    return f"{sign}{magnitude:,.0f}"


@register.filter
def kpi_trend(card):
    """better / worse / flat, from the change and the card's ``direction`` (the direction in
    force, from ``selectors.kpi_direction``: a team lead's override wins over the registry's)."""
    change = card["change"]
    if not change:
        return "flat"
    higher_is_better = card["direction"] == "higher"
    return "better" if (change > 0) == higher_is_better else "worse"


@register.filter
def drilldown_cell(value):
    """A drill-down cell: local times to the minute, yes/no, blanks for none."""
    from datetime import datetime

    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


@register.filter
def kpi_lookup(kpis, key):
    """The registered KPI of ``key``, or None while it is not registered."""
    return kpis.get(key)


@register.filter
def kpi_key_label(key):
    """A readable name for a KPI key that is not registered: DAU, D7 retention…"""
    if key.startswith("retention_d"):
        return f"D{key.removeprefix('retention_d')} retention"
    return key.upper() if len(key) <= 3 else key.replace("_", " ").capitalize()


@register.filter
def http_url(url):
    """An imported link, only when it is http(s) (never javascript: or data:)."""
    text = (url or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.filter
def kpi_interval(point, unit):
    """A point's 95% confidence interval: "49.0–94.3%", "−0.8 to +39.3", "2.1–3.4 h"."""
    low, high = point.get("ci_low"), point.get("ci_high")
    if low is None or high is None:
        return ""
    if unit == "score":
        return f"{low:+.1f} to {high:+.1f}".replace("-", "−")
    suffix = {"%": "%", "hours": " h"}.get(unit, "")
    return f"{low:,.1f}–{high:,.1f}{suffix}"


@register.filter
def cut_comparison(label):
    """"Dec 1–5" of the comparison label "Dec 1–5 vs Nov 1–5"."""
    return (label or "").split(" vs ")[0]


@register.filter
def previous_span(label):
    """"Nov 1–5" of the comparison label "Dec 1–5 vs Nov 1–5"."""
    return (label or "").partition(" vs ")[2]
