"""Webhook endpoints of the REST API: ``/api/v1/webhooks`` (list, create),
``/api/v1/webhooks/{id}`` (read, change, delete), ``/api/v1/webhooks/{id}/deliveries`` (the
delivery log) and ``/api/v1/webhooks/{id}/test`` (send a ping). Team lead only, reads
included: an endpoint's body carries its signing secret."""
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.accounts.authentication import request_member
from tenants.accounts.models import Role
from tenants.inputs import GuardedJSONParser
from tenants.pagination import PageNumberPagination
from tenants.webhooks import selectors, services
from tenants.webhooks.models import SUBSCRIBABLE, EventType, WebhookDelivery, WebhookEndpoint
from tenants.webhooks.urlcheck import URL_MAX_LENGTH, url_display

EVENTS_DESCRIPTION = (
    "Every event is POSTed as `{\"id\": uuid, \"type\": ..., \"created_at\": ISO 8601 UTC, \"workspace\": slug, "
    "\"data\": {...}}` with the headers `Pulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" "
    "keyed with the endpoint's secret>`, `Pulse-Event-Id`, `Pulse-Event-Type`. `data` of `alert.fired` / "
    "`alert.cleared`: alert_id, rule_id, rule_kind, rule_direction (anomaly rules: both, above or below), kpi, kpi_label, unit, period_kind, period_start, segment_kind, "
    "segment, value, expected_low, expected_high, message, times_fired, fired_at, cleared_at, link. "
    "`survey.response.created`: response_id, survey {id, name, kind}, score, score_kind, nps_category, "
    "csat_satisfied, comment, channel, agent, customer {external_id, email}, invitation_id, answered_at, link. "
    "`import.finished`: import_id, dataset, file_name, source, status (succeeded/failed), mode, rows {total, "
    "inserted, updated, unchanged, rejected, skipped}, error, started_at, finished_at, link. `ping`: message, "
    "endpoint_id, sent_by. A 2xx answer is a success; anything else is retried with backoff. The README's "
    "Webhooks section has the full bodies and a verification snippet.")


@extend_schema_field({"type": "string", "enum": [value for value, _ in SUBSCRIBABLE]})
class EventField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SUBSCRIBABLE, **kwargs)


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="The target URL; a user and password in it are never shown")
    description = serializers.CharField()
    events = serializers.ListField(child=EventField())
    is_active = serializers.BooleanField()
    secret = serializers.CharField(help_text="The signing secret (whsec_…) of the Pulse-Signature header")
    created_at = serializers.DateTimeField()
    deliveries_url = serializers.SerializerMethodField()

    def get_url(self, endpoint) -> str:
        return url_display(endpoint.url)

    def get_deliveries_url(self, endpoint) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:webhook-deliveries", args=[endpoint.pk]))


class EndpointWriteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=URL_MAX_LENGTH, help_text="http:// or https:// URL Pulse POSTs events to")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(child=EventField(), allow_empty=False, max_length=len(SUBSCRIBABLE) * 2,
                                   help_text="The events to send (at least one)")
    is_active = serializers.BooleanField(required=False)
    rotate_secret = serializers.BooleanField(required=False, default=False,
                                             help_text="PATCH only: true makes a new secret (the old one stops verifying)")


@extend_schema_field({"type": "string", "enum": list(EventType.values)})
class AnyEventField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": list(WebhookDelivery.Status.values)})
class DeliveryStatusField(serializers.CharField):
    pass


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField(help_text="The same on every attempt: receivers de-duplicate on it")
    event_type = AnyEventField()
    status = DeliveryStatusField()
    attempts = serializers.IntegerField()
    response_code = serializers.IntegerField(allow_null=True, help_text="HTTP status of the last attempt's answer")
    response_excerpt = serializers.CharField(help_text="The start of the last answer's body")
    error = serializers.CharField(help_text="Why the last attempt failed (timeout, connection refused, redirect "
                                            "refused, non-2xx answer); empty once delivered")
    payload = serializers.JSONField(help_text="The event body sent")
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


def _endpoint(pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise NotFound("No webhook endpoint with this id in this workspace.")
    return endpoint


class WebhookListView(APIView):
    minimum_role = Role.TEAM_LEAD
    parser_classes = [GuardedJSONParser]  # JSON bodies only (a list of events has no form spelling)
    pagination_class = PageNumberPagination

    @extend_schema(summary="List webhook endpoints (team lead)", responses=EndpointSerializer(many=True),
                   description=EVENTS_DESCRIPTION)
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.webhook_endpoint_list(), request, view=self)
        return paginator.get_paginated_response(EndpointSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(summary="Add a webhook endpoint (team lead)", request=EndpointWriteSerializer,
                   responses={201: EndpointSerializer}, description=EVENTS_DESCRIPTION)
    def post(self, request):
        serializer = EndpointWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("rotate_secret", None)
        endpoint = services.webhook_endpoint_create(created_by=request_member(request), **data)
        return Response(EndpointSerializer(endpoint, context={"request": request}).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    minimum_role = Role.TEAM_LEAD
    parser_classes = [GuardedJSONParser]

    @extend_schema(summary="A webhook endpoint (team lead)", responses=EndpointSerializer)
    def get(self, request, pk):
        return Response(EndpointSerializer(_endpoint(pk), context={"request": request}).data)

    @extend_schema(summary="Change a webhook endpoint, or rotate its secret (team lead)",
                   request=EndpointWriteSerializer(partial=True), responses=EndpointSerializer)
    def patch(self, request, pk):
        endpoint = _endpoint(pk)
        serializer = EndpointWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        rotate = data.pop("rotate_secret", False)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **data)
        if rotate:
            endpoint = services.webhook_secret_rotate(endpoint=endpoint)
        return Response(EndpointSerializer(endpoint, context={"request": request}).data)

    @extend_schema(summary="Delete a webhook endpoint and its delivery log (team lead)", request=None,
                   responses={204: OpenApiResponse(description="Deleted")})
    def delete(self, request, pk):
        services.webhook_endpoint_delete(endpoint=_endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(APIView):
    minimum_role = Role.TEAM_LEAD
    pagination_class = PageNumberPagination

    @extend_schema(summary="The delivery log of a webhook endpoint, latest first (team lead)",
                   responses=DeliverySerializer(many=True))
    def get(self, request, pk):
        endpoint = _endpoint(pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.webhook_delivery_list(endpoint=endpoint), request, view=self)
        return paginator.get_paginated_response(DeliverySerializer(page, many=True).data)


class WebhookTestView(APIView):
    minimum_role = Role.TEAM_LEAD
    parser_classes = [GuardedJSONParser]

    @extend_schema(summary="Send a ping event to a webhook endpoint (team lead)", request=None,
                   responses={202: DeliverySerializer}, description="The delivery is queued; its outcome shows in "
                                                                      "the delivery log.")
    def post(self, request, pk):
        delivery = services.webhook_ping_send(endpoint=_endpoint(pk), user=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
