"""Alert endpoints: ``GET, POST /api/v1/alert-rules``, ``GET, PATCH, DELETE
/api/v1/alert-rules/{id}``, ``GET /api/v1/alerts`` and ``POST /api/v1/alerts/{id}/acknowledge``.
Reads: any member (the alerts page is every member's); writes: team lead. A rule is checked
by the very form the alerts page uses, so the API and the page refuse the same rules with the
same messages."""
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from kpis.alerting import ANOMALY_MIN_HISTORY
from kpis.forms import AlertRuleForm
from kpis.models import AlertRule
from kpis.periods import KINDS
from kpis.registry import KPIS
from kpis.selectors.alerts import alert_rules_query, alerts_query
from kpis.services.alerts import alert_acknowledge, alert_rule_create, alert_rule_delete, alert_rule_mute
from tenants.accounts.authentication import request_member
from tenants.accounts.models import Role
from tenants.pagination import PageNumberPagination

SEGMENT_KINDS = sorted({segment for kpi in KPIS.values() for segment in kpi.segments})


class AlertRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    kpi = serializers.ChoiceField(choices=list(KPIS))
    kpi_label = serializers.CharField()
    kind = serializers.ChoiceField(choices=AlertRule.Kind.choices)
    period_kind = serializers.ChoiceField(choices=list(KINDS))
    segment_kind = serializers.CharField(help_text="'' for the whole workspace, else one alert per value of it")
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    k = serializers.FloatField(help_text="anomaly: the usual range is the mean ± k standard deviations")
    history = serializers.IntegerField(help_text="anomaly: previous finished periods the usual range is made of")
    min_history = serializers.IntegerField(help_text="anomaly: periods with data needed before it is judged")
    direction = serializers.ChoiceField(choices=AlertRule.Direction.choices,
                                        help_text="anomaly: which side of the usual range alerts")
    muted = serializers.BooleanField()
    social_spike = serializers.BooleanField(source="is_social_spike",
                                            help_text="The contract's social spike alert every workspace starts with")
    created_at = serializers.DateTimeField()

    def get_url(self, rule) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:alert-rule", args=[rule.pk]))


class AlertRuleCreateSerializer(serializers.Serializer):
    kpi = serializers.ChoiceField(choices=list(KPIS), help_text="A key of GET /api/v1/kpis")
    kind = serializers.ChoiceField(choices=AlertRule.Kind.choices, help_text="threshold: crosses low or high; "
                                   "off_target: turns off target; anomaly: leaves its usual range")
    period_kind = serializers.ChoiceField(choices=list(KINDS), default="day")
    segment_kind = serializers.ChoiceField(choices=["", *SEGMENT_KINDS], default="", required=False)
    low = serializers.FloatField(required=False, allow_null=True, default=None)
    high = serializers.FloatField(required=False, allow_null=True, default=None)
    k = serializers.FloatField(required=False, default=3.0, min_value=0.5, max_value=10)
    history = serializers.IntegerField(required=False, default=28, min_value=ANOMALY_MIN_HISTORY, max_value=366)
    min_history = serializers.IntegerField(required=False, default=ANOMALY_MIN_HISTORY, min_value=ANOMALY_MIN_HISTORY,
                                           max_value=366)
    direction = serializers.ChoiceField(choices=AlertRule.Direction.choices, default="both", required=False)

    def validate(self, data):
        # The page's form judges the combination (a bound below, a segment the KPI has…).
        form = AlertRuleForm({name: value for name, value in data.items() if value is not None})
        if not form.is_valid():
            raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
        return form.cleaned_data


class AlertRulePatchSerializer(serializers.Serializer):
    muted = serializers.BooleanField(help_text="A muted rule is judged but fires nothing")


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.IntegerField(source="rule_id")
    kpi = serializers.CharField(source="rule.kpi")
    period_kind = serializers.CharField(source="rule.period_kind")
    period_start = serializers.DateField()
    segment_kind = serializers.CharField(source="rule.segment_kind")
    segment = serializers.CharField(help_text="The segment value that broke the rule ('' for the workspace)")
    value = serializers.FloatField()
    expected_low = serializers.FloatField(allow_null=True)
    expected_high = serializers.FloatField(allow_null=True)
    message = serializers.CharField()
    state = serializers.SerializerMethodField()
    times = serializers.IntegerField(help_text="How many times it fired (again after clearing)")
    fired_at = serializers.DateTimeField()
    cleared_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.EmailField(source="acknowledged_by.email", allow_null=True, default=None)

    def get_state(self, alert) -> str:
        return "firing" if alert.cleared_at is None else "cleared"


class AlertQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["firing", "cleared"], required=False)
    rule = serializers.IntegerField(required=False, min_value=1)
    kpi = serializers.ChoiceField(choices=list(KPIS), required=False)


def _rule(pk: int) -> AlertRule:
    rule = alert_rules_query().filter(pk=pk).first()
    if rule is None:
        raise NotFound("No alert rule with this id in this workspace.")
    return rule


class AlertRuleListView(APIView):
    """The workspace's alert rules, by KPI."""

    required_roles = {"GET": Role.VIEWER, "POST": Role.TEAM_LEAD}
    pagination_class = PageNumberPagination

    @extend_schema(summary="List alert rules", responses=AlertRuleSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(alert_rules_query(), request, view=self)
        return paginator.get_paginated_response(AlertRuleSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(summary="Set an alert rule (team lead)", request=AlertRuleCreateSerializer,
                   responses={201: AlertRuleSerializer})
    def post(self, request):
        body = AlertRuleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = alert_rule_create(**body.validated_data, created_by=request_member(request))
        return Response(AlertRuleSerializer(rule, context={"request": request}).data, status=201)


class AlertRuleDetailView(APIView):
    required_roles = {"GET": Role.VIEWER, "PATCH": Role.TEAM_LEAD, "DELETE": Role.TEAM_LEAD}

    @extend_schema(summary="An alert rule", responses=AlertRuleSerializer)
    def get(self, request, pk: int):
        return Response(AlertRuleSerializer(_rule(pk), context={"request": request}).data)

    @extend_schema(summary="Mute or unmute an alert rule (team lead)", request=AlertRulePatchSerializer,
                   responses=AlertRuleSerializer)
    def patch(self, request, pk: int):
        rule = _rule(pk)
        body = AlertRulePatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = alert_rule_mute(rule=rule, muted=body.validated_data["muted"])
        return Response(AlertRuleSerializer(rule, context={"request": request}).data)

    @extend_schema(summary="Delete an alert rule and its alerts (team lead)", responses={204: OpenApiResponse(description="Deleted")})
    def delete(self, request, pk: int):
        alert_rule_delete(rule=_rule(pk))
        return Response(status=204)


class AlertListView(APIView):
    """The alerts, firing ones first, then the newest."""

    minimum_role = Role.VIEWER
    pagination_class = PageNumberPagination

    @extend_schema(summary="List alerts", responses=AlertSerializer(many=True), parameters=[
        OpenApiParameter("state", str, enum=["firing", "cleared"], description="Only firing or only cleared alerts"),
        OpenApiParameter("rule", int, description="Only this rule's alerts"),
        OpenApiParameter("kpi", str, enum=list(KPIS), description="Only alerts on this KPI"),
    ])
    def get(self, request):
        query = AlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(alerts_query(**query.validated_data), request, view=self)
        return paginator.get_paginated_response(AlertSerializer(page, many=True).data)


class AlertAcknowledgeView(APIView):
    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="Acknowledge an alert (team lead)", request=None, responses=AlertSerializer)
    def post(self, request, pk: int):
        alert = alerts_query().filter(pk=pk).first()
        if alert is None:
            raise NotFound("No alert with this id in this workspace.")
        alert_acknowledge(alert=alert, user=request_member(request))
        return Response(AlertSerializer(alerts_query().get(pk=pk)).data)
