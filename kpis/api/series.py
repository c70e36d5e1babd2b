"""KPI endpoints of api.md: the list of KPIs, a KPI's series, and recompute requests."""
from datetime import date, timedelta

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from kpis import periods as kpi_periods
from kpis.models import KpiRecompute, KpiSettings
from kpis.periods import KINDS, RANGE, periods_ending
from kpis.registry import KPIS
from kpis.selectors.values import kpi_direction, kpi_series
from kpis.services.recomputes import kpi_recompute_request
from tenants.accounts.models import Role
from tenants.inputs import ApiCalendarDateField


class KpiSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.CharField()
    formula = serializers.CharField()
    segments = serializers.ListField(child=serializers.CharField())
    periods = serializers.ListField(child=serializers.CharField(), source="period_kinds")


class KpiListView(APIView):
    """Every KPI Pulse computes, with its formula."""

    @extend_schema(summary="List the KPIs", responses=KpiSerializer(many=True))
    def get(self, request):
        return Response(KpiSerializer(list(KPIS.values()), many=True).data)


class SeriesPointSerializer(serializers.Serializer):
    """One entry of a KPI's series, as kpis.selectors.values.kpi_series returns it. Whoever adds a
    field to the series points adds it here too, so the OpenAPI schema stays truthful."""

    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Last day of the period, included")
    value = serializers.FloatField(allow_null=True, help_text="None when the period has no data, never 0")
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    previous_value = serializers.FloatField(
        allow_null=True, help_text="The value it is compared with, over previous_start – previous_end: the whole "
        "previous period once this one has ended; while it is under way (period_complete false), the same elapsed "
        "span of the previous period, like for like (on 5 Dec: Dec 1–5 vs Nov 1–5; capped at the previous "
        "period's end, Mar 1–30 vs Feb 1–28)")
    previous_start = serializers.DateField(allow_null=True, help_text="First day of the span previous_value covers; "
                                           "null when the period has not begun (nothing to compare)")
    previous_end = serializers.DateField(allow_null=True, help_text="Last day of that span, included")
    period_complete = serializers.BooleanField(
        help_text="Whether the period has ended (in the workspace's time zone); false: value is period-to-date")
    comparison = serializers.CharField(help_text='What is compared: "Dec 1–5 vs Nov 1–5", "Nov 2025 vs Oct 2025"')
    target = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=["on_target", "off_target"], allow_null=True)
    segment = serializers.CharField(allow_null=True, help_text="The segment value when split by a segment, else null")
    ci_low = serializers.FloatField(allow_null=True, help_text="Lower end of the value's 95% confidence interval "
                                    "(docs/kpis.md); null for KPIs without one (counts, money) or without data")
    ci_high = serializers.FloatField(allow_null=True, help_text="Upper end of the value's 95% confidence interval")
    n = serializers.FloatField(allow_null=True, help_text="The sample size the interval rests on")
    small_sample = serializers.BooleanField(help_text="n below the workspace's minimum sample size: too few to "
                                            "judge, so no target status and no significance")
    change_significant = serializers.BooleanField(
        allow_null=True, help_text="Whether the change from previous_value is significant (two-sided z test, "
                                   "p < 0.05); null when it cannot be judged")


class KpiSeriesSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=["higher", "lower"], help_text="The direction in force")
    period = serializers.ChoiceField(choices=[*KINDS, RANGE])
    segment = serializers.CharField(allow_null=True)
    series = SeriesPointSerializer(many=True)


class SeriesQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=[*KINDS, RANGE], default="month")
    start = ApiCalendarDateField(required=False, help_text="First day (YYYY-MM-DD); default: 11 periods before the end's")
    end = ApiCalendarDateField(required=False, help_text="Last day, included (YYYY-MM-DD); default: today")
    segment = serializers.CharField(required=False)

    def validate(self, data):
        kpi = self.context["kpi"]
        end = data.get("end") or self.context["today"]
        kind = data["period"]
        if kind != RANGE and kind not in kpi.period_kinds:
            raise ValidationError({"period": [f"{kpi.key} is computed per {', '.join(kpi.period_kinds)} (or range)."]})
        start = data.get("start") or _default_start(kind if kind != RANGE else "month", end)
        if start > end:
            raise ValidationError({"start": ["start must be on or before end."]})
        if (end - start).days > 3660:
            raise ValidationError({"start": ["Ask for at most 10 years at a time."]})
        segment = data.get("segment")
        if segment and segment not in kpi.segments:
            allowed = ", ".join(kpi.segments) or "none"
            raise ValidationError({"segment": [f"{kpi.key} can be split by: {allowed}."]})
        return {**data, "start": start, "end": end}


def _default_start(kind: str, end: date) -> date:
    return periods_ending(kind, end)[0].start


# Every segment some KPI can be split by; which ones a KPI takes is its `segments` in GET /api/v1/kpis.
SEGMENTS = sorted({segment for kpi in KPIS.values() for segment in kpi.segments})


class KpiDetailView(APIView):
    @extend_schema(
        summary="A KPI's values per period (and segment)",
        description="At most 10 years from start to end; a period kind or a segment the KPI is not computed by "
                    "answers 400 (its `periods` and `segments` in GET /api/v1/kpis).",
        parameters=[
            OpenApiParameter("key", str, OpenApiParameter.PATH, enum=list(KPIS), description="The KPI's key"),
            OpenApiParameter("period", str, enum=[*KINDS, RANGE], default="month",
                             description="range: one value for the whole start–end range"),
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD), on or before end; "
                             "default: 11 periods before the end's"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included (YYYY-MM-DD); default: today "
                             "in the workspace's time zone"),
            OpenApiParameter("segment", str, enum=SEGMENTS, description="Split the series by this segment"),
        ],
        responses=KpiSeriesSerializer,
    )
    def get(self, request, key):
        kpi = KPIS.get(key)
        if kpi is None:
            raise NotFound(f"Unknown KPI '{key}'; GET /api/v1/kpis lists them.")
        # Today in the workspace's time zone: the default end, and what decides which periods are under way.
        today = kpi_periods.local_today(request.tenant.time_zone)
        query = SeriesQuerySerializer(data=request.query_params, context={"kpi": kpi, "today": today})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        settings = KpiSettings.load()
        series = kpi_series(key=key, period=data["period"], start=data["start"], end=data["end"] + timedelta(days=1),
                            segment=data.get("segment"), settings=settings, today=today)
        # Rendered through the serializer the schema declares: the answer is what it says.
        return Response(KpiSeriesSerializer({
            "key": key, "label": kpi.label, "unit": kpi.unit, "direction": kpi_direction(kpi=kpi, targets=settings.targets),
            "period": data["period"], "segment": data.get("segment"), "series": series}).data)


class RecomputeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    progress = serializers.FloatField()

    class Meta:
        model = KpiRecompute
        fields = ["id", "url", "status", "progress", "kpis_total", "kpis_done", "rows_written", "error",
                  "requested_at", "started_at", "finished_at"]

    def get_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:kpi-recompute-detail", args=[job.pk]))


class RecomputeView(APIView):
    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="Recompute every KPI snapshot now (team lead)", request=None, responses={202: RecomputeSerializer})
    def post(self, request):
        job = kpi_recompute_request()
        return Response(RecomputeSerializer(job, context={"request": request}).data, status=202)


class RecomputeDetailView(APIView):
    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="Progress of a recompute (team lead)", responses=RecomputeSerializer)
    def get(self, request, pk):
        job = KpiRecompute.objects.filter(pk=pk).first()
        if job is None:
            raise NotFound("No recompute with this id in this workspace.")
        return Response(RecomputeSerializer(job, context={"request": request}).data)
