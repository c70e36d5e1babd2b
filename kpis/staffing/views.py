"""The staffing page: agents needed per hour of the week and channel, from the workspace's
own conversations, with what-if rules (read from the query, never saved) and, for team
leads, the channel's saved rules."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from kpis.staffing.forms import RULE_FIELDS, StaffingQueryForm, StaffingRulesForm
from kpis.staffing.selectors import DEFAULT_WEEKS, forecast_weeks, rules_for, staffing_plans, what_if_plan
from kpis.staffing.services import staffing_channel_reset, staffing_channel_save
from kpis.views.common import local_today
from tenants.accounts.decorators import member_required, team_lead_required

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEAT_STEPS = 8


def _grid(plan, history) -> list[dict]:
    """24 rows (hours) of 7 cells (Monday … Sunday), each with its figures and heat step."""
    peak = max(plan.scheduled) or 1
    rows = []
    for hour in range(24):
        cells = []
        for day in range(7):
            slot = day * 24 + hour
            level = plan.service_level[slot]
            cells.append({"scheduled": plan.scheduled[slot], "on_floor": plan.on_floor[slot],
                          "arrivals": plan.arrivals[slot], "observed": history.observed[slot],
                          "service_level": None if level is None else level * 100,
                          "short": history.observed[slot] and history.observed[slot] < plan.on_floor[slot],
                          "heat": round(HEAT_STEPS * plan.scheduled[slot] / peak), "day": WEEKDAYS[day]})
        rows.append({"hour": hour, "cells": cells})
    return rows


def answered_as(plan) -> str:
    """How a plan answers its channel, in words."""
    rules = plan.rules
    if plan.method == "backlog":
        return f"Backlog: {rules.target * 100:g}% within {rules.within_hours} h"
    formula = "Erlang A" if plan.method == "erlang_a" else "Erlang C"
    chats = f", {rules.concurrency} at once" if rules.concurrency > 1 else ""
    return f"{formula}: {rules.target * 100:g}% within {rules.within_seconds} s{chats}"


def _channel_rows(plans: dict, weeks: int, saved: set, forecast: bool) -> list[dict]:
    return [{"channel": name, "per_week": sum(plan.arrivals) if forecast else history.conversations / weeks,
             "handle_time": plan.handle_time,
             "answered_as": answered_as(plan), "peak": plan.peak, "agent_hours": plan.agent_hours,
             "problem": plan.problem, "saved": name in saved, "reached": plan.reached}
            for name, (history, plan) in plans.items()]


@member_required
def staffing(request):
    today = local_today(request)
    query = StaffingQueryForm(request.GET, mondays=forecast_weeks(today))
    cleaned = query.cleaned_data if query.is_valid() else {}
    weeks = cleaned.get("weeks") or DEFAULT_WEEKS
    found = staffing_plans(today=today, weeks=weeks, week=cleaned.get("week"))
    plans = found.plans
    # The busiest channel first when none (or an unknown one) is asked for.
    busiest = sorted(plans, key=lambda name: -plans[name][0].conversations)
    channel = cleaned.get("channel") if cleaned.get("channel") in plans else (busiest[0] if busiest else None)
    context = {"query": query, "weeks": weeks, "week": found.week, "since": found.since, "until": found.until, "plans": plans,
               "channel": channel, "weekdays": WEEKDAYS,
               "rows": _channel_rows(plans, weeks, found.saved, found.week is not None), "status": 200 if query.is_valid() else 400}
    if channel is not None:
        history, plan = plans[channel]
        form = StaffingRulesForm(rules=plan.rules)
        if "what_if" in request.GET:
            form = StaffingRulesForm(request.GET, rules=plan.rules)
            if form.is_valid():
                plan = what_if_plan(history, plan, form.rules_changes())
                context["what_if"] = True
            else:
                context["status"] = 400
        context.update(history=history, plan=plan, form=form, grid=_grid(plan, history), saved=channel in found.saved,
                       answered_as=answered_as(plan), observed_any=any(history.observed),
                       forecast_total=sum(plan.arrivals), occupancy_cap=plan.rules.max_occupancy * 100, shrinkage=plan.rules.shrinkage * 100,
                       answered_in_time=None if plan.answered_in_time is None else plan.answered_in_time * 100)
    return render(request, "kpis/staffing.html", context, status=context["status"])


@require_POST
@team_lead_required
def staffing_rules_save(request):
    """Save (or reset to the defaults) one channel's rules, back to its page."""
    channel = (request.POST.get("channel") or "").strip()
    if not channel or len(channel) > 50:
        raise PermissionDenied("No channel named.")
    # Back to the page as it was read (its weeks of history), whatever else was posted.
    asked = StaffingQueryForm({"weeks": request.POST.get("weeks", ""), "week": request.POST.get("week", "")},
                              mondays=forecast_weeks(local_today(request)))
    read = {name: value for name, value in (asked.cleaned_data if asked.is_valid() else {}).items()
            if name in ("weeks", "week") and value}
    back = f"{reverse('staffing:page')}?{urlencode({'channel': channel, **read})}"
    if "reset" in request.POST:
        reset = staffing_channel_reset(channel=channel)
        messages.success(request, f"{channel}: back to the default rules." if reset else f"{channel} had no rules of its own.")
        return redirect(back)
    form = StaffingRulesForm(request.POST, rules=rules_for(channel))
    if not form.is_valid():
        messages.error(request, "Not saved: " + "; ".join(f"{form.fields[name].label if name in form.fields else name}: {error}"
                                                           for name, errors in form.errors.items() for error in errors))
        return redirect(f"{back}&what_if=1&{urlencode({k: request.POST.get(k, '') for k in RULE_FIELDS})}")
    staffing_channel_save(channel=channel, **{name: form.cleaned_data[name] for name in RULE_FIELDS})
    messages.success(request, f"{channel}: staffing rules saved.")
    return redirect(back)
