"""``GET /api/v1/surveys/{id}/responses`` (api.md): a survey's answers, newest first, with
the same filters as the responses page."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView

from surveys.selectors import results as reports
from surveys.models import Response, Survey
from tenants.accounts.models import Role
from tenants.inputs import ApiCalendarDateField


class ResponseQuerySerializer(serializers.Serializer):
    band = serializers.ChoiceField(choices=sorted({b for bands in reports.BANDS.values() for b in bands}),
                                   required=False, help_text="Score band of the survey's NPS or CSAT question")
    channel = serializers.CharField(required=False, max_length=50)
    agent = serializers.CharField(required=False, max_length=255)
    since = ApiCalendarDateField(required=False, help_text="First local day (YYYY-MM-DD), by responded_at")
    until = ApiCalendarDateField(required=False, help_text="Last local day, included")
    followup = serializers.ChoiceField(choices=["open", "done"], required=False)
    source = serializers.ChoiceField(choices=Response.Source.values, required=False)

    def validate(self, data):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError({"until": ["until must be on or after since."]})
        band, kind = data.get("band"), self.context["kind"]
        if band and band not in reports.BANDS.get(kind, {}):
            allowed = ", ".join(reports.BANDS.get(kind, {})) or "none (the survey has no NPS or CSAT question)"
            raise ValidationError({"band": [f"This survey's bands are: {allowed}."]})
        return data


class ResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="response.pk")
    source = serializers.CharField(source="response.source")
    invitation_id = serializers.IntegerField(source="response.invitation_id", allow_null=True)
    email = serializers.CharField(source="response.email")
    customer_external_id = serializers.CharField(source="response.customer_external_id")
    channel = serializers.CharField(source="response.channel")
    agent = serializers.CharField(source="response.agent")
    responded_at = serializers.DateTimeField(source="response.responded_at")
    updated_at = serializers.DateTimeField(source="response.updated_at")
    completed_at = serializers.DateTimeField(source="response.completed_at", allow_null=True)
    score = serializers.IntegerField(source="response.score", allow_null=True)
    band = serializers.CharField()
    comment = serializers.CharField(source="response.comment")
    followup = serializers.CharField(source="response.followup")
    survey_version = serializers.IntegerField(source="response.survey_version")
    counted = serializers.BooleanField(help_text="Whether the response counts in scores and KPIs (false: held for "
                                                 "review as a likely link scanner's, or rejected)")
    review = serializers.ChoiceField(source="response.review", choices=Response.Review.values,
                                     help_text="'' (a person's answer), pending (held for a team lead's review), "
                                               "accepted or rejected")
    review_reasons = serializers.ListField(source="response.review_reasons", child=serializers.CharField(),
                                           help_text="Why the submission was held: early_hit, burst, honeypot, "
                                                     "head_request, scanner_user_agent, no_dwell, early_submit")
    answers = serializers.DictField(help_text="Answer per question key: a number (scores), a string (single choice, "
                                               "text), a list (multiple choice) or null (not answered)")


class SurveyResponsesView(GenericAPIView):
    minimum_role = Role.AGENT
    serializer_class = ResponseSerializer
    # Never read by get() (the survey's filters pick the rows); the browsable API asks a
    # list view for its queryset to offer a filter form, and without one answered 500.
    queryset = Response.objects.none()

    @extend_schema(
        summary="A survey's responses, newest first",
        description="A band the survey's score question does not have answers 400, as does until before since.",
        # The query serializer the view validates with: the parameters' enums and lengths are its own.
        parameters=[ResponseQuerySerializer],
        responses=ResponseSerializer(many=True),
    )
    def get(self, request, pk):
        survey = get_object_or_404(Survey.objects.prefetch_related("questions"), pk=pk)
        kind = reports.survey_score_kind(survey)
        query = ResponseQuerySerializer(data=request.query_params, context={"kind": kind})
        query.is_valid(raise_exception=True)
        filters = reports.ResponseFilters(**{key: value for key, value in query.validated_data.items()})
        queryset = reports.responses_filtered(survey=survey, filters=filters)
        page = self.paginate_queryset(queryset)
        rows = reports.responses_rows(survey=survey, queryset=Response.objects.filter(pk__in=[r.pk for r in page])
                                      .order_by("-responded_at", "-pk"))
        data = [{"response": response, "answers": answers, "band": reports.band_of(kind, response.score),
                 "counted": response.review in Response.COUNTED_REVIEWS}
                for response, answers in rows]
        return self.get_paginated_response(ResponseSerializer(data, many=True).data)
