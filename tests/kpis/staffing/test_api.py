"""The staffing API on the staffing page's fortnight (tests/kpis/staffing/test_pages.py)."""
from django_tenants.utils import tenant_context

from kpis.staffing.models import StaffingChannel
from tests.helpers import api_key_client
from tests.kpis.staffing.test_pages import fortnight  # noqa: F401 - the fixture

RULES = {"mode": "queue", "method": "erlang_a", "target_percent": 80.0, "within_seconds": 60, "within_hours": 24,
         "handle_time_seconds": None, "patience_seconds": None, "concurrency": 1, "max_occupancy_percent": 85.0,
         "shrinkage_percent": 30.0}


def test_the_plan_per_channel(fortnight):  # noqa: F811
    body = api_key_client(fortnight, role="viewer").get("/api/v1/staffing", {"weeks": 2}).json()
    assert (body["since"], body["until"], body["weeks"]) == ("2026-03-02", "2026-03-16", 2)
    chat, email = body["channels"]
    assert chat["rules"] == {"channel": "chat", "saved": False, **RULES}
    assert {key: chat[key] for key in ("method", "problem", "conversations", "handle_time_seconds", "patience_seconds",
                                       "abandoned", "reached", "peak", "agent_hours", "what_if")} == {
        "method": "erlang_c", "problem": "", "conversations": 400, "handle_time_seconds": 180.0, "patience_seconds": None,
        "abandoned": 0, "reached": True, "peak": 19, "agent_hours": 19, "what_if": False}
    assert len(chat["scheduled"]) == len(chat["arrivals"]) == len(chat["service_level_percent"]) == 168
    assert (chat["arrivals"][9], chat["on_floor"][9], chat["scheduled"][9], chat["observed"][9]) == (200.0, 13, 19, 9.0)
    assert chat["service_level_percent"][9] == 89.5055 and chat["service_level_percent"][10] is None  # no traffic
    assert (email["method"], email["rules"]["mode"], email["scheduled"][59], email["answered_in_time_percent"]) == (
        "backlog", "backlog", 2, 100.0)


def test_what_if_in_the_query_and_its_errors(fortnight):  # noqa: F811
    client = api_key_client(fortnight, role="viewer")
    body = client.get("/api/v1/staffing", {"weeks": 2, "channel": "chat", "within_seconds": 20}).json()
    [chat] = body["channels"]
    assert (chat["what_if"], chat["rules"]["within_seconds"], chat["on_floor"][9], chat["scheduled"][9]) == (True, 20, 14, 20)
    refused = client.get("/api/v1/staffing", {"channel": "chat", "target_percent": "lots"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"target_percent": ["Enter a number."]}
    assert client.get("/api/v1/staffing", {"within_seconds": 20}).json()["errors"] == {
        "channel": ["What-if rules need the channel they apply to."]}
    assert client.get("/api/v1/staffing", {"weeks": 0}).status_code == 400


def test_saving_and_resetting_rules(fortnight):  # noqa: F811
    lead = api_key_client(fortnight)
    saved = lead.put("/api/v1/staffing/rules/chat", {"mode": "queue", "target_percent": 90, "concurrency": 2},
                     content_type="application/json")
    assert saved.status_code == 200
    assert saved.json() == {"channel": "chat", "saved": True, **RULES, "target_percent": 90.0, "concurrency": 2}
    with tenant_context(fortnight):
        assert StaffingChannel.objects.get().target_percent == 90.0
    assert lead.get("/api/v1/staffing/rules/chat").json()["saved"] is True
    bad = lead.put("/api/v1/staffing/rules/chat", {"mode": "queue", "target_percent": 90, "shrinkage_percent": 99},
                   content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"shrinkage_percent": ["Ensure this value is less than or equal to 95."]}
    for role in ("viewer", "agent"):
        assert api_key_client(fortnight, role=role).put(
            "/api/v1/staffing/rules/chat", {"mode": "queue", "target_percent": 50}, content_type="application/json"
        ).status_code == 403
    assert lead.delete("/api/v1/staffing/rules/chat").status_code == 204
    # Back to the defaults of its kind: email answers within a day.
    assert lead.get("/api/v1/staffing/rules/chat").json() == {"channel": "chat", "saved": False, **RULES}
    assert lead.get("/api/v1/staffing/rules/email").json()["mode"] == "backlog"


def test_a_forecast_week(fortnight):  # noqa: F811
    client = api_key_client(fortnight, role="viewer")
    body = client.get("/api/v1/staffing", {"weeks": 2, "week": "2026-03-30"}).json()
    chat = body["channels"][0]
    assert (body["week"], chat["arrivals"][9], chat["scheduled"][9], sum(chat["arrivals"])) == ("2026-03-30", 200.0, 19, 200.0)
    refused = client.get("/api/v1/staffing", {"week": "2026-04-13"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"week": [
        "Forecasts are for the weeks starting 2026-03-16, 2026-03-23, 2026-03-30, 2026-04-06."]}
