"""The alert endpoints: rules listed, set (checked by the alerts page's own form, same
messages), muted and deleted; alerts listed with filters and acknowledged; roles."""
from django_tenants.utils import tenant_context

from kpis.models import Alert, AlertRule
from kpis.services.alerts import alerts_evaluate
from tenants.accounts.models import Role
from tests.helpers import api_key_client
from tests.kpis.test_alerts import FINISHED, KPI, TODAY, history  # noqa: F401  (history is a fixture)


def test_every_workspace_lists_the_social_spike_rule(workspace):
    body = api_key_client(workspace, Role.VIEWER).get("/api/v1/alert-rules").json()
    assert body["count"] == 1
    rule = body["results"][0]
    assert {key: rule[key] for key in ("kpi", "kind", "period_kind", "segment_kind", "k", "history", "min_history",
                                       "direction", "muted", "social_spike")} == {
        "kpi": "social_mention_volume", "kind": "anomaly", "period_kind": "day", "segment_kind": "", "k": 3.0,
        "history": 28, "min_history": 28, "direction": "above", "muted": False, "social_spike": True}
    assert rule["url"] == f"http://{workspace.domain_name}/api/v1/alert-rules/{rule['id']}"


def test_a_lead_sets_mutes_and_deletes_a_rule(workspace):
    lead, viewer = api_key_client(workspace), api_key_client(workspace, Role.VIEWER)
    rule = {"kpi": KPI, "kind": "anomaly", "segment_kind": "channel", "k": 2.5, "history": 14, "direction": "above"}
    assert viewer.post("/api/v1/alert-rules", rule, content_type="application/json").status_code == 403
    created = lead.post("/api/v1/alert-rules", rule, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kpi"], body["kind"], body["period_kind"], body["segment_kind"], body["k"], body["history"],
            body["min_history"], body["direction"], body["low"], body["social_spike"]) == (
        KPI, "anomaly", "day", "channel", 2.5, 14, 4, "above", None, False)
    path = f"/api/v1/alert-rules/{body['id']}"
    assert viewer.patch(path, {"muted": True}, content_type="application/json").status_code == 403
    assert lead.patch(path, {"muted": True}, content_type="application/json").json()["muted"] is True
    with tenant_context(workspace):
        assert AlertRule.objects.get(pk=body["id"]).muted is True
    assert viewer.get(path).json()["muted"] is True
    assert lead.delete(path).status_code == 204
    missing = lead.get(path)
    assert missing.status_code == 404 and missing.json()["detail"] == "No alert rule with this id in this workspace."


def test_an_impossible_rule_gets_the_forms_messages_and_saves_nothing(workspace):
    lead = api_key_client(workspace)
    cases = [
        ({"kpi": KPI, "kind": "threshold", "low": 20, "high": 10}, "high",
         "Above (10) must be more than below (20): otherwise every value alerts."),
        ({"kpi": KPI, "kind": "threshold"}, "low", "Give a value to alert below, above, or both."),
        ({"kpi": KPI, "kind": "off_target", "segment_kind": "plan"}, "segment_kind",
         "Conversation abandonment is not split by plan; it is split by channel, agent, team, channel_kind."),
        ({"kpi": KPI, "kind": "anomaly", "history": 10, "min_history": 20}, "min_history",
         "Judge after at most the 10 previous periods the usual range is made of."),
        ({"kpi": "no_such_kpi", "kind": "off_target"}, "kpi", '"no_such_kpi" is not a valid choice.'),
    ]
    for body, field, message in cases:
        response = lead.post("/api/v1/alert-rules", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
        body = response.json()
        assert body["errors"][field] == [message] and body["detail"] == f"{field}: {message}", body
    with tenant_context(workspace):
        assert not AlertRule.objects.exclude(kpi="social_mention_volume").exists()


def test_alerts_are_listed_filtered_and_acknowledged(history):  # noqa: F811  (the fixture)
    lead, viewer = api_key_client(history), api_key_client(history, Role.VIEWER)
    assert lead.post("/api/v1/alert-rules", {"kpi": KPI, "kind": "anomaly", "segment_kind": "channel"},
                     content_type="application/json").status_code == 201
    with tenant_context(history):
        alerts_evaluate(today=TODAY)
        alert = Alert.objects.get()
    body = viewer.get("/api/v1/alerts").json()
    assert body["count"] == 1
    listed = body["results"][0]
    assert {key: listed[key] for key in ("id", "kpi", "period_kind", "period_start", "segment_kind", "segment", "value",
                                         "state", "times", "cleared_at", "acknowledged_at", "acknowledged_by")} == {
        "id": alert.pk, "kpi": KPI, "period_kind": "day", "period_start": FINISHED.isoformat(), "segment_kind": "channel",
        "segment": "email", "value": 20.0, "state": "firing", "times": 1, "cleared_at": None, "acknowledged_at": None,
        "acknowledged_by": None}
    assert (round(listed["expected_low"], 3), round(listed["expected_high"], 3)) == (7.945, 14.055)
    assert listed["message"] == ("Conversation abandonment (channel email) is 20 %, outside its usual range "
                                 "(≥ 7.945 and ≤ 14.06).")
    assert viewer.get("/api/v1/alerts", {"state": "cleared"}).json()["count"] == 0
    assert viewer.get("/api/v1/alerts", {"state": "firing", "kpi": KPI}).json()["count"] == 1
    assert viewer.get("/api/v1/alerts", {"kpi": "csat"}).json()["count"] == 0
    assert viewer.get("/api/v1/alerts", {"state": "asleep"}).json() == {
        "detail": 'state: "asleep" is not a valid choice.', "errors": {"state": ['"asleep" is not a valid choice.']}}
    path = f"/api/v1/alerts/{alert.pk}/acknowledge"
    assert viewer.post(path).status_code == 403
    acknowledged = lead.post(path)
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"] is not None
    with tenant_context(history):
        assert Alert.objects.get().acknowledged_at is not None
    assert lead.post("/api/v1/alerts/999999/acknowledge").status_code == 404
