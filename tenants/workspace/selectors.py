from datetime import time

from tenants.workspace.models import BusinessHours, Holiday


def business_hours_by_weekday() -> dict[int, tuple[time, time]]:
    return {row.weekday: (row.opens_at, row.closes_at) for row in BusinessHours.objects.all()}


def holiday_list():
    return Holiday.objects.order_by("date")
