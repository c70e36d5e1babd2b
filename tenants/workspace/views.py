from django.contrib import messages
from django.db import connection
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenants.accounts.decorators import team_lead_required
from tenants.forms import WorkspaceForm, form_apply
from tenants.services import workspace_update
from tenants.workspace import selectors, services
from tenants.workspace.forms import BusinessHoursForm, HolidayForm
from tenants.workspace.models import Holiday


@team_lead_required
def workspace_settings(request):
    workspace = connection.tenant
    section = request.POST.get("section")
    initial = {"name": workspace.name, "time_zone": workspace.time_zone, "currency": workspace.currency}
    workspace_form = WorkspaceForm(request.POST if section == "workspace" else None, initial=initial)
    hours_form = BusinessHoursForm(request.POST if section == "hours" else None, current=selectors.business_hours_by_weekday())
    holiday_form = HolidayForm(request.POST if section == "holiday" else None)

    actions = {
        "workspace": (workspace_form, lambda data: workspace_update(workspace=workspace, **data), "Workspace details saved."),
        "hours": (hours_form, lambda data: services.business_hours_set(hours=data["hours"]), "Business hours saved."),
        "holiday": (holiday_form, lambda data: services.holiday_add(day=data["date"], name=data["name"]), "Holiday added."),
    }
    if section in actions and form_apply(request, *actions[section]):
        return redirect("workspace:settings")

    has_errors = any(form.errors for form in (workspace_form, hours_form, holiday_form))
    context = {
        "workspace_form": workspace_form,
        "hours_form": hours_form,
        "holiday_form": holiday_form,
        "holidays": selectors.holiday_list(),
    }
    return render(request, "workspace/settings.html", context, status=400 if has_errors else 200)


@require_POST
@team_lead_required
def holiday_delete(request, pk):
    holiday = get_object_or_404(Holiday, pk=pk)
    services.holiday_remove(holiday=holiday)
    messages.success(request, f"{holiday.name} removed.")
    return redirect("workspace:settings")
