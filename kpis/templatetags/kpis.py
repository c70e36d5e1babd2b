"""Formatting KPI values by unit, for the KPI pages."""
from django import template

register = template.Library()


@register.filter
def kpi_value(value, unit):
    """85.0% · 6.2 h · +40 · 1,234; "no data" when there is none (never 0)."""
    if value is None:
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
    """better / worse / flat, from the change and the KPI's direction."""
    change = card["change"]
    if not change:
        return "flat"
    higher_is_better = card["kpi"].direction == "higher"
    return "better" if (change > 0) == higher_is_better else "worse"
