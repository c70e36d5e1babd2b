"""The alerts page: every member reads the alerts; team leads set rules, mute them and
acknowledge alerts (POSTs only)."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kpis.forms import AlertRuleForm
from kpis.models import Alert, AlertRule
from kpis.registry import KPIS
from kpis.selectors.alerts import alert_rules, alerts_recent
from kpis.services.alerts import alert_acknowledge, alert_rule_create, alert_rule_delete, alert_rule_mute
from tenants.accounts.decorators import member_required, team_lead_required


@member_required
def alerts(request):
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_team_lead:
            raise PermissionDenied("Only a team lead can set alert rules.")
        if form.is_valid():
            rule = alert_rule_create(**form.cleaned_data, created_by=request.user)
            messages.success(request, f"Alert rule on {KPIS[rule.kpi].label} saved: it is judged after every recompute.")
            return redirect("kpis:alerts")
    return render(request, "kpis/alerts.html", {"form": form, "rules": alert_rules(), "alerts": alerts_recent()}, status=400 if form.errors else 200)


@team_lead_required
@require_POST
def alert_rule_toggle(request, pk):
    rule = alert_rule_mute(rule=get_object_or_404(AlertRule, pk=pk), muted=request.POST.get("muted") == "1")
    messages.success(request, f"Rule on {KPIS[rule.kpi].label} {'muted' if rule.muted else 'active again'}.")
    return redirect("kpis:alerts")


@team_lead_required
@require_POST
def alert_rule_remove(request, pk):
    alert_rule_delete(rule=get_object_or_404(AlertRule, pk=pk))
    messages.success(request, "Alert rule deleted, with its alerts.")
    return redirect("kpis:alerts")


@team_lead_required
@require_POST
def alert_ack(request, pk):
    alert_acknowledge(alert=get_object_or_404(Alert, pk=pk), user=request.user)
    return redirect("kpis:alerts")
