"""Settings → KPIs (the definitions in force and the targets) and the "Recompute now"
button with its progress."""
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kpis.forms import KpiSettingsForm
from kpis.models import KpiRecompute, KpiSettings
from kpis.registry import KPIS
from kpis.selectors.recomputes import conversation_channels, kpi_recompute_latest
from kpis.services.recomputes import kpi_recompute_request
from kpis.services.settings import kpi_settings_update
from kpis.views.common import recompute_context
from tenants.accounts.decorators import team_lead_required
from tenants.forms import form_apply
from tenants.http import next_url


@require_POST
@team_lead_required
def recompute_now(request):
    """The "Recompute now" button: queue a recompute of every snapshot, back to the page."""
    kpi_recompute_request()
    messages.success(request, "Recomputing every KPI. This page shows the progress.")
    return redirect(next_url(request, reverse("dashboard")))


@team_lead_required
def recompute_progress(request, pk):
    """The state of a recompute, polled by the pages showing its progress."""
    job = get_object_or_404(KpiRecompute, pk=pk)
    return JsonResponse({
        "status": job.status, "status_label": job.get_status_display(), "progress": job.progress,
        "kpis_done": job.kpis_done, "kpis_total": job.kpis_total, "finished": job.is_finished, "error": job.error,
    })


def _settings_saved(update) -> str:
    if update.recompute is not None:
        return f"KPI settings saved. Recomputing {', '.join(KPIS[key].label for key in update.keys)}."
    if update.affected:
        return "KPI settings saved. Targets only change a value's status: nothing to recompute."
    return "Nothing changed."


@team_lead_required
def kpi_settings(request):
    """Settings → KPIs: the definitions in force and the targets (team lead)."""
    settings = KpiSettings.load()
    form = KpiSettingsForm(request.POST or None, settings=settings, channels=conversation_channels())
    if request.method == "POST" and form_apply(
            request, form, lambda data: kpi_settings_update(settings=settings, **form.changes()), _settings_saved):
        return redirect("kpis:kpi_settings")
    return render(request, "kpis/settings.html", {"form": form, **recompute_context(kpi_recompute_latest())},
                  status=400 if form.errors else 200)

