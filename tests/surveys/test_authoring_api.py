"""GET, POST /api/v1/surveys and GET, PATCH /api/v1/surveys/{id}: roles, tenant
isolation, create from a template or from questions, patch texts and questions, locking,
and the OpenAPI schema."""
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from surveys.models import Survey
from surveys.services.authoring import LOCKED_MESSAGE, survey_create_from_template
from tests.helpers import api_key_client, host_client
from tests.surveys.factories import InvitationFactory, ResponseFactory


def make(workspace, template="nps", name=""):
    with tenant_context(workspace):
        survey = survey_create_from_template(template=template, name=name, created_by=workspace.lead)
    connection.set_schema_to_public()
    return survey


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


def patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


def test_read_a_survey(workspace):
    survey = make(workspace, "csat", "After chat")
    with tenant_context(workspace):
        InvitationFactory(survey=survey)
        InvitationFactory(survey=survey)
        ResponseFactory(survey=survey, followup="open")
    body = api_key_client(workspace, "agent").get(f"/api/v1/surveys/{survey.pk}").json()
    assert body["created_at"] and body["updated_at"]
    del body["created_at"], body["updated_at"]
    assert body == {
        "id": survey.pk, "url": f"http://acme.localhost/api/v1/surveys/{survey.pk}", "public_id": survey.public_id,
        "public_url": f"http://acme.localhost/p/{survey.public_id}", "kind": "csat", "name": "After chat",
        "intro": "You recently talked to our support team. How did it go?",
        "thank_you": "Thank you for your feedback!", "email_subject": "How did we do?",
        "email_intro": "You recently contacted our support team. Please rate the help you received: click a score below.",
        "version": 1, "is_open": True, "closed_at": None, "locked": True,
        "questions": [
            {"key": "q1", "kind": "csat",
             "text": "How would you rate your overall satisfaction with the support you received?", "help_text": "",
             "required": True, "choices": ["Very unsatisfied", "Very satisfied"]},
            {"key": "q2", "kind": "text", "text": "Anything you would like to tell us?", "help_text": "",
             "required": False, "choices": []},
        ],
        "counts": {"questions": 2, "invitations": 2, "responses": 1, "open_followups": 1},
    }


def test_list_is_paginated_newest_first_in_a_fixed_number_of_queries(workspace, django_assert_max_num_queries):
    for n in range(4):
        make(workspace, "nps", f"NPS {n}")
    client = api_key_client(workspace, "agent")
    with django_assert_max_num_queries(12):
        body = client.get("/api/v1/surveys").json()
    assert (body["count"], body["next"], body["previous"]) == (4, None, None)
    assert [s["name"] for s in body["results"]] == ["NPS 3", "NPS 2", "NPS 1", "NPS 0"]
    assert [len(s["questions"]) for s in body["results"]] == [2, 2, 2, 2]


def test_roles(workspace):
    survey = make(workspace)
    viewer = api_key_client(workspace, "viewer")
    for response in (viewer.get("/api/v1/surveys"), viewer.get(f"/api/v1/surveys/{survey.pk}")):
        assert response.status_code == 403 and response.json() == {"detail": "This needs the agent role."}
    agent = api_key_client(workspace, "agent")
    assert agent.get("/api/v1/surveys").status_code == 200
    for response in (post(agent, "/api/v1/surveys", {"template": "nps"}),
                     patch(agent, f"/api/v1/surveys/{survey.pk}", {"name": "Hacked"})):
        assert response.status_code == 403 and response.json() == {"detail": "This needs the team lead role."}
    with tenant_context(workspace):
        assert list(Survey.objects.values_list("name", flat=True)) == ["Net Promoter Score"]


def test_another_workspace_gets_404(workspace, other_workspace):
    survey = make(workspace)
    client = api_key_client(other_workspace)
    for response in (client.get(f"/api/v1/surveys/{survey.pk}"), patch(client, f"/api/v1/surveys/{survey.pk}", {"name": "x"})):
        assert response.status_code == 404 and response.json() == {"detail": "No survey with this id in this workspace."}
    assert client.get("/api/v1/surveys").json()["count"] == 0
    # A key of one workspace on another's host is not accepted.
    assert api_key_client(workspace).get("/api/v1/surveys", HTTP_HOST=other_workspace.domain_name).status_code in (401, 403)


def test_create_from_a_template(workspace):
    response = post(api_key_client(workspace), "/api/v1/surveys",
                    {"template": "helpfulness", "name": "Help desk", "intro": "One question."})
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["name"], body["intro"], body["version"], body["locked"]) == (
        "custom", "Help desk", "One question.", 1, False)
    assert [(q["key"], q["kind"]) for q in body["questions"]] == [("q1", "rating"), ("q2", "text")]
    assert body["questions"][0]["choices"][0] == "Not at all helpful"


def test_create_from_questions(workspace):
    response = post(api_key_client(workspace), "/api/v1/surveys", {
        "kind": "custom", "name": "Onboarding", "questions": [
            {"kind": "single", "text": "Plan?", "choices": ["Free", "Pro"], "required": True},
            {"kind": "text", "text": "What was missing?"}]})
    assert response.status_code == 201
    assert response.json()["questions"] == [
        {"key": "q1", "kind": "single", "text": "Plan?", "help_text": "", "required": True, "choices": ["Free", "Pro"]},
        {"key": "q2", "kind": "text", "text": "What was missing?", "help_text": "", "required": False, "choices": []},
    ]


@pytest.mark.parametrize(("data", "detail"), [
    ({}, "Give either template, or kind and questions."),
    ({"template": "nps", "kind": "nps"}, "Give either template, or kind and questions."),
    ({"kind": "nps", "name": "x"}, "questions: Give the survey's questions (1 to 10)."),
    ({"template": "nps", "questions": []},
     "questions: A template brings its questions: change them afterwards with PATCH, or give kind and questions instead."),
    ({"template": "poll"}, "template: \"poll\" is not a valid choice."),
    ({"kind": "poll", "name": "x", "questions": [{"kind": "text", "text": "a"}]},
     "kind: Choose a kind among nps, csat, custom."),
    ({"kind": "custom", "name": " ", "questions": [{"kind": "text", "text": "a"}]}, "name: Give the survey a name."),
    ({"kind": "custom", "name": "x", "questions": [{"kind": "single", "text": "a", "choices": ["only"]}]},
     "questions: Question 1: give at least 2 options, one per line."),
    ({"kind": "nps", "name": "x", "questions": [{"kind": "text", "text": "a"}]},
     "questions: Question 1: an NPS survey starts with its NPS question: question 1 must stay an NPS question."),
])
def test_create_refusals(workspace, data, detail):
    response = post(api_key_client(workspace), "/api/v1/surveys", data)
    assert response.status_code == 400 and response.json()["detail"] == detail
    with tenant_context(workspace):
        assert not Survey.objects.exists()


def test_patch_texts_and_questions(workspace):
    survey = make(workspace, "nps")
    client = api_key_client(workspace)
    response = patch(client, f"/api/v1/surveys/{survey.pk}", {
        "name": "Quarterly NPS", "email_subject": "Two questions",
        "questions": [{"key": "q1", "kind": "nps", "text": "Would you recommend us?", "required": True},
                      {"kind": "multiple", "text": "What do you use?", "choices": ["Reports", "API"]}]})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email_subject"], body["version"]) == ("Quarterly NPS", "Two questions", 2)
    assert [(q["key"], q["kind"], q["text"], q["choices"]) for q in body["questions"]] == [
        ("q1", "nps", "Would you recommend us?", ["Not at all likely", "Extremely likely"]),
        ("q3", "multiple", "What do you use?", ["Reports", "API"]),
    ]
    # Texts alone leave the questions and their version alone.
    body = patch(client, f"/api/v1/surveys/{survey.pk}", {"thank_you": "Merci !"}).json()
    assert (body["thank_you"], body["version"], len(body["questions"])) == ("Merci !", 2, 2)


def test_patch_refusals(workspace):
    survey = make(workspace, "nps")
    response = patch(api_key_client(workspace), f"/api/v1/surveys/{survey.pk}", {
        "questions": [{"key": "q1", "kind": "nps", "text": "Recommend?", "required": True},
                      {"key": "q7", "kind": "text", "text": "Why?"}]})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "questions: Question 2: q7 is not a question of this survey (leave the key out for a new question).",
        "errors": {"questions": ["Question 2: q7 is not a question of this survey (leave the key out for a new question)."]}}


def test_locked_survey_answers_409_for_questions_and_200_for_texts(workspace):
    survey = make(workspace, "nps")
    with tenant_context(workspace):
        ResponseFactory(survey=survey)
    client = api_key_client(workspace)
    response = patch(client, f"/api/v1/surveys/{survey.pk}", {
        "name": "Renamed", "questions": [{"key": "q1", "kind": "nps", "text": "Changed?", "required": True}]})
    assert response.status_code == 409 and response.json() == {"detail": LOCKED_MESSAGE}
    body = client.get(f"/api/v1/surveys/{survey.pk}").json()
    assert (body["name"], body["locked"], body["version"]) == ("Net Promoter Score", True, 1)
    body = patch(client, f"/api/v1/surveys/{survey.pk}", {"name": "Renamed"}).json()
    assert (body["name"], body["version"]) == ("Renamed", 1)
    # Sending the questions unchanged is not a change.
    same = [{k: q[k] for k in ("key", "kind", "text", "help_text", "required", "choices")} for q in body["questions"]]
    assert patch(client, f"/api/v1/surveys/{survey.pk}", {"questions": same}).status_code == 200


def test_session_users_may_call_it_too_and_are_recorded_as_author(workspace):
    client = host_client(workspace, workspace.lead)
    created = post(client, "/api/v1/surveys", {"template": "csat"}).json()
    assert client.get(f"/api/v1/surveys/{created['id']}").json()["name"] == "Support satisfaction (CSAT)"
    with tenant_context(workspace):
        assert Survey.objects.get().created_by == workspace.lead


def test_schema_describes_the_survey_endpoints(workspace):
    spec = host_client(workspace).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert sorted(spec["paths"]["/api/v1/surveys"]) == ["get", "post"]
    assert sorted(spec["paths"]["/api/v1/surveys/{id}"]) == ["get", "patch"]
    schemas = spec["components"]["schemas"]
    assert schemas["SurveyKindEnum"]["enum"] == ["nps", "csat", "custom"]
    assert schemas["QuestionKindEnum"]["enum"] == ["nps", "csat", "rating", "single", "multiple", "text"]
    assert sorted(schemas["Survey"]["properties"]) == sorted([
        "id", "url", "public_id", "public_url", "kind", "name", "intro", "thank_you", "email_subject", "email_intro",
        "version", "is_open", "closed_at", "locked", "questions", "counts", "created_at", "updated_at"])


def test_schema_generates_without_warnings(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)
    assert "/api/v1/surveys/{id}" in schema["paths"]
    assert not GENERATOR_STATS, f"warnings: {dict(GENERATOR_STATS._warn_cache)} errors: {dict(GENERATOR_STATS._error_cache)}"
