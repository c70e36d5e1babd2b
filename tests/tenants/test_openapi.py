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
