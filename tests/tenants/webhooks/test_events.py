"""Events become deliveries: one per subscribed active endpoint, inside the emitting
transaction, sent only once it commits; and the four places events come from."""
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from kpis.models import Alert, AlertRule
from kpis.services.alerts import alert_rule_create, alerts_evaluate
from surveys.services.answering import response_save
from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks.services import webhook_event_emit
from tests.kpis.test_alerts import KPI, TODAY
from tests.surveys.factories import InvitationFactory, survey_make
from tests.tenants.webhooks.factories import WebhookEndpointFactory



def _iso(moment) -> str:
    """A time as the payload carries it (DjangoJSONEncoder: ISO 8601, milliseconds, Z)."""
    return DjangoJSONEncoder().default(moment)


def test_one_delivery_per_subscribed_active_endpoint_sent_after_commit(tenant, sent, django_capture_on_commit_callbacks):
    subscribed = WebhookEndpointFactory(events=["alert.fired"])
    also = WebhookEndpointFactory(events=["import.finished", "alert.fired"])
    WebhookEndpointFactory(events=["import.finished"])  # not subscribed
    WebhookEndpointFactory(events=["alert.fired"], is_active=False)  # inactive
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = webhook_event_emit(event_type="alert.fired", data={"alert_id": 7, "at": timezone.now().date()})
        assert sent == []  # nothing before the commit
    stored = list(WebhookDelivery.objects.order_by("pk"))
    assert [d.endpoint_id for d in stored] == [subscribed.pk, also.pk]
    assert sent == [d.pk for d in deliveries] == [d.pk for d in stored]
    first, second = stored
    assert first.event_id == second.event_id  # one event, one id, whichever endpoint receives it
    assert first.payload == {"id": str(first.event_id), "type": "alert.fired", "created_at": first.payload["created_at"],
                             "workspace": "acme", "data": {"alert_id": 7, "at": timezone.now().date().isoformat()}}
    assert first.payload["created_at"].endswith("Z") and len(first.payload["created_at"]) == 20
    assert (first.status, first.attempts, first.response_code, first.error) == ("pending", 0, None, "")


def test_a_rolled_back_event_sends_nothing(tenant, sent, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=["alert.fired"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            webhook_event_emit(event_type="alert.fired", data={"alert_id": 1})
            raise RuntimeError("the alert's transaction fails")
    assert (callbacks, sent, WebhookDelivery.objects.count()) == ([], [], 0)


def test_an_endpoint_without_subscribers_costs_nothing_and_unknown_events_are_refused(tenant, sent):
    assert webhook_event_emit(event_type="import.finished", data={}) == []
    with pytest.raises(ValueError):
        webhook_event_emit(event_type="ping", data={})  # pings go to one endpoint, by the button


def test_alerts_evaluate_emits_fired_then_cleared_exactly_once_each(history, sent, django_capture_on_commit_callbacks):
    from django_tenants.utils import tenant_context

    with tenant_context(history):
        endpoint = WebhookEndpointFactory(events=["alert.fired", "alert.cleared"])
        rule = alert_rule_create(kpi=KPI, kind="threshold", high=15.0)
        with django_capture_on_commit_callbacks(execute=True):
            alerts_evaluate(today=TODAY)
            alerts_evaluate(today=TODAY)  # idempotent: no second firing, no second event
        alert = Alert.objects.get()
        [fired] = WebhookDelivery.objects.all()
        assert fired.event_type == "alert.fired" and fired.endpoint_id == endpoint.pk
        assert fired.payload["data"] == {
            "alert_id": alert.pk, "rule_id": rule.pk, "rule_kind": "threshold", "rule_direction": "both", "kpi": KPI,
            "kpi_label": "Conversation abandonment", "unit": "%", "period_kind": "day", "period_start": "2026-03-29",
            "segment_kind": "", "segment": "", "value": 16.0, "expected_low": None, "expected_high": 15.0,
            "message": "Conversation abandonment is 16 %, outside its bound (≤ 15).", "times_fired": 1,
            "fired_at": _iso(alert.fired_at), "cleared_at": None,
            "link": "http://acme.localhost:8000/alerts/"}
        AlertRule.objects.filter(pk=rule.pk).update(high=20.0)
        with django_capture_on_commit_callbacks(execute=True):
            alerts_evaluate(today=TODAY)
            alerts_evaluate(today=TODAY)
        assert list(WebhookDelivery.objects.order_by("pk").values_list("event_type", flat=True)) == [
            "alert.fired", "alert.cleared"]
        cleared = WebhookDelivery.objects.get(event_type="alert.cleared")
        alert.refresh_from_db()
        assert (cleared.payload["data"]["alert_id"], cleared.payload["data"]["cleared_at"]) == (
            alert.pk, _iso(alert.cleared_at))
        assert len(sent) == 2


def test_a_detractors_response_emits_survey_response_created(tenant, sent, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=["survey.response.created"])
    survey = survey_make("nps", name="Q1 NPS")
    invitation = InvitationFactory(survey=survey, email="dana@example.test", customer_external_id="cus-42")
    with django_capture_on_commit_callbacks(execute=True):
        response = response_save(survey=survey, invitation=invitation, answers={"q1": "3", "q2": "Too slow"})
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "survey.response.created" and sent == [delivery.pk]
    assert delivery.payload["data"] == {
        "response_id": str(response.id), "survey": {"id": survey.pk, "name": "Q1 NPS", "kind": "nps"},
        "score": 3, "score_kind": "nps", "nps_category": "detractor", "csat_satisfied": None, "comment": "Too slow",
        "channel": "", "agent": "", "customer": {"external_id": "cus-42", "email": "dana@example.test"},
        "invitation_id": invitation.pk, "answered_at": _iso(response.responded_at),
        "link": f"http://acme.localhost:8000/surveys/{survey.pk}/responses/{response.id}/"}
    # Editing the answer is no new response: no second event.
    with django_capture_on_commit_callbacks(execute=True):
        response_save(survey=survey, invitation=invitation, answers={"q1": "4"})
    assert WebhookDelivery.objects.count() == 1


def test_a_held_response_is_announced_when_accepted_and_only_then(tenant, sent, django_capture_on_commit_callbacks):
    from surveys.services.scanner import responses_review
    from tests.factories import UserFactory

    WebhookEndpointFactory(events=["survey.response.created"])
    survey = survey_make("nps")
    invitation = InvitationFactory(survey=survey, email="eve@example.test", customer_external_id="cus-7")
    with django_capture_on_commit_callbacks(execute=True):
        held = response_save(survey=survey, invitation=invitation, answers={"q1": "2"},
                             flag_reasons=["scanner_user_agent"])
    assert (held.review, WebhookDelivery.objects.count(), sent) == ("pending", 0, [])  # a scanner's, by its look
    lead = UserFactory(role="team_lead")
    with django_capture_on_commit_callbacks(execute=True):
        assert responses_review(response_ids=[held.pk], decision="accepted", user=lead) == 1
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.event_type, sent) == ("survey.response.created", [delivery.pk])
    data = delivery.payload["data"]
    assert (data["response_id"], data["score"], data["nps_category"], data["customer"], data["invitation_id"]) == (
        str(held.pk), 2, "detractor", {"external_id": "cus-7", "email": "eve@example.test"}, invitation.pk)
    # Rejecting it later tells nobody; nor does deciding again what was decided.
    with django_capture_on_commit_callbacks(execute=True):
        responses_review(response_ids=[held.pk], decision="accepted", user=lead)
        responses_review(response_ids=[held.pk], decision="rejected", user=lead)
    assert WebhookDelivery.objects.count() == 1


def test_a_csat_response_says_whether_the_customer_was_satisfied(tenant, sent, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=["survey.response.created"])
    survey = survey_make("csat")
    with django_capture_on_commit_callbacks(execute=True):
        response_save(survey=survey, browser_key="b" * 32, answers={"q1": "4"})
    data = WebhookDelivery.objects.get().payload["data"]
    assert (data["score"], data["nps_category"], data["csat_satisfied"], data["customer"], data["invitation_id"]) == (
        4, None, True, {"external_id": None, "email": None}, None)


def test_a_finished_import_emits_import_finished(workspace, sent, django_capture_on_commit_callbacks):
    from django_tenants.utils import tenant_context

    from ingestion.services.import_run import import_fail
    from tests.ingestion.test_imports import BAD, GOOD, run

    with tenant_context(workspace):
        WebhookEndpointFactory(events=["import.finished"])
    # Not executed: the import's own callbacks queue a KPI recompute; the deliveries are
    # stored in the import's transaction.
    with django_capture_on_commit_callbacks():
        job = run(workspace, GOOD + BAD)
    with tenant_context(workspace):
        [delivery] = WebhookDelivery.objects.all()
        assert delivery.payload["data"] == {
            "import_id": str(job.pk), "dataset": "conversations", "file_name": "conversations.csv", "source": "api",
            "status": "succeeded", "mode": "valid_rows",
            "rows": {"total": 6, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 3, "skipped": 0},
            "error": "", "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "link": f"http://acme.localhost:8000/data/imports/{job.pk}/"}
        from ingestion.models import ImportJob

        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
        with django_capture_on_commit_callbacks(execute=True):
            import_fail(job_id=str(job.pk), message="The import stopped on an internal error.")
        failed = WebhookDelivery.objects.order_by("pk").last()
        assert (failed.payload["data"]["status"], failed.payload["data"]["error"]) == (
            "failed", "The import stopped on an internal error.")
    assert sent == [failed.pk]


def test_subscriptions_are_cached_and_forgotten_when_an_endpoint_changes(tenant, sent, django_assert_num_queries):
    from tenants.webhooks.services import webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update

    assert not WebhookEndpoint.objects.exists()  # (and the connection is on the workspace's schema)
    with django_assert_num_queries(1):  # who subscribes to what: read once...
        assert webhook_event_emit(event_type="alert.fired", data={}) == []
    with django_assert_num_queries(0):  # ...then cached: a workspace without webhooks pays nothing
        assert webhook_event_emit(event_type="alert.fired", data={}) == []
    endpoint = webhook_endpoint_create(url="https://hooks.example.test/", events=["alert.fired"])
    assert len(webhook_event_emit(event_type="alert.fired", data={})) == 1
    assert webhook_event_emit(event_type="alert.cleared", data={}) == []
    webhook_endpoint_update(endpoint=endpoint, events=["alert.cleared"])
    assert (len(webhook_event_emit(event_type="alert.fired", data={})),
            len(webhook_event_emit(event_type="alert.cleared", data={}))) == (0, 1)
    webhook_endpoint_update(endpoint=endpoint, is_active=False)
    assert webhook_event_emit(event_type="alert.cleared", data={}) == []
    webhook_endpoint_update(endpoint=endpoint, is_active=True)
    webhook_endpoint_delete(endpoint=endpoint)
    assert webhook_event_emit(event_type="alert.cleared", data={}) == []
