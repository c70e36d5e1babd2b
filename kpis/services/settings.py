"""The KPI settings: checking a change (bounds, event names, targets) and storing it, then
queueing a recompute of just the KPIs whose snapshots it affects."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from kpis.models import KpiRecompute, KpiSettings
from kpis.registry import HIGHER, KPIS, LOWER
from kpis.services.recomputes import kpi_recompute_queue
from kpis.settings_uses import SETTING_LABELS, kpis_affected


EVENT_SETTINGS = ("visit_events", "conversion_events", "checkout_events", "activation_events")


# (lowest, highest) allowed, and how the message names them.
SETTING_BOUNDS = {
    "activation_window_days": (1, 365, "The activation window must be between 1 and 365 days."),
    "repeat_contact_window_days": (1, 90, "The repeat-contact window must be between 1 and 90 days."),
    "sla_target_hours": (0.25, 720, "The SLA target must be between 0.25 hours (15 minutes) and 720 hours (30 days)."),
    "min_sample_size": (1, 1_000_000, "The minimum sample size must be a whole number from 1 to 1,000,000."),
}


# Settings judged when a value is shown, like targets: no SQL reads them, nothing to recompute.
DISPLAY_SETTINGS = ("min_sample_size",)


TARGET_BOUNDS = {"%": (0, 100), "score": (-100, 100)}  # other units: any number >= 0


@dataclass(frozen=True)
class KpiSettingsUpdate:
    settings: KpiSettings
    affected: dict[str, list[str]]  # each changed setting → the KPI keys it affects ([] for targets)
    recompute: KpiRecompute | None  # the recompute of those KPIs, when there are some

    @property
    def keys(self) -> list[str]:
        return [key for key in KPIS if any(key in keys for keys in self.affected.values())]


def _names(value, label: str, max_length: int, *, required: bool) -> tuple[list[str], str | None]:
    """A list of names (or comma-separated text) stripped, without blanks or repeats."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    if required and not names:
        return names, f"{label}: give at least one event name."
    if any(len(name) > max_length for name in names):
        return names, f"{label}: a name is at most {max_length} characters."
    return names, None


def _number(name: str, value, integer: bool) -> tuple[float | int | None, str | None]:
    low, high, message = SETTING_BOUNDS[name]
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        return None, message
    if isinstance(value, bool) or (integer and number != float(value)) or not low <= number <= high:
        return None, message
    return number, None


def _targets(value: dict) -> tuple[dict, dict[str, str]]:
    """{key: {"target": number or None, "direction": "higher"|"lower"}} for the KPIs given
    a target or a direction other than the registry's; errors keyed ``target_<key>``."""
    targets, errors = {}, {}
    for key, setting in (value or {}).items():
        kpi, setting = KPIS.get(key), setting or {}
        if kpi is None:
            errors[f"target_{key}"] = f"Unknown KPI '{key}'."
            continue
        target, direction = setting.get("target"), setting.get("direction") or kpi.direction
        if direction not in (HIGHER, LOWER):
            errors[f"target_{key}"] = f"{kpi.label}: better when higher or lower, not '{direction}'."
            continue
        if target is None or target == "":
            # A reversed direction is kept without a target too: it still decides whether
            # a change is shown as better or worse.
            if direction != kpi.direction:
                targets[key] = {"target": None, "direction": direction}
            continue
        low, high = TARGET_BOUNDS.get(kpi.unit, (0, None))
        try:
            target = float(target)
        except (TypeError, ValueError):
            target = None
        if target is None or target < low or (high is not None and target > high):
            bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
            errors[f"target_{key}"] = f"{kpi.label}: the target must be a number {bounds} ({kpi.unit})."
            continue
        targets[key] = {"target": target, "direction": direction}
    return targets, errors


def _settings_clean(changes: dict) -> dict:
    """The changes, normalised; a ValidationError naming each bad setting."""
    from tenants.workspace.models import BusinessHours

    cleaned, errors = {}, {}
    for name, value in changes.items():
        if name in EVENT_SETTINGS or name == "voice_channels":
            label = SETTING_LABELS[name]
            cleaned[name], error = _names(value, label, 50 if name == "voice_channels" else 255,
                                          required=name != "voice_channels")
        elif name in SETTING_BOUNDS:
            cleaned[name], error = _number(name, value, integer=name.endswith("_days") or name == "min_sample_size")
        elif name == "targets":
            cleaned[name], target_errors = _targets(value)
            errors.update(target_errors)
            error = None
        else:
            cleaned[name], error = bool(value), None
        if error:
            errors[name] = error
    if cleaned.get("business_hours_mttr") and not BusinessHours.objects.exists():
        errors["business_hours_mttr"] = ("The workspace has no business hours yet: set them in Workspace settings "
                                         "first, or every resolution would take 0 hours.")
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def kpi_settings_update(*, settings: KpiSettings, **changes) -> KpiSettingsUpdate:
    """Change some KPI settings (the fields of ``KpiSettings``: event names as lists or
    comma-separated text, windows in days, SLA hours, flags, voice channels, and
    ``targets`` as {kpi key: {"target", "direction"}} replacing every target, and
    ``min_sample_size``, the n below which values are too few to judge). Refuses bad
    values with a ValidationError keyed by setting (``target_<key>`` for a target). Then
    queues a recompute of just the KPIs whose snapshots the changed settings affect (a
    target changes no snapshot) and says which those are."""
    unknown = set(changes) - {*SETTING_LABELS, *DISPLAY_SETTINGS, "targets"}
    if unknown:
        raise TypeError(f"Unknown KPI settings: {', '.join(sorted(unknown))}")
    cleaned = _settings_clean(changes)
    # The row is stored by the first change (reads use the defaults until then). The lock
    # serialises changes, so two first changes at once store one row.
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {KpiSettings._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    locked = KpiSettings.objects.first() or KpiSettings(**KpiSettings.DEFAULTS)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save()
    affected = kpis_affected(changed)
    keys = KpiSettingsUpdate(settings=locked, affected=affected, recompute=None).keys
    return KpiSettingsUpdate(settings=locked, affected=affected, recompute=kpi_recompute_queue(keys) if keys else None)

