import json

from django_tenants.utils import tenant_context

from ingestion.models import Conversation, Customer
from tenants.accounts.models import Role
from tests.helpers import api_key_client


def api(workspace, role=Role.TEAM_LEAD):
    return api_key_client(workspace, role)


def post(client, dataset, rows):
    return client.post(f"/api/v1/datasets/{dataset}/records", json.dumps(rows), content_type="application/json")


ROWS = [
    {"external_id": "c-1", "channel": "email", "created_at": "2026-03-01T10:00:00Z", "agent": "ann"},
    {"External_ID": "c-2", "CHANNEL": "phone", "created_at": "2026-03-02T09:00:00", "contacts": 2, "sla": "gold"},
    {"external_id": "c-3", "channel": "chat", "created_at": "soon", "csat_score": 9},
    "not an object",
]


def test_post_records_upserts_valid_rows_and_reports_each_rejection(workspace):
    client = api(workspace)
    response = post(client, "conversations", ROWS)
    assert response.status_code == 200
    assert response.json() == {
        "created": 2, "updated": 0, "unchanged": 0,
        "rejected": [
            {"index": 2, "field": "created_at", "error": "created_at: 'soon' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)"},
            {"index": 2, "field": "csat_score", "error": "csat_score must be at most 5, got 9"},
            {"index": 3, "field": None, "error": "each row must be a JSON object"},
        ],
    }
    with tenant_context(workspace):
        c2 = Conversation.objects.get(external_id="c-2")
        assert (c2.channel, c2.contacts, c2.extra) == ("phone", 2, {"sla": "gold"})
        assert c2.created_at.isoformat() == "2026-03-02T08:00:00+00:00"  # read in Europe/Paris
    again = post(client, "conversations", ROWS[:2]).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_get_records_filters_and_paginates(workspace):
    client = api(workspace)
    post(client, "conversations", ROWS[:2])
    body = client.get("/api/v1/datasets/conversations/records", {"channel": "phone"}).json()
    assert body["count"] == 1 and body["results"][0]["external_id"] == "c-2" and body["results"][0]["extra"] == {"sla": "gold"}
    assert client.get("/api/v1/datasets/conversations/records", {"external_id": "c-1"}).json()["count"] == 1
    ranged = client.get("/api/v1/datasets/conversations/records", {"since": "2026-03-02T00:00:00", "until": "2026-03-03T00:00:00"})
    assert [r["external_id"] for r in ranged.json()["results"]] == ["c-2"]
    bad = client.get("/api/v1/datasets/conversations/records", {"since": "last week"})
    assert bad.status_code == 400 and "is not an ISO 8601 timestamp" in bad.json()["detail"]


def test_unknown_dataset_bad_body_and_too_many_rows_are_explained(workspace):
    client = api(workspace)
    unknown = post(client, "tickets", [])
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith("Unknown dataset 'tickets'; use one of: customers, revenue")
    not_a_list = post(client, "customers", {"external_id": "x"})
    assert not_a_list.status_code == 400 and not_a_list.json()["detail"] == "Send a JSON list of row objects."
    too_many = post(client, "customers", [{}] * 10_001)
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "Send at most 10,000 rows per request (got 10,001); split the batch."
    with tenant_context(workspace):
        assert not Customer.objects.exists()


def test_records_need_the_team_lead_role_and_stay_in_their_workspace(workspace, other_workspace):
    assert post(api(workspace, Role.VIEWER), "customers", []).status_code == 403
    assert post(api(workspace, Role.AGENT), "customers", []).status_code == 403
    post(api(workspace), "customers", [{"external_id": "u1", "signed_up_at": "2026-01-01T00:00:00Z"}])
    assert api(other_workspace).get("/api/v1/datasets/customers/records").json()["count"] == 0


def test_a_full_batch_of_10000_rows_is_accepted(workspace):
    rows = [{"external_id": f"e-{i}", "user_external_id": f"u-{i % 97}", "name": "visit",
             "occurred_at": "2026-03-01T10:00:00Z", "session_id": f"session-{i // 7:08d}",
             "properties": {"path": f"/pricing/plans/{i}", "referrer": "https://search.example.com/?q=customer+analytics",
                            "utm_campaign": "spring-launch-2026", "plan": "pro"}} for i in range(10_000)]
    body = json.dumps(rows)
    assert len(body) > 2.5 * 1024 * 1024  # over Django's default request-body limit
    response = post(api(workspace), "events", rows)
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["rejected"]) == (10_000, [])
