"""What the OpenAPI schema says about errors, in one place: the ``Error`` body that
tenants.api.exception_handler produces, and the error answers every operation declares
(set as REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS, so a new endpoint gets them without
decorating its view)."""
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# A validation error's messages as DRF builds them: field -> messages (nested like the
# fields), or a bare list of messages for an error not tied to a field.
_ERRORS_SCHEMA = {"oneOf": [{"type": "object", "additionalProperties": {}}, {"type": "array", "items": {}}]}


@extend_schema_field(_ERRORS_SCHEMA)
class _ErrorsField(serializers.JSONField):
    pass


class ErrorSerializer(serializers.Serializer):
    """An error answer: always a human-readable detail; the messages per field for invalid input."""

    detail = serializers.CharField(help_text="What went wrong, for a person to read; for invalid input, "
                                             "the first message, prefixed with its field")
    errors = _ErrorsField(required=False, help_text="Invalid input only (400): every message, per field "
                                                    "(nested like the fields), or a list when not tied to a field")


ERROR_ANSWERS = {
    "400": "Invalid input: `detail` names the first problem, `errors` lists them all",
    "401": "No API key, or a malformed or revoked one, or a key of another workspace",
    "403": "The key's role is below the one this operation needs",
    "404": "No such object in this workspace (or a page past the last)",
    "406": "An Accept header naming no media type this operation answers in",
    "415": "A body in a Content-Type this operation does not read",
}


class PulseAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers an operation can really give:

    - 401 and 403 wherever a key (and a role) is needed — every operation but the schema's;
    - 400 on every operation: besides its own validation, any request whose path, query or
      body holds text PostgreSQL cannot store is refused before the view (tenants/inputs.py);
    - 404 where the path names an object, or the list is paginated (a page past the last);
    - 406 on every operation: DRF refuses an Accept header that names none of its renderers
      (``Accept: text/csv`` on a JSON-only operation, or a malformed one);
    - 415 where it reads a body (DRF refuses other content types).

    Statuses a view declares itself (409 of a locked survey, say) are kept as declared. Integer
    path parameters get ``minimum: 0``: Django's ``int`` converter matches digits only."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(status, self._error_response(status))
        operation["responses"] = dict(sorted(responses.items()))
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                parameter["schema"].setdefault("minimum", 0)
        return operation

    def _error_statuses(self, operation) -> list[str]:
        parameters = operation.get("parameters", [])
        paginator = self._get_paginator()
        page_parameter = paginator.page_query_param if paginator else None
        paginated = any(p["in"] == "query" and p["name"] == page_parameter for p in parameters)
        has_body = "requestBody" in operation
        statuses = ["400", "406"]
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses += ["401", "403"]
        if paginated or any(p["in"] == "path" for p in parameters):
            statuses.append("404")
        if has_body:
            statuses.append("415")
        return statuses

    def _error_response(self, status: str) -> dict:
        response = {"description": ERROR_ANSWERS[status],
                    "content": {"application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}}}
        if status == "401":
            # DRF sends the challenge of the first authentication class (ApiKeyAuthentication)
            # with every 401.
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True,
                                                        "description": 'Bearer realm="api"'}}
        return response
