from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.workspace.models import BusinessHours, Holiday, Weekday


@transaction.atomic
def business_hours_set(*, hours: dict[int, tuple[time, time] | None]) -> list[BusinessHours]:
    """Replace the opening hours. ``hours`` maps ISO weekday to (opens, closes), or None when
    closed all day."""
    errors = {}
    for weekday, span in hours.items():
        if weekday not in Weekday.values:
            errors[f"weekday_{weekday}"] = ["Unknown weekday."]
        elif span is not None and span[1] <= span[0]:
            errors[f"closes_{weekday}"] = [f"{Weekday(weekday).label}: closing time must be after opening time."]
    if errors:
        raise ValidationError(errors)
    BusinessHours.objects.all().delete()
    created = BusinessHours.objects.bulk_create(
        BusinessHours(weekday=weekday, opens_at=span[0], closes_at=span[1]) for weekday, span in sorted(hours.items()) if span
    )
    _calendar_changed()
    return created


@transaction.atomic
def holiday_add(*, day: date, name: str) -> Holiday:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Name the holiday, e.g. 'New Year's Day'."]})
    if Holiday.objects.filter(date=day).exists():
        raise ValidationError({"date": [f"{day:%Y-%m-%d} is already a holiday."]})
    holiday = Holiday.objects.create(date=day, name=name)
    _calendar_changed()
    return holiday


@transaction.atomic
def holiday_remove(*, holiday: Holiday) -> None:
    holiday.delete()
    _calendar_changed()


def _calendar_changed() -> None:
    """Business-hours KPIs (resolution time) count these hours: recompute them."""
    from kpis.services.recomputes import kpi_calendar_changed

    kpi_calendar_changed()
