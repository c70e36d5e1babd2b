"""Staffing endpoints: ``GET /api/v1/staffing`` (the week's plan per channel, with what-if
rules for one channel in the query) and ``GET, PUT, DELETE /api/v1/staffing/rules/{channel}``
(the rules in force; saving and resetting them is the team lead's). Rules are checked by
the page's own form, so the API and the page refuse the same values with the same messages."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from kpis import periods
from kpis.staffing.forms import RULE_FIELDS, StaffingRulesForm
from kpis.staffing.models import StaffingChannel
from kpis.staffing.selectors import (DEFAULT_WEEKS, channel_rules, forecast_weeks, rules_for, staffing_plans,
                                      what_if_plan)
from kpis.staffing.services import staffing_channel_reset, staffing_channel_save
from tenants.accounts.models import Role

_HOURS = "168 values, one per hour of the week in the workspace's time zone: index 0 is Monday 00:00–01:00, 167 Sunday 23:00"


class StaffingRulesSerializer(serializers.Serializer):
    channel = serializers.CharField()
    saved = serializers.BooleanField(help_text="false: the defaults of the channel's kind are in force")
    mode = serializers.ChoiceField(choices=StaffingChannel.Mode.choices)
    method = serializers.ChoiceField(choices=StaffingChannel.Method.choices, help_text="queue mode only")
    target_percent = serializers.FloatField()
    within_seconds = serializers.IntegerField(help_text="queue mode: the service level's threshold")
    within_hours = serializers.IntegerField(help_text="backlog mode: the answer window")
    handle_time_seconds = serializers.IntegerField(allow_null=True, help_text="null: measured")
    patience_seconds = serializers.IntegerField(allow_null=True, help_text="null: measured")
    concurrency = serializers.IntegerField()
    max_occupancy_percent = serializers.FloatField()
    shrinkage_percent = serializers.FloatField()


class StaffingRulesBodySerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=StaffingChannel.Mode.choices)
    method = serializers.ChoiceField(choices=StaffingChannel.Method.choices, required=False)
    target_percent = serializers.FloatField(min_value=1, max_value=100)
    within_seconds = serializers.IntegerField(required=False, min_value=1)
    within_hours = serializers.IntegerField(required=False, min_value=1, max_value=168)
    handle_time_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    patience_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    concurrency = serializers.IntegerField(required=False, min_value=1, max_value=20)
    max_occupancy_percent = serializers.FloatField(required=False, min_value=1, max_value=100)
    shrinkage_percent = serializers.FloatField(required=False, min_value=0, max_value=95)


class ChannelPlanSerializer(serializers.Serializer):
    channel = serializers.CharField()
    rules = StaffingRulesSerializer()
    what_if = serializers.BooleanField(help_text="true: planned with the query's rules, not the saved ones")
    method = serializers.ChoiceField(choices=["erlang_a", "erlang_c", "backlog"], help_text="what the plan used")
    problem = serializers.CharField(help_text="why there is no plan ('' when there is one)")
    conversations = serializers.IntegerField(help_text="in the weeks read")
    handle_time_seconds = serializers.FloatField(allow_null=True, help_text="used")
    handle_time_source = serializers.ChoiceField(choices=["set", "measured", "assumed"], help_text=(
        "set in the rules; measured (live channels: resolved − first response of one-touch conversations); "
        "assumed (backlog channels without a set one: 480 s for email, 300 s for the others)"))
    measured_handle_time_seconds = serializers.FloatField(allow_null=True)
    patience_seconds = serializers.FloatField(allow_null=True, help_text="used (Erlang A only)")
    measured_patience_seconds = serializers.FloatField(allow_null=True)
    abandoned = serializers.IntegerField(help_text="abandoned conversations the patience rests on")
    reached = serializers.BooleanField(help_text="false: some hour's target is out of reach")
    peak = serializers.IntegerField(help_text="most agents scheduled in one hour")
    agent_hours = serializers.IntegerField(help_text="agents scheduled, summed over the week's hours")
    answered_in_time_percent = serializers.FloatField(allow_null=True, help_text="backlog mode: the week's share")
    arrivals = serializers.ListField(child=serializers.FloatField(),
                                     help_text=f"Conversations expected (the history's mean, or the forecast): {_HOURS}")
    on_floor = serializers.ListField(child=serializers.IntegerField(), help_text=f"Agents on the floor: {_HOURS}")
    scheduled = serializers.ListField(child=serializers.IntegerField(), help_text=f"Agents to schedule: {_HOURS}")
    service_level_percent = serializers.ListField(child=serializers.FloatField(allow_null=True),
                                                  help_text=f"Queue mode: the service level reached: {_HOURS}")
    observed = serializers.ListField(child=serializers.FloatField(), help_text=f"Agents seen answering: {_HOURS}")


class StaffingSerializer(serializers.Serializer):
    since = serializers.DateField(help_text="first day read (a Monday)")
    until = serializers.DateField(help_text="the day after the last one read (a Monday)")
    weeks = serializers.IntegerField()
    week = serializers.DateField(allow_null=True, help_text="the forecast week planned for; null: the mean week of "
                                                            "the history")
    channels = ChannelPlanSerializer(many=True)


class StaffingQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(required=False, default=DEFAULT_WEEKS, min_value=1, max_value=52)
    channel = serializers.CharField(required=False, max_length=50)
    week = serializers.DateField(required=False)

    def validate_week(self, week):
        mondays = self.context["mondays"]
        if week not in mondays:
            raise ValidationError(f"Forecasts are for the weeks starting {', '.join(m.isoformat() for m in mondays)}.")
        return week


def _rules_data(rules, saved: bool) -> dict:
    return {"channel": rules.channel, "saved": saved, "mode": rules.mode, "method": rules.method,
            "target_percent": round(rules.target * 100, 4), "within_seconds": rules.within_seconds,
            "within_hours": rules.within_hours, "handle_time_seconds": rules.handle_time,
            "patience_seconds": rules.patience, "concurrency": rules.concurrency,
            "max_occupancy_percent": round(rules.max_occupancy * 100, 4), "shrinkage_percent": round(rules.shrinkage * 100, 4)}


def _plan_data(history, plan, saved: bool, what_if: bool) -> dict:
    percent = (lambda share: None if share is None else round(share * 100, 4))
    return {"channel": history.channel, "rules": _rules_data(plan.rules, saved), "what_if": what_if,
            "method": plan.method, "problem": plan.problem, "conversations": history.conversations,
            "handle_time_seconds": plan.handle_time, "handle_time_source": plan.handle_source,
            "measured_handle_time_seconds": history.aht,
            "patience_seconds": plan.patience, "measured_patience_seconds": history.patience,
            "abandoned": history.abandoned, "reached": plan.reached, "peak": plan.peak, "agent_hours": plan.agent_hours,
            "answered_in_time_percent": percent(plan.answered_in_time), "arrivals": [round(a, 4) for a in plan.arrivals],
            "on_floor": plan.on_floor, "scheduled": plan.scheduled,
            "service_level_percent": [percent(level) for level in plan.service_level],
            "observed": [round(agents, 4) for agents in history.observed]}


def _checked(data, rules) -> dict:
    """``data``'s rule fields over ``rules``, checked by the page's form: its cleaned fields."""
    form = StaffingRulesForm(rules=rules)
    merged = {name: "" if value is None else value for name, value in form.initial.items()}
    merged.update({name: "" if data[name] is None else data[name] for name in RULE_FIELDS if name in data})
    form = StaffingRulesForm(merged, rules=rules)
    if not form.is_valid():
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    return form


class StaffingView(APIView):
    """Agents needed per hour of the week and channel, from the workspace's conversations."""

    minimum_role = Role.VIEWER

    @extend_schema(summary="Staffing plan per channel", responses=StaffingSerializer, parameters=[
        OpenApiParameter("weeks", int, description=f"Whole weeks of history read, before this week (default {DEFAULT_WEEKS})"),
        OpenApiParameter("week", OpenApiTypes.DATE, description="Plan for this week's forecast arrivals (the Monday of "
                         "the week under way or of one of the next three); without it, the mean week of the history"),
        OpenApiParameter("channel", str, description="Only this channel; with rule fields (the names of PUT "
                                                     "/api/v1/staffing/rules/{channel}), a what-if plan, not saved"),
        *[OpenApiParameter(name, str, description="What-if rule (needs channel)") for name in RULE_FIELDS],
    ])
    def get(self, request):
        today = periods.local_today(request.tenant.time_zone)
        query = StaffingQuerySerializer(data=request.query_params, context={"mondays": forecast_weeks(today)})
        query.is_valid(raise_exception=True)
        channel = query.validated_data.get("channel")
        asked = {name: request.query_params[name] for name in RULE_FIELDS if name in request.query_params}
        if asked and not channel:
            raise ValidationError({"channel": ["What-if rules need the channel they apply to."]})
        found = staffing_plans(today=today, weeks=query.validated_data["weeks"], week=query.validated_data.get("week"))
        channels = []
        for name, (history, plan) in found.plans.items():
            if channel and name != channel:
                continue
            if asked:
                form = _checked(asked, plan.rules)
                plan = what_if_plan(history, plan, form.rules_changes())
            channels.append(_plan_data(history, plan, name in found.saved, bool(asked)))
        return Response({"since": found.since, "until": found.until, "weeks": query.validated_data["weeks"],
                         "week": found.week, "channels": channels})


class StaffingRulesView(APIView):
    """One channel's staffing rules: its own, or the defaults of its kind."""

    required_roles = {"GET": Role.VIEWER, "PUT": Role.TEAM_LEAD, "DELETE": Role.TEAM_LEAD}

    @extend_schema(summary="A channel's staffing rules", responses=StaffingRulesSerializer)
    def get(self, request, channel: str):
        saved = channel_rules()
        return Response(_rules_data(rules_for(channel, saved), channel in saved))

    @extend_schema(summary="Save a channel's staffing rules (team lead)", request=StaffingRulesBodySerializer,
                   responses=StaffingRulesSerializer)
    def put(self, request, channel: str):
        if len(channel) > 50:
            raise ValidationError({"channel": ["A channel has at most 50 characters."]})
        body = StaffingRulesBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = _checked(body.validated_data, rules_for(channel))
        row = staffing_channel_save(channel=channel, **{name: form.cleaned_data[name] for name in RULE_FIELDS})
        return Response(_rules_data(row.as_rules(), True))

    @extend_schema(summary="Back to the default rules (team lead)", responses={204: OpenApiResponse(description="Reset")})
    def delete(self, request, channel: str):
        staffing_channel_reset(channel=channel)
        return Response(status=204)
