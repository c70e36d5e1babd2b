from tenants.accounts.models import Role
from tests.helpers import host_client


def test_data_pages_document_every_field_from_the_definitions(workspace):
    client = host_client(workspace, workspace.lead)
    index = client.get("/data/").content.decode()
    for key in ("customers", "revenue", "conversations", "events", "survey_responses", "social_mentions"):
        assert f'href="/data/{key}/"' in index
    page = client.get("/data/conversations/").content.decode()
    assert '<th scope="row" class="mono">csat_score</th><td>whole number</td><td>optional</td>' in page
    assert "<td>≥ 1; ≤ 5</td>" in page
    assert "resolved_at may not be before created_at" in page
    assert "at most 50 characters" in page
    revenue = client.get("/data/revenue/").content.decode()
    assert "rows are keyed by customer_external_id + product + month" in revenue


def test_unknown_dataset_page_is_404_and_non_leads_get_403(workspace, make_member):
    assert host_client(workspace, workspace.lead).get("/data/tickets/").status_code == 404
    assert host_client(workspace, make_member(Role.VIEWER)).get("/data/").status_code == 403
