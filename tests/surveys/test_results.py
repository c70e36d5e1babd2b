"""Results pages, follow-ups and the responses API (workspace time zone Europe/Paris)."""
import csv
import io
from datetime import UTC, datetime

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from surveys.selectors import results as reports
from surveys.services.followup import response_followup_update
from tenants.accounts.models import Role
from tests.factories import UserFactory
from tests.helpers import api_key_client, host_client
from tests.surveys.factories import AnswerFactory, InvitationFactory, ResponseFactory, survey_make


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def respond(survey, score, at, *, comment="", channel="", agent="", invitation=None, followup="", completed=True,
            email=""):
    response = ResponseFactory(survey=survey, responded_at=at, updated_at=at, score=score, score_kind=survey.kind,
                               comment=comment, channel=channel, agent=agent, invitation=invitation, followup=followup,
                               completed_at=at if completed else None, email=email)
    AnswerFactory(response=response, question=survey.questions.get(position=1), score=score)
    if comment:
        AnswerFactory(response=response, question=survey.questions.get(position=2), text=comment)
    return response


@pytest.fixture
def nps(workspace):
    """An NPS survey: 5 invitations (4 delivered, 2 answered by email) and 5 responses:
    10 (email, chat/ann), 9, 8, 3 (detractor: follow-up open), 0 (link, partial)."""
    with tenant_context(workspace):
        survey = survey_make("nps", name="Quarterly NPS")
        sent = utc(2026, 3, 1, 9)
        answered = [InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="responded",
                                      responded_at=sent, email=f"a{i}@example.test") for i in range(2)]
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="sent")
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="expired")
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=None, status="failed", failure_reason="550 no such user")
        respond(survey, 10, utc(2026, 3, 2, 9), comment="Great support", channel="chat", agent="ann",
                invitation=answered[0], email="a0@example.test")
        respond(survey, 9, utc(2026, 3, 3, 9), channel="email", agent="bob", invitation=answered[1])
        respond(survey, 8, utc(2026, 3, 4, 9), channel="chat", agent="bob")
        # 23:30 Paris on 31 March (21:30 UTC)
        respond(survey, 3, utc(2026, 3, 31, 21, 30), comment="=HYPERLINK(\"http://x\")", channel="chat", agent="ann",
                followup="open")
        ResponseFactory(survey=survey, source="link", responded_at=utc(2026, 4, 1, 8), updated_at=utc(2026, 4, 1, 8))
        respond(survey, 0, utc(2026, 4, 2, 8), completed=False, followup="open")
        survey.refresh_from_db()
    connection.set_schema_to_public()
    return survey


def test_delivery_and_score_summaries(workspace, nps):
    with tenant_context(workspace):
        delivery = reports.delivery_summary(survey=nps)
        assert dict((s, n) for s, _, n in delivery["statuses"]) == {
            "scheduled": 0, "sending": 0, "sent": 1, "failed": 1, "responded": 2, "expired": 1, "unsubscribed": 0}
        assert (delivery["invited"], delivery["delivered"], delivery["answered"], delivery["response_rate"]) == (5, 4, 2, 50.0)
        assert (delivery["responses"]["total"], delivery["responses"]["by_link"], delivery["responses"]["completed"],
                delivery["responses"]["followups_open"]) == (6, 1, 4, 2)
        summary = reports.score_summary(survey=nps)
        # 10, 9, 8, 3, 0: promoters 2, passives 1, detractors 2 of 5 → NPS 0; mean 30 / 5.
        assert (summary.responses, summary.value, summary.mean) == (5, 0.0, 6.0)
        assert [(band, count) for band, _, count, _ in summary.bands] == [("promoter", 2), ("passive", 1), ("detractor", 2)]
        assert summary.margin == pytest.approx(1.96 * (0.8 / 5) ** 0.5 * 100)


def test_question_summaries_of_a_custom_survey(workspace):
    with tenant_context(workspace):
        survey = survey_make("custom", questions=[
            {"kind": "rating", "text": "How helpful?", "choices": ["Not at all helpful", "Somewhat", "Extremely helpful"]},
            {"kind": "single", "text": "Plan?", "choices": ["Free", "Pro"]},
            {"kind": "multiple", "text": "Features?", "choices": ["Reports", "Surveys", "API"]},
            {"kind": "text", "text": "Anything else?"}])
        q = {question.position: question for question in survey.questions.all()}
        for i, (rating, plan, features, text) in enumerate([(3, "Pro", ["Reports", "API"], "Love it"),
                                                           (3, "Free", ["Reports"], ""), (1, "Pro", [], "Slow")]):
            response = ResponseFactory(survey=survey, responded_at=utc(2026, 3, 1 + i, 9), updated_at=utc(2026, 3, 1 + i, 9))
            AnswerFactory(response=response, question=q[1], score=rating)
            AnswerFactory(response=response, question=q[2], choices=[plan])
            AnswerFactory(response=response, question=q[3], choices=features)
            if text:
                AnswerFactory(response=response, question=q[4], text=text)
        rating, single, multiple, text = reports.question_summaries(survey=survey)
        assert rating["rows"] == [("Not at all helpful", 1, pytest.approx(100 / 3)), ("Somewhat", 0, 0.0),
                                  ("Extremely helpful", 2, pytest.approx(200 / 3))]
        assert single["rows"] == [("Free", 1, pytest.approx(100 / 3)), ("Pro", 2, pytest.approx(200 / 3))]
        assert multiple["answered"] == 3
        assert [(label, n) for label, n, _ in multiple["rows"]] == [("Reports", 2), ("Surveys", 0), ("API", 1)]
        assert [t["text"] for t in text["texts"]] == ["Slow", "Love it"]
        assert reports.score_summary(survey=survey) is None


def test_results_page(workspace, nps, django_assert_max_num_queries):
    client = host_client(workspace, workspace.lead)
    with django_assert_max_num_queries(40):  # half of them SET search_path
        page = client.get(f"/surveys/{nps.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Quarterly NPS" in html and "50.0%" in html and "2 of 4 delivered invitations answered" in html
    assert "Great support" in html and "± " in html
    assert f"/p/{nps.public_id}" in html


def test_responses_filters(workspace, nps):
    with tenant_context(workspace):
        def ids(**filters):
            found = reports.responses_filtered(survey=nps, filters=reports.ResponseFilters(**filters))
            return sorted(r.score for r in found if r.score is not None)

        assert ids(band="detractor") == [0, 3]
        assert ids(band="promoter", channel="chat") == [10]
        assert ids(agent="bob") == [8, 9]
        # 21:30 UTC on 31 March is 31 March in Paris: in a March range, not in April.
        from datetime import date
        assert ids(since=date(2026, 3, 31), until=date(2026, 3, 31)) == [3]
        assert ids(since=date(2026, 4, 1)) == [0]
        assert ids(followup="open") == [0, 3]
        assert ids(q="great") == [10]
        assert reports.responses_filtered(survey=nps, filters=reports.ResponseFilters(source="link")).count() == 1


def test_responses_page_and_csv(workspace, nps, django_assert_max_num_queries):
    client = host_client(workspace, workspace.lead)
    with django_assert_max_num_queries(25):
        page = client.get(f"/surveys/{nps.pk}/responses/?band=detractor")
    assert page.status_code == 200 and "2 responses" in page.content.decode()
    bad = client.get(f"/surveys/{nps.pk}/responses/?since=2026-04-02&until=2026-04-01")
    assert "The end date is before the start date." in bad.content.decode()
    export = client.get(f"/surveys/{nps.pk}/responses.csv?channel=chat")
    assert export["Content-Disposition"].startswith(f'attachment; filename="pulse-survey-{nps.pk}-responses-')
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:4] == ["response_id", "responded_at", "updated_at", "completed"]
    assert rows[0][-2:] == ["q1: How likely are you to recommend us to a friend or colleague?",
                            "q2: What is the main reason for your score?"]
    assert [(r[1], r[9], r[10], r[-1]) for r in rows[1:]] == [
        ("2026-03-31T23:30:00+02:00", "3", "detractor", "'=HYPERLINK(\"http://x\")"),
        ("2026-03-04T10:00:00+01:00", "8", "passive", ""),
        ("2026-03-02T10:00:00+01:00", "10", "promoter", "Great support")]


def test_follow_up_rules(workspace, nps):
    with tenant_context(workspace):
        ann = UserFactory(role=Role.AGENT, full_name="Ann")
        bob = UserFactory(role=Role.AGENT, full_name="Bob")
        viewer = UserFactory(role=Role.VIEWER)
        detractor = nps.responses.get(score=3)
        response_followup_update(response=detractor, by=workspace.lead, assignee=ann, note="Call her")
        detractor.refresh_from_db()
        assert (detractor.followup, detractor.followup_assignee, detractor.followup_note) == ("open", ann, "Call her")
        from django.core.exceptions import PermissionDenied, ValidationError
        with pytest.raises(PermissionDenied):
            response_followup_update(response=detractor, by=bob, status="done")
        with pytest.raises(PermissionDenied):
            response_followup_update(response=detractor, by=ann, assignee=bob)
        with pytest.raises(ValidationError):
            response_followup_update(response=detractor, by=workspace.lead, assignee=viewer)
        response_followup_update(response=detractor, by=ann, status="done", note="Refunded")
        detractor.refresh_from_db()
        assert (detractor.followup, detractor.followup_note) == ("done", "Refunded")
        assert detractor.followed_up_at is not None
        assert reports.delivery_summary(survey=nps)["responses"]["followups_open"] == 1


def test_follow_up_page(workspace, nps, make_member):
    ann = make_member(Role.AGENT, full_name="Ann")
    bob = make_member(Role.AGENT, full_name="Bob")
    with tenant_context(workspace):
        detractor = nps.responses.get(score=3)
    connection.set_schema_to_public()
    url = f"/surveys/{nps.pk}/responses/{detractor.pk}/"
    lead = host_client(workspace, workspace.lead)
    assert lead.post(url, {"status": "open", "assignee": ann.pk, "note": "Call"}).status_code == 302
    assert host_client(workspace, bob).post(url, {"status": "done", "note": "x"}).status_code == 403
    page = host_client(workspace, ann).get(url)
    assert "Save follow-up" in page.content.decode() and 'name="assignee"' not in page.content.decode()
    assert host_client(workspace, ann).post(url, {"status": "done", "note": "Called, solved"}).status_code == 302
    with tenant_context(workspace):
        detractor.refresh_from_db()
        assert (detractor.followup, detractor.followup_assignee_id, detractor.followup_note) == ("done", ann.pk, "Called, solved")


def test_roles_and_isolation(workspace, other_workspace, nps, make_member):
    viewer = make_member(Role.VIEWER)
    assert host_client(workspace, viewer).get(f"/surveys/{nps.pk}/").status_code == 403
    assert host_client(workspace, make_member(Role.AGENT)).get(f"/surveys/{nps.pk}/responses/").status_code == 200
    assert host_client(other_workspace, other_workspace.lead).get(f"/surveys/{nps.pk}/").status_code == 404
    assert host_client(workspace).get(f"/surveys/{nps.pk}/").status_code == 302  # sign in first


def test_responses_api(workspace, other_workspace, nps):
    client = api_key_client(workspace, role="agent")
    body = client.get(f"/api/v1/surveys/{nps.pk}/responses?band=detractor").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert (first["score"], first["band"], first["followup"], first["completed_at"] is None) == (0, "detractor", "open", True)
    second = body["results"][1]
    assert second["answers"] == {"q1": 3, "q2": "=HYPERLINK(\"http://x\")"}
    assert second["responded_at"] == "2026-03-31T23:30:00+02:00"
    everything = client.get(f"/api/v1/surveys/{nps.pk}/responses").json()
    assert everything["count"] == 6
    link = [r for r in everything["results"] if r["source"] == "link"][0]
    assert (link["score"], link["band"], link["answers"]) == (None, "", {"q1": None, "q2": None})
    bad = client.get(f"/api/v1/surveys/{nps.pk}/responses?band=positive")
    assert bad.status_code == 400 and bad.json()["errors"]["band"] == ["This survey's bands are: promoter, passive, detractor."]
    assert api_key_client(workspace, role="viewer").get(f"/api/v1/surveys/{nps.pk}/responses").status_code == 403
    assert api_key_client(other_workspace).get(f"/api/v1/surveys/{nps.pk}/responses").status_code == 404
