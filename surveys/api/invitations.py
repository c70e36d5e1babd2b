"""``POST, GET /api/v1/surveys/{id}/invitations``: invite people to a survey by email, and
the delivery status of each invitation."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.models import Invitation, InvitationSource, InvitationStatus, Survey
from surveys.services.invitations import RECIPIENT_FIELDS, invitations_create
from tenants.accounts.models import Role
from tenants.inputs import in_calendar
from tenants.pagination import PageNumberPagination

MAX_RECIPIENTS = 10_000


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "email", "name", "customer_external_id", "channel", "agent", "conversation_external_id", "source",
                  "campaign", "status", "failure_reason", "attempts", "scheduled_at", "sent_at", "expires_at",
                  "reminder_at", "reminder_status", "reminded_at", "responded_at", "created_at"]


class RefusalSerializer(serializers.Serializer):
    email = serializers.CharField()
    reason = serializers.CharField()


class InvitationsCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    invitations = InvitationSerializer(many=True)
    refused = RefusalSerializer(many=True, help_text="Recipients not invited, with the reason")


_RECIPIENTS_SCHEMA = {"type": "array", "maxItems": MAX_RECIPIENTS, "items": {
    "type": "object", "properties": {name: {"type": "string", "nullable": True} for name in RECIPIENT_FIELDS},
    "required": ["email"], "additionalProperties": False}}
# The two bodies the view reads (api.md's plain list, or the list with its options).
_INVITE_BODY_SCHEMA = {"oneOf": [_RECIPIENTS_SCHEMA, {
    "type": "object", "required": ["recipients"], "properties": {
        "recipients": _RECIPIENTS_SCHEMA,
        "scheduled_at": {"type": "string", "format": "date-time", "nullable": True,
                         "description": "When to send, with its offset; default: now"},
        "reminder_days": {"type": "integer", "minimum": 1, "maximum": 60, "nullable": True,
                          "description": "Remind the unanswered this many days later; null: no reminder"}}}]}


def _survey(pk) -> Survey:
    survey = Survey.objects.filter(pk=pk).first()
    if survey is None:
        raise NotFound("No survey with this id in this workspace.")
    return survey


def _recipients(items) -> list[dict]:
    if not isinstance(items, list):
        raise ValidationError("Send a JSON list of recipients ({\"email\", \"name\", \"customer_external_id\", "
                              "\"channel\", \"agent\"}), or an object with \"recipients\".")
    if len(items) > MAX_RECIPIENTS:
        raise ValidationError(f"Send at most {MAX_RECIPIENTS:,} recipients per request; this one has {len(items):,}.")
    errors = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(f"recipient {index}: each recipient must be a JSON object")
            continue
        unknown = sorted(set(item) - set(RECIPIENT_FIELDS))
        if unknown:
            errors.append(f"recipient {index}: unknown field {unknown[0]}; the fields are {', '.join(RECIPIENT_FIELDS)}")
        elif any(value is not None and not isinstance(value, str) for value in item.values()):
            errors.append(f"recipient {index}: every field is a string")
    if errors:
        # Malformed requests are refused whole (nothing queued); invalid or refused
        # addresses in a well-formed request are answered in "refused" instead.
        raise ValidationError({"recipients": errors[:100]})
    return items


class SurveyInvitationsView(APIView):
    """Invite people to a survey (one email each, honouring the suppression list and the
    throttling window), or list the survey's invitations with their status."""

    required_roles = {"POST": Role.TEAM_LEAD, "GET": Role.AGENT}
    # Paginated by hand (an APIView); the attribute tells the schema the list is paginated.
    pagination_class = PageNumberPagination

    @extend_schema(
        summary="List a survey's invitations and their delivery status (agent)",
        parameters=[OpenApiParameter("status", str, enum=list(InvitationStatus.values)),
                    OpenApiParameter("source", str, enum=list(InvitationSource.values)),
                    OpenApiParameter("campaign", int, description="Only the invitations of this campaign (its id)")],
        responses=InvitationSerializer(many=True),
    )
    def get(self, request, pk):
        survey = _survey(pk)
        invitations = Invitation.objects.filter(survey=survey).order_by("-created_at", "-id")
        status = request.query_params.get("status")
        if status:
            if status not in InvitationStatus.values:
                raise ValidationError({"status": [f"Use one of: {', '.join(InvitationStatus.values)}."]})
            invitations = invitations.filter(status=status)
        source = request.query_params.get("source")
        if source:
            if source not in InvitationSource.values:
                raise ValidationError({"source": [f"Use one of: {', '.join(InvitationSource.values)}."]})
            invitations = invitations.filter(source=source)
        campaign = request.query_params.get("campaign")
        if campaign:
            if not campaign.isdigit():
                raise ValidationError({"campaign": ["A campaign id (a number)."]})
            invitations = invitations.filter(campaign_id=int(campaign))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(invitations, request, view=self)
        return paginator.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(
        summary="Invite up to 10,000 people by email (team lead)",
        description="A JSON list of recipients, or an object {\"recipients\": [...], \"scheduled_at\": ISO time, "
                    "\"reminder_days\": n}. Each accepted recipient gets an invitation, emailed when due; the refused "
                    "(invalid address, listed twice, unsubscribed, surveyed within the throttling window, survey closed) "
                    "are listed with the reason.",
        request={"application/json": _INVITE_BODY_SCHEMA},
        responses={201: InvitationsCreatedSerializer},
    )
    def post(self, request, pk):
        survey = _survey(pk)
        body = request.data
        scheduled_at = reminder_days = None
        if isinstance(body, dict):
            scheduled_at = _scheduled_at(body.get("scheduled_at"))
            reminder_days = _reminder_days(body.get("reminder_days"))
            body = body.get("recipients")
        recipients = _recipients(body)
        invitations, refusals = invitations_create(survey=survey, recipients=recipients, source=InvitationSource.API,
                                                   scheduled_at=scheduled_at, reminder_days=reminder_days)
        return Response({"created": len(invitations), "invitations": InvitationSerializer(invitations, many=True).data,
                         "refused": [{"email": r.email, "reason": r.reason} for r in refusals]}, status=201)


def _scheduled_at(value):
    if value in (None, ""):
        return None
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but no such time (month 13, hour 25)
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError({"scheduled_at": ["An ISO 8601 time with its offset, e.g. 2026-12-01T09:00:00Z."]})
    try:
        in_calendar(moment)
    except DjangoValidationError as exc:
        raise ValidationError({"scheduled_at": exc.messages}) from None
    return moment


def _reminder_days(value):
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 60:
        raise ValidationError({"reminder_days": ["A whole number of days from 1 to 60, or null for no reminder."]})
    return value
