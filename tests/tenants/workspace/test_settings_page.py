from datetime import date, time

from django.db import connection
from django_tenants.utils import tenant_context

from tenants.models import Workspace
from tenants.workspace.models import BusinessHours, Holiday
from tests.helpers import host_client


def hours_post(**overrides):
    data = {"section": "hours"}
    for day in range(1, 8):
        data.update({f"open_{day}": "on" if day <= 5 else "", f"opens_{day}": "08:30", f"closes_{day}": "18:00"})
    data.update(overrides)
    return data


def test_team_lead_updates_name_time_zone_and_currency(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post("/settings/", {"section": "workspace", "name": "Acme EU", "time_zone": "Asia/Tokyo", "currency": "JPY"})
    assert response.status_code == 302
    connection.set_schema_to_public()
    workspace = Workspace.objects.get(pk=workspace.pk)
    assert (workspace.name, workspace.time_zone, workspace.currency) == ("Acme EU", "Asia/Tokyo", "JPY")


def test_blank_name_and_unknown_time_zone_are_refused(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post("/settings/", {"section": "workspace", "name": "", "time_zone": "Nowhere/City", "currency": "EUR"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body and "Select a valid choice. Nowhere/City is not one of the available choices." in body
    connection.set_schema_to_public()
    assert Workspace.objects.get(pk=workspace.pk).name == "Acme"


def test_business_hours_are_saved_per_weekday(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post("/settings/", hours_post(open_6="on", opens_6="10:00", closes_6="14:00"))
    assert response.status_code == 302
    with tenant_context(workspace):
        rows = list(BusinessHours.objects.values_list("weekday", "opens_at", "closes_at"))
    assert rows == [(d, time(8, 30), time(18)) for d in range(1, 6)] + [(6, time(10), time(14))]


def test_closing_before_opening_is_refused_and_nothing_changes(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post("/settings/", hours_post(opens_2="18:00", closes_2="09:00"))
    assert response.status_code == 400
    assert "Tuesday: closing time must be after opening time." in response.content.decode()
    with tenant_context(workspace):
        assert BusinessHours.objects.get(weekday=2).opens_at == time(9)


def test_holidays_are_added_listed_and_removed(workspace):
    client = host_client(workspace, workspace.lead)
    client.post("/settings/", {"section": "holiday", "date": "2026-12-25", "name": "Christmas Day"})
    duplicate = client.post("/settings/", {"section": "holiday", "date": "2026-12-25", "name": "Again"})
    assert duplicate.status_code == 400 and "2026-12-25 is already a holiday." in duplicate.content.decode()
    bad = client.post("/settings/", {"section": "holiday", "date": "25/12/2026", "name": "X"})
    assert bad.status_code == 400 and "Enter a valid date." in bad.content.decode()
    with tenant_context(workspace):
        holiday = Holiday.objects.get()
        assert (holiday.date, holiday.name) == (date(2026, 12, 25), "Christmas Day")
    assert "Christmas Day" in client.get("/settings/").content.decode()
    client.post(f"/settings/holidays/{holiday.pk}/delete/")
    with tenant_context(workspace):
        assert not Holiday.objects.exists()


def test_calendar_of_one_workspace_is_invisible_to_another(workspace, other_workspace):
    host_client(workspace, workspace.lead).post("/settings/", {"section": "holiday", "date": "2026-07-14", "name": "Bastille Day"})
    page = host_client(other_workspace, other_workspace.lead).get("/settings/").content.decode()
    assert "Bastille Day" not in page
    with tenant_context(other_workspace):
        assert not Holiday.objects.exists()
