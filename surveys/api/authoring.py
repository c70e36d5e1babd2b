"""Survey authoring endpoints of api.md: ``GET, POST /api/v1/surveys`` and
``GET, PATCH /api/v1/surveys/{id}``. Reads: agent and up; writes: team lead."""
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.selectors import authoring as selectors
from surveys.catalog import TEMPLATES
from surveys.models import QuestionKind, SurveyKind
from surveys.services.authoring import LOCKED_MESSAGE, SurveyLocked, survey_create, survey_create_from_template, survey_update
from tenants.accounts.authentication import request_member
from tenants.accounts.models import Role
from tenants.openapi import ErrorSerializer
from tenants.pagination import PageNumberPagination


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "locked"


# Kinds are checked by the services (same messages as the pages); the schema lists them
# inline, since two choice sets both named "kind" would collide as enum components.
@extend_schema_field({"type": "string", "enum": list(SurveyKind.values)})
class SurveyKindField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": list(QuestionKind.values)})
class QuestionKindField(serializers.CharField):
    pass


class QuestionSerializer(serializers.Serializer):
    key = serializers.CharField(required=False, allow_blank=True,
                                help_text="Stable id of the question (q1, q2…), naming its answers. On PATCH: give "
                                          "it to keep a question, leave it out for a new one.")
    kind = QuestionKindField()
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    help_text = serializers.CharField(required=False, allow_blank=True, default="")
    required = serializers.BooleanField(required=False, default=False)
    choices = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list,
        help_text="single/multiple: the options; rating: one label per point, worst first (1 = first); "
                  "nps/csat: [label of the lowest score, of the highest] (empty: defaults); text: none.")


class CountsSerializer(serializers.Serializer):
    questions = serializers.IntegerField()
    invitations = serializers.IntegerField()
    responses = serializers.IntegerField()
    open_followups = serializers.IntegerField()


class SurveySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    public_id = serializers.CharField()
    public_url = serializers.SerializerMethodField()
    kind = SurveyKindField()
    name = serializers.CharField()
    intro = serializers.CharField()
    thank_you = serializers.CharField()
    email_subject = serializers.CharField()
    email_intro = serializers.CharField()
    version = serializers.IntegerField(help_text="Bumped by every change of the questions")
    is_open = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    locked = serializers.SerializerMethodField(help_text="True once the survey has a response: its questions "
                                                         "can no longer change")
    questions = QuestionSerializer(many=True, source="questions.all")
    counts = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_url(self, survey) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:survey", args=[survey.pk]))

    def get_public_url(self, survey) -> str:
        return self.context["request"].build_absolute_uri(reverse("surveys:public", args=[survey.public_id]))

    def get_locked(self, survey) -> bool:
        return selectors.survey_has_responses(survey)

    @extend_schema_field(CountsSerializer)
    def get_counts(self, survey) -> dict:
        return {"questions": survey.question_count, "invitations": survey.invitation_count,
                "responses": survey.response_count, "open_followups": survey.open_followup_count}


class TextsMixin(serializers.Serializer):
    intro = serializers.CharField(required=False, allow_blank=True)
    thank_you = serializers.CharField(required=False, allow_blank=True)
    email_subject = serializers.CharField(required=False, allow_blank=True)
    email_intro = serializers.CharField(required=False, allow_blank=True)


class SurveyCreateSerializer(TextsMixin):
    template = serializers.ChoiceField(choices=list(TEMPLATES), required=False,
                                       help_text="Start from this template (or give kind and questions)")
    # A plain string here (nps, csat or custom): the same enum in two components would get a
    # made-up name in the schema.
    kind = serializers.CharField(required=False, help_text="nps, csat or custom; with questions")
    name = serializers.CharField(required=False, allow_blank=True,
                                 help_text="Required with kind; with a template, defaults to the template's name")
    questions = QuestionSerializer(many=True, required=False)

    def validate(self, data):
        if ("template" in data) == ("kind" in data):
            raise ValidationError("Give either template, or kind and questions.")
        if "kind" in data and "questions" not in data:
            raise ValidationError({"questions": ["Give the survey's questions (1 to 10)."]})
        if "template" in data and "questions" in data:
            raise ValidationError({"questions": ["A template brings its questions: change them afterwards with "
                                                 "PATCH, or give kind and questions instead."]})
        return data


class SurveyPatchSerializer(TextsMixin):
    name = serializers.CharField(required=False, allow_blank=True)
    questions = QuestionSerializer(many=True, required=False,
                                   help_text="The whole new list, in order (keys keep existing questions)")


def _survey_data(request, pk: int) -> dict:
    survey = selectors.survey_get(pk, counts=True)
    if survey is None:
        raise NotFound("No survey with this id in this workspace.")
    return SurveySerializer(survey, context={"request": request}).data


class SurveyListView(APIView):
    """The workspace's surveys, newest first."""

    required_roles = {"GET": Role.AGENT, "POST": Role.TEAM_LEAD}
    # Paginated by hand (an APIView); the attribute tells the schema the list is paginated.
    pagination_class = PageNumberPagination

    @extend_schema(summary="List surveys (agent)", responses=SurveySerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        queryset = selectors.survey_list().prefetch_related("questions")
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(SurveySerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Create a survey from a template, or from a kind and questions (team lead)",
        request=SurveyCreateSerializer, responses={201: SurveySerializer},
        examples=[
            OpenApiExample("From a template", value={"template": "nps", "name": "Quarterly NPS"}, request_only=True),
            OpenApiExample("Custom", request_only=True, value={
                "kind": "custom", "name": "Onboarding", "questions": [
                    {"kind": "rating", "text": "How easy was it to get started?", "required": True,
                     "choices": ["Very difficult", "Difficult", "Neither", "Easy", "Very easy"]},
                    {"kind": "text", "text": "What was missing?"}]}),
        ],
    )
    def post(self, request):
        serializer = SurveyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        texts = {name: data.pop(name) for name in ("intro", "thank_you", "email_subject", "email_intro") if name in data}
        if "template" in data:
            survey = survey_create_from_template(template=data["template"], name=data.get("name", ""),
                                                 created_by=request_member(request))
            if texts:
                survey_update(survey=survey, **texts)
        else:
            survey = survey_create(kind=data["kind"], name=data.get("name", ""),
                                   questions=[dict(q) for q in data["questions"]], created_by=request_member(request), **texts)
        return Response(_survey_data(request, survey.pk), status=201)


class SurveyDetailView(APIView):
    required_roles = {"GET": Role.AGENT, "PATCH": Role.TEAM_LEAD}

    @extend_schema(summary="A survey with its questions and counts (agent)", responses=SurveySerializer)
    def get(self, request, pk):
        return Response(_survey_data(request, pk))

    @extend_schema(
        summary="Change a survey's texts and/or questions (team lead)",
        description="Questions replace the whole list. Once the survey has a response its questions are "
                    f"locked: changing them answers 409. {LOCKED_MESSAGE}",
        request=SurveyPatchSerializer,
        responses={200: SurveySerializer, 409: OpenApiResponse(ErrorSerializer, description=LOCKED_MESSAGE)},
    )
    def patch(self, request, pk):
        survey = selectors.survey_get(pk)
        if survey is None:
            raise NotFound("No survey with this id in this workspace.")
        serializer = SurveyPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        questions = data.pop("questions", None)
        try:
            survey_update(survey=survey, questions=None if questions is None else [dict(q) for q in questions], **data)
        except SurveyLocked:
            raise Conflict(LOCKED_MESSAGE) from None
        return Response(_survey_data(request, survey.pk))
