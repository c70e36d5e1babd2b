"""Issue #15, dates at the edges of the calendar: a period of year 1 or 9999 makes its
neighbours (the previous period, the trend's twelve) overflow. Every page and endpoint that
takes a date answers 400 with the allowed range, and the first and last allowed days work
for every period kind.

The KPI pages and endpoints are built from the KPI registry, so a new KPI is covered."""
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from kpis.periods import KINDS
from kpis.registry import KPIS
from tests.helpers import api_key_client
from tests.surveys.factories import survey_make

RANGE_MESSAGE = "Dates must be between 1900-01-01 and 2999-12-31."
OUTSIDE = [
    {"date": "0001-01-01"}, {"date": "9999-12-31"}, {"date": "1899-12-31"}, {"date": "3000-01-01"},
    {"period": "range", "start": "0001-01-01", "end": "0001-01-31"},
    {"period": "range", "start": "2999-12-01", "end": "9999-12-31"},
]
OUTSIDE_API = [{"start": "0001-01-01"}, {"end": "9999-12-31"}, {"period": "range", "start": "0001-01-01", "end": "0001-02-01"},
               {"period": "year", "end": "3000-01-01"}]


def _pages():
    pages = ["/", "/kpis/support/", "/kpis/active-users/", "/kpis/social/", *(f"/kpis/{key}/" for key in KPIS)]
    return [*pages, *(f"/kpis/{key}/records.csv" for key, kpi in KPIS.items() if kpi.drilldown_sql is not None)]


@pytest.mark.parametrize("page", _pages())
def test_every_kpi_page_refuses_a_date_outside_the_calendar_with_the_range(lead, page):
    for query in OUTSIDE:
        response = lead.get(page, query)
        assert response.status_code == 400, (page, query)
        assert RANGE_MESSAGE in response.content.decode(), (page, query)


@pytest.mark.parametrize("page", _pages())
def test_the_first_and_last_days_of_the_calendar_work_for_every_period_kind(lead, page):
    for kind in [*KINDS, "range"]:
        for day in ("1900-01-01", "2999-12-31"):
            query = {"period": "range", "start": day, "end": day} if kind == "range" else {"period": kind, "date": day}
            assert lead.get(page, query).status_code == 200, (page, query)


@pytest.mark.parametrize("key", list(KPIS))
def test_the_kpi_api_refuses_dates_outside_the_calendar_naming_the_field(workspace, key):
    client = api_key_client(workspace)
    for query in OUTSIDE_API:
        response = client.get(f"/api/v1/kpis/{key}", query)
        assert response.status_code == 400, (key, query)
        body = response.json()
        field = "start" if "0001" in str(query.get("start")) else "end"
        day = query[field]
        assert body["errors"][field] == [f"{day} is out of range. {RANGE_MESSAGE}"], (key, query)
    edge = client.get(f"/api/v1/kpis/{key}", {"period": KPIS[key].period_kinds[0], "start": "1900-01-01", "end": "1900-01-31"})
    assert edge.status_code == 200 and edge.json()["series"][0]["period_start"] <= "1900-01-01"


def test_survey_results_and_the_data_browser_refuse_dates_outside_the_calendar(workspace, lead):
    with tenant_context(workspace):
        survey = survey_make("nps", name="Loop")
    connection.set_schema_to_public()
    client = api_key_client(workspace)
    api = client.get(f"/api/v1/surveys/{survey.pk}/responses", {"since": "0001-01-01"})
    assert api.status_code == 400 and api.json()["errors"]["since"] == [f"0001-01-01 is out of range. {RANGE_MESSAGE}"]
    records = client.get("/api/v1/datasets/conversations/records", {"until": "9999-12-31T23:00:00-05:00"})
    assert records.status_code == 400 and RANGE_MESSAGE in records.json()["detail"]
    for page, query in ((f"/surveys/{survey.pk}/responses/", {"since": "0001-01-01"}),
                        ("/data/conversations/records/", {"from": "9999-12-31"})):
        response = lead.get(page, query)
        assert response.status_code == 400 and RANGE_MESSAGE in response.content.decode(), (page, query)
