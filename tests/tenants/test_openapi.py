"""Exact assertions on the OpenAPI schema the workspace serves: it describes what the
views really answer (series fields, paginated envelopes, error bodies)."""
import pytest

from tests.helpers import host_client


@pytest.fixture
def spec(workspace):
    response = host_client(workspace).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _ok_schema(spec, path, method="get", status="200"):
    return spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def test_kpi_series_describes_every_field_kpi_series_returns(spec):
    assert _ok_schema(spec, "/api/v1/kpis/{key}") == {"$ref": "#/components/schemas/KpiSeries"}
    series = spec["components"]["schemas"]["KpiSeries"]["properties"]
    assert set(series) == {"key", "label", "unit", "direction", "period", "segment", "series"}
    assert series["series"] == {"type": "array", "items": {"$ref": "#/components/schemas/SeriesPoint"}}
    point = spec["components"]["schemas"]["SeriesPoint"]
    assert {"period_start", "period_end", "value", "numerator", "denominator", "previous_value", "target", "status",
            "segment"} <= set(point["properties"])
    assert point["properties"]["value"] == {"type": "number", "format": "double", "nullable": True,
                                            "description": "None when the period has no data, never 0"}


# The lists api.md names; any other GET with a page parameter is checked the same way.
PAGINATED_LISTS = {"/api/v1/members", "/api/v1/surveys", "/api/v1/surveys/{id}/invitations",
                   "/api/v1/surveys/{id}/responses", "/api/v1/imports", "/api/v1/datasets/{dataset}/records"}
# GET /api/v1/kpis answers the whole KPI catalogue as a plain list (api.md's "every KPI"):
# the only list that is not paginated.
UNPAGINATED_LISTS = {"/api/v1/kpis"}


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_list_is_described_as_paginated(spec):
    paginated = set()
    for path, method, operation in _operations(spec):
        if method != "get" or "application/json" not in operation["responses"]["200"].get("content", {}):
            continue
        body = _resolve(spec, _ok_schema(spec, path))
        has_page = any(p["in"] == "query" and p["name"] == "page" for p in operation.get("parameters", []))
        if body.get("type") == "array":
            assert path in UNPAGINATED_LISTS, f"GET {path} answers a bare list: paginate it or describe why not"
        elif has_page or "results" in body.get("properties", {}):
            assert has_page, path
            assert set(body["properties"]) == {"count", "next", "previous", "results"}, path
            assert set(body["required"]) >= {"count", "results"}, path
            assert body["properties"]["results"]["type"] == "array", path
            assert body["properties"]["next"]["nullable"] and body["properties"]["previous"]["nullable"], path
            page = next(p for p in operation["parameters"] if p["name"] == "page")
            assert page["schema"] == {"type": "integer", "minimum": 1}, path
            paginated.add(path)
    assert paginated >= PAGINATED_LISTS


def test_every_operation_declares_its_error_answers(spec):
    error = {"$ref": "#/components/schemas/Error"}
    assert spec["components"]["schemas"]["Error"]["required"] == ["detail"]
    for path, method, operation in _operations(spec):
        label = f"{method.upper()} {path}"
        parameters = operation.get("parameters", [])
        names_an_object = any(p["in"] == "path" for p in parameters)
        paginated = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
        # 400 everywhere: tenants.inputs refuses a NUL byte in any query, even an unknown one.
        # 406 everywhere: DRF refuses an Accept header none of the renderers answers.
        expected = {"400", "401", "403", "406"} | ({"404"} if names_an_object or paginated else set())
        responses = operation["responses"]
        assert expected <= set(responses), (label, sorted(responses))
        for status in expected:
            assert responses[status]["content"] == {"application/json": {"schema": error}}, (label, status)
        assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, label


def test_path_parameters_have_their_real_types(spec):
    from ingestion.datasets import DATASETS
    from kpis.registry import KPIS

    def path_schema(path, name):
        return next(p["schema"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "path" and p["name"] == name)

    assert path_schema("/api/v1/datasets/{dataset}/records", "dataset")["enum"] == sorted(DATASETS)
    assert path_schema("/api/v1/kpis/{key}", "key")["enum"] == sorted(KPIS)
    assert path_schema("/api/v1/surveys/{id}", "id") == {"type": "integer", "minimum": 0}
    assert path_schema("/api/v1/imports/{id}", "id") == {"type": "string", "format": "uuid"}


def test_error_answers_have_the_declared_shape(spec, workspace):
    """The error bodies and the 401 challenge the schema declares, as the views send them
    (schemathesis calls with a valid key, so it never meets a 401 of its own)."""
    from django.test import Client

    from tests.helpers import api_key_client

    error = spec["components"]["schemas"]["Error"]
    no_key = Client(HTTP_HOST=workspace.domain_name)
    answers = {
        401: no_key.get("/api/v1/workspace"),
        403: api_key_client(workspace, role="viewer").get("/api/v1/members"),
        404: api_key_client(workspace).get("/api/v1/surveys/999999"),
        400: api_key_client(workspace).get("/api/v1/kpis/nps", {"segment": "planet"}),
        406: api_key_client(workspace).get("/api/v1/kpis/nps", HTTP_ACCEPT="text/csv"),
    }
    for status, response in answers.items():
        assert response.status_code == status, response.content
        body = response.json()
        assert set(error["required"]) <= set(body) <= set(error["properties"]), body
        assert isinstance(body["detail"], str)
    assert answers[401]["WWW-Authenticate"] == 'Bearer realm="api"'
    assert isinstance(answers[400].json()["errors"], dict)
    assert answers[406].json() == {"detail": "Could not satisfy the request Accept header."}
    assert answers[406]["Content-Type"] == "application/json"
