"""response_save / response_record_score / invitation_for_token: validation of every answer
kind, required vs partial, denormalised fields, follow-up flag, TouchedDay, races."""
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.models import TouchedDay
from surveys.models import Answer, Invitation, Response, SurveySettings
from surveys.selectors.answering import CLOSED, EXPIRED, UNKNOWN, invitation_for_token
from surveys.services.answering import response_record_score, response_save
from tests.surveys.factories import InvitationFactory, survey_make

CUSTOM = [
    {"kind": "nps", "text": "Recommend us?", "choices": ["Not at all likely", "Extremely likely"]},
    {"kind": "csat", "text": "Satisfied?", "choices": ["Very unsatisfied", "Very satisfied"]},
    {"kind": "rating", "text": "How helpful?", "choices": ["Extremely helpful", "Very helpful", "Somewhat helpful",
                                                           "Not at all helpful"]},
    {"kind": "single", "text": "Plan?", "choices": ["Free", "Pro", "Enterprise"]},
    {"kind": "multiple", "text": "Channels?", "choices": ["Email", "Chat", "Phone"]},
    {"kind": "text", "text": "Anything else?"},
    {"kind": "text", "text": "A second text", "required": True},
]


@pytest.fixture
def tenant(workspace):
    with tenant_context(workspace):
        yield workspace


@pytest.fixture
def custom(tenant):
    return survey_make("custom", questions=CUSTOM)


def _errors(call) -> dict:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


@pytest.mark.parametrize("key, raw, message", [
    ("q1", "-1", "Choose a number from 0 to 10."),
    ("q1", "11", "Choose a number from 0 to 10."),
    ("q1", "seven", "Choose a number from 0 to 10."),
    ("q2", "0", "Choose a number from 1 to 5."),
    ("q2", "6", "Choose a number from 1 to 5."),
    ("q3", "0", "Choose a number from 1 to 4."),
    ("q3", "5", "Choose a number from 1 to 4."),
    ("q4", "Gold", "Choose one of the options."),
    ("q4", ["Free", "Pro"], "Choose one of the options."),
    ("q5", ["Email", "Fax"], "Choose among the options shown."),
    ("q6", "x" * 5001, "Keep your answer under 5,000 characters (it has 5,001)."),
])
def test_every_answer_kind_is_validated(custom, key, raw, message):
    invitation = InvitationFactory(survey=custom)
    errors = _errors(lambda: response_save(survey=custom, invitation=invitation, answers={key: raw, "q7": "ok"}))
    assert errors == {key: [message]}
    assert Response.objects.count() == 0


def test_valid_answers_of_every_kind_are_stored_exactly(custom):
    invitation = InvitationFactory(survey=custom, channel="chat", agent="Ann", customer_external_id="c-9")
    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    response_save(survey=custom, invitation=invitation, now=now, answers={
        "q1": "0", "q2": "5", "q3": "4", "q4": "Pro", "q5": ["Phone", "Email", "Email"], "q6": "  Great  ",
        "q7": "x" * 5000, "q99": "not a question"})

    response = Response.objects.get()
    assert (response.score, response.score_kind, response.comment, response.channel, response.agent,
            response.customer_external_id, response.survey_version, response.responded_at, response.completed_at,
            response.followup) == (0, "nps", "Great", "chat", "Ann", "c-9", 1, now, now, "open")
    stored = {a.question.key: (a.score, a.choices, a.text[:10]) for a in Answer.objects.select_related("question")}
    assert stored == {"q1": (0, [], ""), "q2": (5, [], ""), "q3": (4, [], ""), "q4": (None, ["Pro"], ""),
                      "q5": (None, ["Email", "Phone"], ""), "q6": (None, [], "Great"), "q7": (None, [], "x" * 10)}
    assert set(Answer.objects.values_list("answered_at", flat=True)) == {now}


def test_required_questions_are_enforced_only_on_a_complete_submit(custom):
    invitation = InvitationFactory(survey=custom)
    errors = _errors(lambda: response_save(survey=custom, invitation=invitation, answers={"q1": "9", "q7": ""}))
    assert errors == {"q7": ["Answer this question."]}
    assert Response.objects.count() == 0

    response_save(survey=custom, invitation=invitation, answers={"q1": "9"}, complete=False)
    response = Response.objects.get()
    assert (response.score, response.completed_at) == (9, None)

    # A complete submit counts answers stored before (q1) and needs the rest.
    later = timezone.now() + timedelta(minutes=5)
    response_save(survey=custom, invitation=invitation, answers={"q7": "done"}, now=later)
    response.refresh_from_db()
    assert (response.score, response.completed_at, response.updated_at) == (9, later, later)
    assert response.responded_at < later  # never moved by edits


def test_nothing_answered_is_not_a_response(custom):
    invitation = InvitationFactory(survey=custom)
    assert _errors(lambda: response_save(survey=custom, invitation=invitation, answers={}, complete=False)) == {
        "__all__": ["Answer at least one question."]}
    survey = survey_make("custom", questions=[{"kind": "text", "text": "Say something"}])
    other = InvitationFactory(survey=survey)
    assert _errors(lambda: response_save(survey=survey, invitation=other, answers={"q1": "  "})) == {
        "__all__": ["Answer at least one question."]}
    assert Response.objects.count() == 0


def test_clearing_an_answer_deletes_it_and_the_denormalised_fields_follow(custom):
    invitation = InvitationFactory(survey=custom)
    response_save(survey=custom, invitation=invitation, answers={"q1": "3", "q6": "Bad", "q7": "x"})
    response_save(survey=custom, invitation=invitation, answers={"q1": "", "q6": "", "q7": "x"})
    response = Response.objects.get()
    assert (response.score, response.score_kind, response.comment) == (None, "", "")
    assert list(Answer.objects.values_list("question__key", flat=True)) == ["q7"]


def test_a_score_from_the_email_is_checked_against_the_first_score_question(tenant):
    csat = survey_make("csat")
    invitation = InvitationFactory(survey=csat)
    assert _errors(lambda: response_record_score(invitation=invitation, score="0")) == {
        "q1": ["Choose a number from 1 to 5."]}
    assert _errors(lambda: response_record_score(invitation=invitation, score="")) == {
        "q1": ["Choose a number from 1 to 5."]}
    response_record_score(invitation=invitation, score="5")
    assert Response.objects.values_list("score", "score_kind", "completed_at").get() == (5, "csat", None)
    text_only = survey_make("custom", questions=[{"kind": "text", "text": "Say something"}])
    assert _errors(lambda: response_record_score(invitation=InvitationFactory(survey=text_only), score="5")) == {
        "__all__": ["This survey has no score question."]}


def test_invitation_for_token_reasons(tenant):
    survey = survey_make("nps")
    now = timezone.now()
    fresh = InvitationFactory(survey=survey)
    assert invitation_for_token(fresh.token) == fresh
    assert invitation_for_token("bad token") is UNKNOWN
    assert invitation_for_token("Q" * 32) is UNKNOWN
    assert invitation_for_token(InvitationFactory(survey=survey, expires_at=now).token, now=now) is EXPIRED
    assert invitation_for_token(InvitationFactory(survey=survey, status="expired").token) is EXPIRED
    unsubscribed = InvitationFactory(survey=survey, status="unsubscribed")
    assert invitation_for_token(unsubscribed.token) == unsubscribed
    survey.closed_at = now
    survey.save()
    assert invitation_for_token(fresh.token) is CLOSED
    answered = InvitationFactory(survey=survey, responded_at=now, status="responded")
    assert invitation_for_token(answered.token) == answered


def test_an_unsubscribed_customer_may_answer_and_stays_unsubscribed(tenant):
    survey = survey_make("nps")
    invitation = InvitationFactory(survey=survey, status="unsubscribed")
    now = timezone.now()
    response_record_score(invitation=invitation, score="10", now=now)
    assert Invitation.objects.values_list("status", "responded_at").get() == ("unsubscribed", now)


# ---------------------------------------------------------------- close the loop

@pytest.mark.parametrize("kind, score, followup", [
    ("nps", "0", "open"), ("nps", "6", "open"), ("nps", "7", ""), ("nps", "10", ""),
    ("csat", "1", "open"), ("csat", "2", "open"), ("csat", "3", ""), ("csat", "5", ""),
])
def test_followup_opens_for_detractors_and_unhappy_csat(tenant, kind, score, followup):
    survey = survey_make(kind)
    response_record_score(invitation=InvitationFactory(survey=survey), score=score)
    assert Response.objects.get().followup == followup


def test_followup_clears_when_the_score_is_edited_up_unless_someone_took_it(tenant, make_member):
    survey = survey_make("nps")
    first, second = InvitationFactory(survey=survey), InvitationFactory(survey=survey)
    response_record_score(invitation=first, score="6")
    assert Response.objects.get(invitation=first).followup == "open"
    response_save(survey=survey, invitation=first, answers={"q1": "9", "q2": ""})
    assert Response.objects.get(invitation=first).followup == ""
    response_save(survey=survey, invitation=first, answers={"q1": "2", "q2": ""})
    assert Response.objects.get(invitation=first).followup == "open"

    response_record_score(invitation=second, score="4")
    from tests.factories import UserFactory

    Response.objects.filter(invitation=second).update(followup_assignee=UserFactory())
    response_record_score(invitation=second, score="10")
    assert Response.objects.get(invitation=second).followup == "open"  # assigned: left to the assignee

    Response.objects.filter(invitation=first).update(followup="done")
    response_record_score(invitation=first, score="1")
    assert Response.objects.get(invitation=first).followup == "done"  # the loop was closed already


# ---------------------------------------------------------------- KPI days

@pytest.mark.parametrize("moment, day", [
    # 23:30 in Paris (CEST, UTC+2) on the last day of March: that day, not April.
    (datetime(2026, 3, 31, 21, 30, tzinfo=UTC), date(2026, 3, 31)),
    # 00:30 on 1 April in Paris is still 31 March in UTC: the local day counts.
    (datetime(2026, 3, 31, 22, 30, tzinfo=UTC), date(2026, 4, 1)),
    # 23:30 on 31 January in Paris (CET, UTC+1).
    (datetime(2026, 1, 31, 22, 30, tzinfo=UTC), date(2026, 1, 31)),
])
def test_a_stored_score_touches_the_local_day_of_responded_at(tenant, moment, day):
    assert tenant.time_zone == "Europe/Paris"
    survey = survey_make("nps")
    invitation = InvitationFactory(survey=survey)
    TouchedDay.objects.all().delete()
    response_record_score(invitation=invitation, score="8", now=moment)
    # (and the response rate's day: the invitation's sent day, today for the factory's)
    assert list(TouchedDay.objects.filter(dataset="survey_responses").values_list("dataset", "day")) == [
        ("survey_responses", day)]

    # An edit days later recomputes the day the response counts in, not the edit's day.
    TouchedDay.objects.all().delete()
    response_save(survey=survey, invitation=invitation, answers={"q1": "3", "q2": "x"}, now=moment + timedelta(days=3))
    assert list(TouchedDay.objects.values_list("dataset", "day")) == [("survey_responses", day)]
    # Changing only the comment does not touch the score KPIs.
    TouchedDay.objects.all().delete()
    response_save(survey=survey, invitation=invitation, answers={"q1": "3", "q2": "y"})
    assert TouchedDay.objects.count() == 0


def test_a_response_without_score_touches_no_day(tenant):
    survey = survey_make("custom", questions=[{"kind": "text", "text": "Say something"}])
    TouchedDay.objects.all().delete()
    response_save(survey=survey, browser_key="k" * 32, answers={"q1": "hi"})
    assert TouchedDay.objects.count() == 0


def test_public_link_responses_are_one_per_browser_key(tenant):
    survey = survey_make("csat")
    response_save(survey=survey, browser_key="a" * 32, answers={"q1": "2"}, channel="chat", agent="Bo")
    response_save(survey=survey, browser_key="a" * 32, answers={"q1": "4"}, channel="web")
    response_save(survey=survey, browser_key="b" * 32, answers={"q1": "5"})
    assert sorted(Response.objects.values_list("browser_key", "score", "channel", "agent", "source")) == [
        ("a" * 32, 4, "chat", "Bo", "link"), ("b" * 32, 5, "", "", "link")]
    with pytest.raises(ValueError):
        response_save(survey=survey, answers={"q1": "5"})


def test_the_form_fragment_renders_with_the_previews_context(tenant):
    survey = survey_make("nps", name="Preview me")
    html = render_to_string("surveys/public/_form.html", {
        "survey": survey, "questions": list(survey.questions.all()), "branding": SurveySettings.load(),
        "answers": {}, "preview": True})
    assert "Preview me" in html
    assert "/static/css/survey.css" in html
    assert 'style="--brand: #4f46e5; --brand-text: #ffffff;"' in html
    assert html.count('type="radio"') == 11 and "checked" not in html
    assert 'method="post"' not in html and "csrfmiddlewaretoken" not in html
    assert '<button type="button" class="survey-button" aria-disabled="true">Send my answers</button>' in html
    assert "Preview: answers given here are not saved." in html


# ---------------------------------------------------------------- races

def test_concurrent_submits_of_one_invitation_make_one_response(committed_workspace):
    workspace = committed_workspace("race")
    with tenant_context(workspace):
        survey = survey_make("nps")
        invitation = InvitationFactory(survey=survey)
    connection.set_schema_to_public()
    threads, barrier, failures = 8, threading.Barrier(8), []

    def submit(n):
        from django.db import connections

        try:
            with tenant_context(workspace):
                barrier.wait()
                if n % 2:
                    response_record_score(invitation=Invitation.objects.select_related("survey").get(pk=invitation.pk),
                                          score=str(n))
                else:
                    response_save(survey=survey, invitation=Invitation.objects.get(pk=invitation.pk),
                                  answers={"q1": str(n), "q2": f"thread {n}"})
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(repr(error))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=submit, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    with tenant_context(workspace):
        response = Response.objects.get()
        assert Answer.objects.filter(response=response, question__key="q1").count() == 1
        assert Answer.objects.filter(response=response, question__key="q2").count() == 1
        assert response.score == Answer.objects.get(question__key="q1").score
        assert Invitation.objects.get().status == "responded"


def test_questions_are_read_again_when_the_survey_changes(tenant):
    from surveys.selectors.answering import survey_questions

    survey = survey_make("nps")
    assert [q.text for q in survey_questions(survey)][1] == "What is the main reason for your score?"
    survey.questions.filter(key="q2").update(text="Why?")
    assert [q.text for q in survey_questions(survey)][1] == "What is the main reason for your score?"  # kept
    survey.version += 1  # what every change of the questions does
    survey.save()
    assert [q.text for q in survey_questions(survey)][1] == "Why?"
