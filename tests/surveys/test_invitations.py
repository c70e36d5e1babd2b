"""Who gets invited: refusals with their reasons, audiences (customers, pasted list, CSV),
the invitations API, roles and workspace isolation."""
import json
import zoneinfo
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from surveys.models import Campaign, Invitation, Refusal, Suppression, SurveySettings
from surveys.selectors.distribution import audience_customers
from surveys.services.invitations import audience_csv, audience_pasted, campaign_create, invitations_create, suppression_add
from tests.helpers import api_key_client
from tests.ingestion.factories import CustomerFactory
from tests.surveys.factories import InvitationFactory, survey_make

PARIS = zoneinfo.ZoneInfo("Europe/Paris")  # the test workspaces' time zone


def today() -> str:
    return timezone.localdate(timezone=PARIS).isoformat()


def test_refusals_with_reasons_and_the_rest_invited(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
        other = survey_make("csat")
        InvitationFactory(survey=other, email="recent@x.test")
        old = InvitationFactory(survey=other, email="old@x.test")
        Invitation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
        suppression_add(email="gone@x.test", reason="unsubscribed")
        before = timezone.now()
        campaign, invitations, refusals = campaign_create(survey=survey, name="Autumn", audience="Pasted list", reminder_days=3,
                                                          recipients=[
            {"email": "Ann@X.test ", "name": " Ann ", "customer_external_id": "c1", "channel": "chat", "agent": "Zoe"},
            {"email": "ann@x.test", "name": "Ann again"},
            {"email": "not-an-address"},
            {"email": ""},
            {"email": "recent@x.test"},
            {"email": "gone@x.test"},
            {"email": "old@x.test"},
            {"email": "c@x.test", "channel": "x" * 51},
        ])
        assert (campaign.name, campaign.audience, campaign.reminder_days) == ("Autumn", "Pasted list", 3)
        assert [(r.email, r.reason) for r in refusals] == [
            ("ann@x.test", "listed twice: invited once"),
            ("not-an-address", "not a valid email address"),
            ("", "no email address"),
            ("c@x.test", "channel is longer than 50 characters"),
            ("recent@x.test", f"surveyed on {today()}, within the 30-day window"),
            ("gone@x.test", f"unsubscribed on {today()}"),
        ]
        assert all(r.campaign_id == campaign.pk and r.survey_id == survey.pk and r.source == "campaign" for r in refusals)
        assert [i.email for i in invitations] == ["ann@x.test", "old@x.test"]
        ann = Invitation.objects.get(email="ann@x.test")
        assert (ann.name, ann.customer_external_id, ann.channel, ann.agent, ann.status, ann.source, ann.campaign_id) == (
            "Ann", "c1", "chat", "Zoe", "scheduled", "campaign", campaign.pk)
        assert before <= ann.scheduled_at <= timezone.now()
        assert ann.expires_at == ann.scheduled_at + timedelta(days=28)
        assert ann.reminder_at == ann.scheduled_at + timedelta(days=3)
        assert len(ann.token) == 32 and ann.token != Invitation.objects.get(email="old@x.test", survey=survey).token
        # The throttling window and expiry follow the settings.
        SurveySettings.objects.update_or_create(pk=1, defaults={"throttle_days": 0, "link_expiry_days": 7})
        created, refused = invitations_create(survey=survey, recipients=[{"email": "recent@x.test"}], source="api")
        assert refused == [] and created[0].expires_at == created[0].scheduled_at + timedelta(days=7)


def test_two_invitations_for_one_address_are_throttled_across_surveys(workspace):
    with tenant_context(workspace):
        first, second = survey_make("nps"), survey_make("csat")
        SurveySettings.objects.update_or_create(pk=1, defaults={"throttle_days": 10})
        invitations_create(survey=first, recipients=[{"email": "t@x.test"}], source="api")
        created, refused = invitations_create(survey=second, recipients=[{"email": "T@x.test"}], source="api")
        assert created == [] and [(r.email, r.reason) for r in refused] == [
            ("t@x.test", f"surveyed on {today()}, within the 10-day window")]


def test_an_invitation_never_delivered_does_not_hold_the_address_for_the_window(workspace):
    from surveys.services.invitations import UNCERTAIN

    with tenant_context(workspace):
        survey = survey_make("nps")
        InvitationFactory(survey=survey, email="bounced@x.test", status="failed",
                          failure_reason="the mail server refused it: 451 try later (5 attempts)")
        InvitationFactory(survey=survey, email="maybe@x.test", status="failed", failure_reason=UNCERTAIN)
        InvitationFactory(survey=survey, email="waiting@x.test", status="scheduled")
        InvitationFactory(survey=survey, email="lapsed@x.test", status="expired")
        created, refused = invitations_create(survey=survey_make("csat"), source="api", recipients=[
            {"email": e} for e in ("bounced@x.test", "maybe@x.test", "waiting@x.test", "lapsed@x.test")])
        # Never delivered: surveyed nobody. Perhaps delivered, about to be sent, or sent and
        # left unanswered: each holds the address for the 30 days.
        assert [i.email for i in created] == ["bounced@x.test"]
        window = f"surveyed on {today()}, within the 30-day window"
        assert [(r.email, r.reason) for r in refused] == [
            ("maybe@x.test", window), ("waiting@x.test", window), ("lapsed@x.test", window)]


def test_suppression_reasons_and_what_it_calls_off(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
        scheduled = InvitationFactory(survey=survey, email="m@x.test", status="scheduled")
        reminder_pending = InvitationFactory(survey=survey, email="m@x.test", status="sent",
                                             reminder_at=timezone.now() + timedelta(days=1))
        done = InvitationFactory(survey=survey, email="m@x.test", status="responded")
        suppression_add(email=" M@x.test", reason="manual")
        text = f"on the suppression list since {today()} (added by a team lead)"
        assert [(i.pk, i.status, i.failure_reason) for i in Invitation.objects.filter(email="m@x.test").order_by("pk")] == [
            (scheduled.pk, "failed", text), (reminder_pending.pk, "unsubscribed", text), (done.pk, "responded", "")]
        Suppression.objects.create(email="b@x.test", reason="bounced")
        _, refused = invitations_create(survey=survey, recipients=[{"email": "m@x.test"}, {"email": "b@x.test"}], source="api")
        assert [r.reason for r in refused] == [text, f"address refused by the mail server on {today()}"]


def test_audience_customers_by_plan_country_and_activity(workspace):
    with tenant_context(workspace):
        CustomerFactory(external_id="a", email="a@x.test", name="A", plan="pro", country="FR")
        CustomerFactory(external_id="b", email="b@x.test", plan="pro", country="DE")
        CustomerFactory(external_id="c", email="c@x.test", plan="pro", country="FR", churned_at=timezone.now())
        CustomerFactory(external_id="d", email="d@x.test", plan="pro", country="FR", is_test=True)
        CustomerFactory(external_id="e", email="", plan="free", country="FR")
        assert audience_customers(plan="pro", country="FR") == [{"email": "a@x.test", "name": "A", "customer_external_id": "a"}]
        assert [r["customer_external_id"] for r in audience_customers(plan="pro", active_only=False)] == ["a", "b", "c"]
        assert [r["customer_external_id"] for r in audience_customers()] == ["a", "b", "e"]


def test_audience_pasted():
    assert audience_pasted("ada@x.test\n\n  Bob Stone <BOB@x.test>\ncy@x.test, Cy Young\n\"Di\" <di@x.test>\nnonsense\n") == [
        {"email": "ada@x.test", "name": ""}, {"email": "BOB@x.test", "name": "Bob Stone"},
        {"email": "cy@x.test", "name": "Cy Young"}, {"email": "di@x.test", "name": "Di"},
        {"email": "nonsense", "name": ""}]


def csv_upload(text: str, name="people.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_audience_csv_matches_headers_case_insensitively():
    rows = audience_csv(csv_upload("Name,EMAIL,Channel,Agent,Customer_External_ID,notes\n"
                                   "Ada,ada@x.test,chat,Zoe,c1,vip\n\n,bob@x.test,,,,\n"))
    assert rows == [{"email": "ada@x.test", "name": "Ada", "customer_external_id": "c1", "channel": "chat", "agent": "Zoe"},
                    {"email": "bob@x.test", "name": "", "customer_external_id": "", "channel": "", "agent": ""}]
    assert audience_csv(csv_upload("email;name\nx@x.test;X\n")) == [{"email": "x@x.test", "name": "X"}]


@pytest.mark.parametrize("content, message", [
    ("", "The file is empty: it needs a header row (email, name, …) and one row per recipient."),
    ("name,mail\nA,a@x.test\n", "The file has no “email” column (its columns: name, mail). "
                                "Expected columns: email, name, customer_external_id, channel, agent."),
    ("email,name\n", "The file has a header but no recipients."),
    ("email,email\na@x.test,b@x.test\n", "The column email appears twice in the header."),
    ("email,name\na@x.test,A,extra\n", "Line 2 has 3 columns, the header has 2."),
])
def test_audience_csv_errors(content, message):
    with pytest.raises(ValidationError) as caught:
        audience_csv(csv_upload(content))
    assert caught.value.messages == [message]


def test_audience_csv_not_utf8():
    with pytest.raises(ValidationError) as caught:
        audience_csv(SimpleUploadedFile("p.csv", "email,name\nä@x.test,Jörg\n".encode("latin-1")))
    assert caught.value.messages == ["The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."]


# ------------------------------------------------------------------------------- API

def post(client, survey_id, body):
    return client.post(f"/api/v1/surveys/{survey_id}/invitations", json.dumps(body), content_type="application/json")


def test_api_creates_invitations_and_lists_refusals(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
        Suppression.objects.create(email="gone@x.test", reason="unsubscribed")
    connection.set_schema_to_public()
    client = api_key_client(workspace)
    response = post(client, survey.pk, [
        {"email": "Api@X.test", "name": "Api", "customer_external_id": "c9", "channel": "email", "agent": "Kim"},
        {"email": "gone@x.test"}, {"email": "bad"}])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 1
    [invitation] = body["invitations"]
    assert {k: invitation[k] for k in ("email", "name", "customer_external_id", "channel", "agent", "source", "status",
                                       "campaign", "sent_at", "failure_reason")} == {
        "email": "api@x.test", "name": "Api", "customer_external_id": "c9", "channel": "email", "agent": "Kim",
        "source": "api", "status": "scheduled", "campaign": None, "sent_at": None, "failure_reason": ""}
    assert "token" not in invitation
    assert body["refused"] == [{"email": "bad", "reason": "not a valid email address"},
                               {"email": "gone@x.test", "reason": f"unsubscribed on {today()}"}]
    listed = client.get(f"/api/v1/surveys/{survey.pk}/invitations").json()
    assert (listed["count"], listed["results"][0]["email"], listed["results"][0]["status"]) == (1, "api@x.test", "scheduled")
    assert client.get(f"/api/v1/surveys/{survey.pk}/invitations?status=sent").json()["count"] == 0
    bad = client.get(f"/api/v1/surveys/{survey.pk}/invitations?status=nope")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "status: Use one of: scheduled, sending, sent, failed, responded, expired, unsubscribed."


def test_api_object_form_with_schedule_and_reminder(workspace):
    with tenant_context(workspace):
        survey = survey_make("csat")
    connection.set_schema_to_public()
    response = post(api_key_client(workspace), survey.pk, {
        "recipients": [{"email": "later@x.test"}], "scheduled_at": "2030-01-02T09:00:00Z", "reminder_days": 2})
    assert response.status_code == 201
    [invitation] = response.json()["invitations"]
    assert (invitation["scheduled_at"], invitation["reminder_at"], invitation["expires_at"]) == (
        "2030-01-02T10:00:00+01:00", "2030-01-04T10:00:00+01:00", "2030-01-30T10:00:00+01:00")


@pytest.mark.parametrize("body, status, detail", [
    ({"recipients": "x"}, 400, "Send a JSON list of recipients ({\"email\", \"name\", \"customer_external_id\", "
                               "\"channel\", \"agent\"}), or an object with \"recipients\"."),
    ([{"email": "a@x.test", "phone": "1"}], 400,
     "recipients: recipient 0: unknown field phone; the fields are email, name, customer_external_id, channel, agent"),
    ([{"email": "a@x.test"}, "b@x.test"], 400, "recipients: recipient 1: each recipient must be a JSON object"),
    ([{"email": 5}], 400, "recipients: recipient 0: every field is a string"),
    ({"recipients": [], "reminder_days": 0}, 400, "reminder_days: A whole number of days from 1 to 60, or null for no reminder."),
    ({"recipients": [], "scheduled_at": "tomorrow"}, 400, "scheduled_at: An ISO 8601 time with its offset, e.g. 2026-12-01T09:00:00Z."),
])
def test_api_malformed_requests_queue_nothing(workspace, body, status, detail):
    with tenant_context(workspace):
        survey = survey_make("nps")
    connection.set_schema_to_public()
    response = post(api_key_client(workspace), survey.pk, body)
    assert (response.status_code, response.json()["detail"]) == (status, detail)
    with tenant_context(workspace):
        assert Invitation.objects.count() == 0 and Refusal.objects.count() == 0


def test_api_limit_of_10000(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
    connection.set_schema_to_public()
    response = post(api_key_client(workspace), survey.pk, [{"email": f"p{i}@x.test"} for i in range(10_001)])
    assert response.status_code == 400
    assert response.json()["detail"] == "Send at most 10,000 recipients per request; this one has 10,001."


def test_api_roles_and_workspace_isolation(workspace, other_workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
    connection.set_schema_to_public()
    agent, viewer = api_key_client(workspace, "agent"), api_key_client(workspace, "viewer")
    assert post(agent, survey.pk, [{"email": "a@x.test"}]).status_code == 403
    assert post(agent, survey.pk, [{"email": "a@x.test"}]).json()["detail"] == "This needs the team lead role."
    assert agent.get(f"/api/v1/surveys/{survey.pk}/invitations").status_code == 200
    assert viewer.get(f"/api/v1/surveys/{survey.pk}/invitations").status_code == 403
    other = api_key_client(other_workspace)
    response = other.get(f"/api/v1/surveys/{survey.pk}/invitations")
    assert (response.status_code, response.json()["detail"]) == (404, "No survey with this id in this workspace.")
    assert post(other, survey.pk, [{"email": "a@x.test"}]).status_code == 404
    with tenant_context(workspace):
        assert Invitation.objects.count() == 0 and Campaign.objects.count() == 0
