"""The workspace part of the REST API, and the JSON error format every endpoint shares."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler as drf_exception_handler

from tenants.accounts.models import Role, User
from tenants.models import TIME_ZONES
from tenants.pagination import PageNumberPagination
from tenants.services import CURRENCIES, workspace_update


def _first_message(data) -> str:
    if isinstance(data, dict):
        for field, value in data.items():
            message = _first_message(value)
            return message if field in ("non_field_errors", "detail") else f"{field}: {message}"
    if isinstance(data, (list, tuple)) and data:
        return _first_message(data[0])
    return str(data)


def exception_handler(exc, context):
    """Every error is a JSON object with a human-readable ``detail``; validation errors
    also carry the per-field ``errors``."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _first_message(response.data), "errors": response.data}
    elif not isinstance(response.data, dict) or "detail" not in response.data:
        response.data = {"detail": _first_message(response.data)}
    return response


class WorkspaceSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    time_zone = serializers.ChoiceField(choices=TIME_ZONES)
    currency = serializers.ChoiceField(choices=CURRENCIES)
    created_at = serializers.DateTimeField(read_only=True)


class WorkspaceView(APIView):
    """The workspace the API key belongs to."""

    required_roles = {"GET": Role.VIEWER, "PATCH": Role.TEAM_LEAD}

    @extend_schema(responses=WorkspaceSerializer, summary="The workspace: name, slug, time zone, currency")
    def get(self, request):
        return Response(WorkspaceSerializer(connection.tenant).data)

    @extend_schema(request=WorkspaceSerializer, responses=WorkspaceSerializer, summary="Rename or re-localise the workspace (team lead)")
    def patch(self, request):
        workspace = connection.tenant
        serializer = WorkspaceSerializer(workspace, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = {"name": workspace.name, "time_zone": workspace.time_zone, "currency": workspace.currency, **serializer.validated_data}
        workspace = workspace_update(workspace=workspace, **values)
        return Response(WorkspaceSerializer(workspace).data)


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "is_active", "last_login", "date_joined"]


class MemberListView(APIView):
    """Members of the workspace with their roles (team lead)."""

    minimum_role = Role.TEAM_LEAD
    # Paginated by hand (an APIView); the attribute tells the schema the list is paginated.
    pagination_class = PageNumberPagination

    @extend_schema(responses=MemberSerializer(many=True), summary="Members and roles (team lead)")
    def get(self, request):
        from tenants.accounts.selectors import user_list

        paginator = self.pagination_class()
        page = paginator.paginate_queryset(user_list(), request, view=self)
        return paginator.get_paginated_response(MemberSerializer(page, many=True).data)
