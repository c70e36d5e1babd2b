"""Which KPI reads which KPI setting, and how a setting reads as the definition in force.

Every setting reaches the KPIs as a named SQL parameter (``KpiSettings.as_params``), so the
KPIs a setting affects are exactly those whose SQL names it: ``%(sla_target_hours)s`` in
SLA attainment, ``%(voice_channels)s`` in the channel-kind segment of every conversation
KPI. Reading it from the SQL keeps the mapping true for KPIs added later, with nothing to
declare twice. Targets are not parameters: a target only changes a value's status, which is
judged when it is shown, so changing one recomputes nothing.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from kpis.registry import KPIS, Kpi

# Every setting passed to the SQL, in the order of the settings page, with its label.
SETTING_LABELS = {
    "visit_events": "Visit events",
    "conversion_events": "Conversion events",
    "checkout_events": "Checkout start events",
    "activation_events": "Activation events",
    "activation_window_days": "Activation window",
    "repeat_contact_window_days": "Repeat-contact window",
    "fcr_include_abandoned": "Abandoned conversations",
    "sla_target_hours": "SLA target",
    "business_hours_mttr": "Resolution time counts",
    "voice_channels": "Voice channels",
}


def _sql_of(kpi: Kpi) -> str:
    """All of a KPI's SQL: for the whole workspace and each of its segments."""
    sql = kpi.day_sql if kpi.rollup == "sum" else kpi.period_sql
    return "\n".join(sql(segment) for segment in (None, *kpi.segments))


@cache
def kpi_setting_names(key: str) -> tuple[str, ...]:
    """The settings KPI ``key`` reads, in the settings page's order."""
    sql = _sql_of(KPIS[key])
    return tuple(name for name in SETTING_LABELS if f"%({name})s" in sql)


def kpis_affected(changed: Iterable[str]) -> dict[str, list[str]]:
    """For each changed setting, the keys of the KPIs whose snapshots it changes (in the
    registry's order); settings no KPI reads (targets) map to an empty list."""
    return {name: [key for key in KPIS if name in kpi_setting_names(key)] for name in changed}


def setting_display(name: str, value) -> str:
    """A setting's value as the definition in force shows it."""
    if name.endswith("_days"):
        return f"{value} day{'' if value == 1 else 's'}"
    if name == "sla_target_hours":
        return f"{value:g} hour{'' if value == 1 else 's'}"
    if name == "fcr_include_abandoned":
        return "counted in the denominator" if value else "left out"
    if name == "business_hours_mttr":
        return ("business hours only (the workspace's opening hours, holidays excluded)" if value
                else "every hour (wall-clock time)")
    if isinstance(value, (list, tuple)):
        return ", ".join(value) if value else "none"
    return str(value)


def settings_in_force(kpi: Kpi, params: dict) -> list[tuple[str, str]]:
    """(label, value) of each setting ``kpi`` reads, from ``KpiSettings.as_params()``."""
    return [(SETTING_LABELS[name], setting_display(name, params[name])) for name in kpi_setting_names(kpi.key)]
