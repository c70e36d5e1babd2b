"""Survey authoring pages (test client): list, template gallery, editor without JavaScript,
locked state, preview, duplicate, close/reopen, settings with the logo, the public logo,
roles and tenant isolation."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from surveys.models import Question, Survey, SurveySettings
from surveys.services.authoring import LOCKED_MESSAGE, survey_create_from_template
from tenants.accounts.models import Role
from tests.helpers import host_client, lead_client
from tests.surveys.factories import InvitationFactory, ResponseFactory, survey_make
from tests.surveys.helpers import GIF, PNG, SVG


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)



def make(workspace, template="satisfaction", name=""):
    with tenant_context(workspace):
        return survey_create_from_template(template=template, name=name, created_by=workspace.lead)


def editor_form(workspace, survey, **overrides) -> dict:
    """The editor as the page posts it, with the survey's current texts and questions."""
    data = {name: getattr(survey, name) for name in ("name", "intro", "thank_you", "email_subject", "email_intro")}
    with tenant_context(workspace):
        questions = list(Question.objects.filter(survey_id=survey.pk).order_by("position"))
    data.update({"questions-TOTAL_FORMS": str(len(questions)), "questions-INITIAL_FORMS": str(len(questions)),
                 "questions-MIN_NUM_FORMS": "0", "questions-MAX_NUM_FORMS": "15"})
    for index, q in enumerate(questions):
        prefix = f"questions-{index}-"
        data.update({prefix + "key": q.key, prefix + "kind": q.kind, prefix + "text": q.text,
                     prefix + "help_text": q.help_text, prefix + "choices": "\n".join(q.choices),
                     prefix + "ORDER": str(q.position)})
        if q.required:
            data[prefix + "required"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def satisfaction(workspace):
    return make(workspace)


def questions_of(workspace, survey) -> list[tuple]:
    with tenant_context(workspace):
        return [(q.position, q.key, q.kind, q.text, q.required, q.choices)
                for q in Question.objects.filter(survey_id=survey.pk).order_by("position")]


# ---------------------------------------------------------------- roles

def test_viewers_get_a_403_page_naming_the_role(workspace, make_member, satisfaction):
    client = host_client(workspace, make_member(Role.VIEWER))
    for url in ("/surveys/", "/surveys/new/", f"/surveys/{satisfaction.pk}/edit/",
                f"/surveys/{satisfaction.pk}/preview/", "/settings/surveys/"):
        response = client.get(url)
        assert response.status_code == 403, url
    assert "It needs the <strong>agent</strong> role." in client.get("/surveys/").content.decode()


def test_agents_read_but_do_not_change(workspace, make_member, satisfaction):
    client = host_client(workspace, make_member(Role.AGENT))
    page = client.get("/surveys/").content.decode()
    assert "Customer satisfaction survey" in page
    assert "New survey" not in page and "/edit/" not in page and "Survey settings" not in page
    assert client.get(f"/surveys/{satisfaction.pk}/preview/").status_code == 200
    for method, url in (("get", "/surveys/new/"), ("get", f"/surveys/{satisfaction.pk}/edit/"),
                        ("get", "/settings/surveys/"), ("post", f"/surveys/{satisfaction.pk}/duplicate/"),
                        ("post", f"/surveys/{satisfaction.pk}/close/"),
                        ("post", f"/surveys/{satisfaction.pk}/edit/")):
        response = getattr(client, method)(url, editor_form(workspace, satisfaction, name="Hacked") if method == "post" else None)
        assert response.status_code == 403, url
        assert "It needs the <strong>team lead</strong> role." in response.content.decode()
    with tenant_context(workspace):
        assert list(Survey.objects.values_list("name", "closed_at")) == [("Customer satisfaction survey", None)]


def test_signed_out_visitors_are_sent_to_sign_in(workspace):
    response = host_client(workspace).get("/surveys/")
    assert response.status_code == 302 and response["Location"] == "/sign-in/?next=/surveys/"


def test_another_workspace_gets_404(workspace, other_workspace, satisfaction):
    client = host_client(other_workspace, other_workspace.lead)
    for url in (f"/surveys/{satisfaction.pk}/edit/", f"/surveys/{satisfaction.pk}/preview/"):
        assert client.get(url).status_code == 404
    for url in (f"/surveys/{satisfaction.pk}/duplicate/", f"/surveys/{satisfaction.pk}/close/"):
        assert client.post(url).status_code == 404
    assert "Customer satisfaction survey" not in client.get("/surveys/").content.decode()


# ---------------------------------------------------------------- list

def test_list_shows_counts_in_a_fixed_number_of_queries(workspace, django_assert_max_num_queries):
    with tenant_context(workspace):
        for n in range(3):
            survey = survey_make("nps", name=f"NPS {n}")
            for _ in range(n):
                InvitationFactory(survey=survey)
            for _ in range(n * 2):
                ResponseFactory(survey=survey, followup="open" if n == 2 else "")
    client = lead_client(workspace)
    # Session, user, the surveys with their counts, the page count (each after SET search_path).
    with django_assert_max_num_queries(10):
        page = client.get("/surveys/").content.decode()
    rows = re.findall(r'<tr>\s*<th scope="row" class="survey-name">\s*<a href="/surveys/\d+/">([^<]+)</a>.*?'
                      r'data-label="Questions">(\d+)</td>.*?data-label="Invitations">(\d+)</td>.*?'
                      r'data-label="Responses">(\d+)</td>.*?data-label="Open follow-ups">(\d+)</td>', page, re.S)
    assert rows == [("NPS 2", "2", "2", "4", "4"), ("NPS 1", "2", "1", "2", "0"), ("NPS 0", "2", "0", "0", "0")]
    assert page.count("Questions locked") == 2
    assert '<a class="button button-primary" href="/surveys/new/">New survey</a>' in page


def test_list_query_count_does_not_grow_with_surveys(workspace, django_assert_max_num_queries):
    with tenant_context(workspace):
        for n in range(25):
            survey_make("csat", name=f"CSAT {n}")
    client = lead_client(workspace)
    with django_assert_max_num_queries(10):
        assert client.get("/surveys/").content.decode().count('class="survey-name"') == 25


def test_empty_list_invites_the_team_lead_to_create_one(workspace, make_member):
    assert "Create your first survey" in lead_client(workspace).get("/surveys/").content.decode()
    page = host_client(workspace, make_member(Role.AGENT)).get("/surveys/").content.decode()
    assert "A team lead of this workspace creates surveys" in page and "Create your first survey" not in page


# ---------------------------------------------------------------- new

def test_gallery_offers_the_templates_and_creates_a_survey(workspace):
    client = lead_client(workspace)
    page = client.get("/surveys/new/").content.decode()
    assert re.findall(r'name="template" value="(\w+)"', page) == ["nps", "csat", "satisfaction", "helpfulness", "blank"]
    assert "Satisfaction survey (5 questions)" in page and "How easy was it to get the help you needed?" in page
    response = client.post("/surveys/new/", {"template": "helpfulness", "name": "Help desk"})
    with tenant_context(workspace):
        survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/surveys/{survey.pk}/edit/"
    assert (survey.name, survey.kind, survey.created_by) == ("Help desk", "custom", workspace.lead)
    page = client.get(response["Location"]).content.decode()
    assert "“Help desk” created from the template." in page


def test_gallery_refuses_an_unknown_template(workspace):
    response = lead_client(workspace).post("/surveys/new/", {"template": "nope"})
    assert response.status_code == 400
    assert "Select a valid choice. nope is not one of the available choices." in response.content.decode()


# ---------------------------------------------------------------- edit

def test_editor_saves_texts_edits_reorders_removes_and_adds(workspace, satisfaction):
    client = lead_client(workspace)
    data = editor_form(workspace, satisfaction, name="Support survey", **{
        "questions-1-text": "How easy was it to reach us?",
        "questions-1-ORDER": "9",  # last of the questions kept
        "questions-2-DELETE": "on",  # remove q3
        "questions-4-choices": "",
    })
    data.update({"questions-TOTAL_FORMS": "6", "questions-5-kind": "single", "questions-5-text": "Your plan?",
                 "questions-5-choices": "Free\n\n Pro \nEnterprise", "questions-5-required": "on"})
    response = client.post(f"/surveys/{satisfaction.pk}/edit/", data)
    assert response.status_code == 302 and response["Location"] == f"/surveys/{satisfaction.pk}/edit/"
    assert questions_of(workspace, satisfaction) == [
        (1, "q1", "csat", "Overall, how satisfied are you with our support?", True, ["Very unsatisfied", "Very satisfied"]),
        (2, "q4", "multiple", "What did we do well?", False,
         ["Quick response", "Friendly", "Knowledgeable", "Solved my problem", "Kept me informed"]),
        (3, "q5", "text", "How could we improve?", False, []),
        (4, "q2", "rating", "How easy was it to reach us?", True,
         ["Very difficult", "Difficult", "Neither easy nor difficult", "Easy", "Very easy"]),
        (5, "q6", "single", "Your plan?", True, ["Free", "Pro", "Enterprise"]),
    ]
    with tenant_context(workspace):
        survey = Survey.objects.get()
    assert (survey.name, survey.version) == ("Support survey", 2)
    page = client.get(response["Location"]).content.decode()
    assert "Survey saved. Its questions changed: this is version 2." in page


def test_add_a_question_without_javascript_saves_nothing_and_keeps_what_was_typed(workspace, satisfaction):
    client = lead_client(workspace)
    response = client.post(f"/surveys/{satisfaction.pk}/edit/",
                           editor_form(workspace, satisfaction, name="Typed, not saved", add="1"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="questions-TOTAL_FORMS" value="6"' in page and 'value="Typed, not saved"' in page
    assert '<legend>Question 6 <span class="muted">(new)</span></legend>' in page
    assert 'name="questions-5-text" maxlength="500" autofocus' in page
    with tenant_context(workspace):
        assert Survey.objects.get().name == "Customer satisfaction survey"
    # Saving with the new row left blank ignores it.
    data = editor_form(workspace, satisfaction, name="Saved")
    data.update({"questions-TOTAL_FORMS": "6", "questions-5-kind": "text", "questions-5-text": ""})
    assert client.post(f"/surveys/{satisfaction.pk}/edit/", data).status_code == 302
    assert [q[1] for q in questions_of(workspace, satisfaction)] == ["q1", "q2", "q3", "q4", "q5"]
    with tenant_context(workspace):
        assert (Survey.objects.get().name, Survey.objects.get().version) == ("Saved", 1)


def test_editor_shows_each_refusal_beside_its_question(workspace, satisfaction):
    response = lead_client(workspace).post(f"/surveys/{satisfaction.pk}/edit/", editor_form(workspace, satisfaction, **{
        "name": " ", "questions-0-text": "", "questions-2-choices": "Email\nemail"}))
    assert response.status_code == 400
    page = response.content.decode()
    # The texts are checked first, then the questions.
    assert "Nothing was saved: fix what is marked below." in page and "Give the survey a name." in page
    response = lead_client(workspace).post(f"/surveys/{satisfaction.pk}/edit/", editor_form(workspace, satisfaction, **{
        "questions-0-text": "", "questions-2-choices": "Email\nemail"}))
    page = response.content.decode()
    first = page.index('id="id_questions-0-text"')
    assert page.index('<p class="error" role="alert">write the question.</p>') > first
    assert page.index('<p class="error" role="alert">“email” is listed twice.</p>') > page.index('id="id_questions-2-text"')
    response = lead_client(workspace).post(f"/surveys/{satisfaction.pk}/edit/", editor_form(workspace, satisfaction, name=" "))
    assert '<p class="error" role="alert">Give the survey a name.</p>' in response.content.decode()


def test_removing_every_question_is_refused(workspace, satisfaction):
    data = editor_form(workspace, satisfaction, **{f"questions-{n}-DELETE": "on" for n in range(5)})
    response = lead_client(workspace).post(f"/surveys/{satisfaction.pk}/edit/", data)
    assert response.status_code == 400
    assert '<div class="form-errors" role="alert"><p>Give the survey at least one question.</p>' in response.content.decode()


def test_nps_survey_keeps_its_nps_question(workspace):
    survey = make(workspace, "nps")
    response = lead_client(workspace).post(f"/surveys/{survey.pk}/edit/", editor_form(workspace, survey, **{"questions-0-kind": "text"}))
    assert response.status_code == 400
    assert ("an NPS survey starts with its NPS question: question 1 must stay an NPS question."
            in response.content.decode())


def test_locked_survey_shows_why_offers_duplicate_and_still_saves_texts(workspace, satisfaction):
    with tenant_context(workspace):
        ResponseFactory(survey=Survey.objects.get(pk=satisfaction.pk))
    client = lead_client(workspace)
    page = client.get(f"/surveys/{satisfaction.pk}/edit/").content.decode()
    assert "Questions locked" in page and LOCKED_MESSAGE in page
    assert "Duplicate to change the questions" in page
    assert 'name="questions-0-text"' not in page and "Add a question" not in page
    assert "<strong>How easy was it to get the help you needed?</strong>" in page
    # Texts only: saved; a forged question change: ignored (the formset is not even read).
    data = editor_form(workspace, satisfaction, name="Renamed", **{"questions-0-text": "Changed?"})
    assert client.post(f"/surveys/{satisfaction.pk}/edit/", data).status_code == 302
    with tenant_context(workspace):
        survey = Survey.objects.get()
    assert (survey.name, survey.version) == ("Renamed", 1)
    assert questions_of(workspace, satisfaction)[0][3] == "Overall, how satisfied are you with our support?"


def test_a_response_arriving_while_editing_saves_nothing_and_keeps_the_texts(workspace, satisfaction, monkeypatch):
    from surveys.views import authoring

    # The page was opened (and is posted) before the response: the view still sees no response.
    monkeypatch.setattr(authoring.selectors, "survey_has_responses", lambda survey: False)
    with tenant_context(workspace):
        ResponseFactory(survey=Survey.objects.get(pk=satisfaction.pk))
    response = lead_client(workspace).post(f"/surveys/{satisfaction.pk}/edit/", editor_form(
        workspace, satisfaction, name="Typed name", **{"questions-0-text": "Changed?"}))
    page = response.content.decode()
    assert response.status_code == 400
    assert ("Nothing was saved: a response arrived while you were editing, so the questions are now locked. "
            "Save again to keep the texts below.") in page
    assert 'value="Typed name"' in page and LOCKED_MESSAGE in page and 'name="questions-0-text"' not in page
    with tenant_context(workspace):
        assert (Survey.objects.get().name, Survey.objects.get().version) == ("Customer satisfaction survey", 1)


def test_duplicate_and_close(workspace, satisfaction):
    client = lead_client(workspace)
    response = client.post(f"/surveys/{satisfaction.pk}/duplicate/")
    with tenant_context(workspace):
        copy = Survey.objects.exclude(pk=satisfaction.pk).get()
    assert response["Location"] == f"/surveys/{copy.pk}/edit/"
    assert copy.name == "Customer satisfaction survey (copy)"
    assert "a copy with no responses, whose questions you can change." in client.get(response["Location"]).content.decode()
    assert client.get(f"/surveys/{satisfaction.pk}/duplicate/").status_code == 405

    response = client.post(f"/surveys/{satisfaction.pk}/close/", {"next": f"/surveys/{satisfaction.pk}/edit/"})
    assert response["Location"] == f"/surveys/{satisfaction.pk}/edit/"
    page = client.get(response["Location"]).content.decode()
    assert "“Customer satisfaction survey” closed: it takes no new responses." in page and "Reopen survey" in page
    response = client.post(f"/surveys/{satisfaction.pk}/close/", {"next": "https://evil.example/"})
    assert response["Location"] == "/surveys/"
    with tenant_context(workspace):
        assert Survey.objects.get(pk=satisfaction.pk).is_open is True


# ---------------------------------------------------------------- preview

def test_preview_renders_the_public_form_with_the_branding(workspace, satisfaction):
    with tenant_context(workspace):
        SurveySettings.objects.update_or_create(pk=1, defaults={"brand_color": "#0a7b4f"})
    page = lead_client(workspace).get(f"/surveys/{satisfaction.pk}/preview/").content.decode()
    assert "This is the survey exactly as customers see it." in page and "Nothing you answer here is recorded." in page
    assert 'style="--brand: #0a7b4f;' in page  # the workspace colour, as on the public pages
    for text in ("Overall, how satisfied are you with our support?", "How easy was it to get the help you needed?",
                 "How did you contact us?", "What did we do well?", "How could we improve?", "Neither easy nor difficult"):
        assert text in page
    assert re.findall(r'name="q1" value="(\d+)"', page) == ["1", "2", "3", "4", "5"]


# ---------------------------------------------------------------- settings and logo

def settings_form(**overrides) -> dict:
    data = {"brand_color": "#4f46e5", "brand_color_text": "#4f46e5", "sender_name": "", "reply_to": "",
            "throttle_days": "30", "link_expiry_days": "28", "csat_trigger_survey": "",
            "csat_trigger_delay_minutes": "60"}
    data.update(overrides)
    return data


def test_settings_page_is_linked_from_the_settings_tabs(workspace):
    page = lead_client(workspace).get("/settings/surveys/").content.decode()
    assert '<a href="/settings/surveys/" aria-current="page">Surveys</a>' in page
    assert '<a href="/settings/" >Workspace</a>' in page
    assert '<a href="/settings/surveys/" >Surveys</a>' in lead_client(workspace).get("/settings/kpis/").content.decode()


def test_settings_save_colour_throttle_expiry_sender_and_trigger(workspace):
    csat = make(workspace, "csat", "After chat")
    make(workspace, "nps", "NPS")
    client = lead_client(workspace)
    page = client.get("/settings/surveys/").content.decode()
    assert re.findall(r'<option value="(\d*)"[^>]*>([^<]+)</option>', page) == [
        ("", "Off: no survey after resolved conversations"), (str(csat.pk), "After chat")]
    response = client.post("/settings/surveys/", settings_form(
        brand_color_text="#0A7B4F", sender_name="Acme Care", reply_to="care@acme.test", throttle_days="14",
        link_expiry_days="7", csat_trigger_survey=str(csat.pk), csat_trigger_delay_minutes="30"))
    assert response.status_code == 302 and response["Location"] == "/settings/surveys/"
    with tenant_context(workspace):
        saved = SurveySettings.objects.get()
    assert (saved.brand_color, saved.sender_name, saved.reply_to, saved.throttle_days, saved.link_expiry_days,
            saved.csat_trigger_survey_id, saved.csat_trigger_delay_minutes) == (
        "#0a7b4f", "Acme Care", "care@acme.test", 14, 7, csat.pk, 30)
    assert saved.csat_trigger_since is not None
    page = client.get("/settings/surveys/").content.decode()
    assert "Survey settings saved." in page and 'name="brand_color" value="#0a7b4f"' in page
    assert "conversations resolved from then on are surveyed." in page
    client.post(f"/surveys/{csat.pk}/close/")
    page = client.get("/settings/surveys/").content.decode()
    assert ("“After chat” is closed: nothing is sent after resolved conversations until it is reopened or another "
            "survey is chosen.") in page
    # Without scripts, the picker alone changed: it wins over the unchanged text.
    client.post(f"/surveys/{csat.pk}/close/")  # reopened
    client.post("/settings/surveys/", settings_form(brand_color="#112233", brand_color_text="#0a7b4f"))
    with tenant_context(workspace):
        assert SurveySettings.objects.get().brand_color == "#112233"


def test_settings_refusals_are_shown(workspace):
    response = lead_client(workspace).post("/settings/surveys/", settings_form(
        brand_color_text="blue", throttle_days="999", link_expiry_days="0"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved: fix the fields marked below." in page
    assert "Give the colour as # and six hexadecimal digits, e.g. #4f46e5." in page
    assert "The throttling window must be a whole number between 0 and 365." in page
    assert "Link expiry must be a whole number between 1 and 365." in page


def test_logo_upload_preview_public_serving_and_removal(workspace, other_workspace):
    client = lead_client(workspace)
    response = client.post("/settings/surveys/", {**settings_form(), "logo": SimpleUploadedFile("logo.gif", GIF)})
    assert response.status_code == 302
    with tenant_context(workspace):
        name = SurveySettings.objects.get().logo.name.rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{32}\.gif", name)
    page = client.get("/settings/surveys/").content.decode()
    assert f'<img src="/survey-logo/{name}" alt="Current logo" id="logo-current">' in page
    assert "Remove the logo" in page

    logo = host_client(workspace).get(f"/survey-logo/{name}")  # no sign-in
    assert logo.status_code == 200 and logo["Content-Type"] == "image/gif"
    assert logo["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(logo.streaming_content) == GIF
    assert logo["X-Content-Type-Options"] == "nosniff" and logo["Content-Length"] == str(len(GIF))
    assert host_client(workspace).head(f"/survey-logo/{name}").status_code == 200
    assert host_client(workspace).post(f"/survey-logo/{name}").status_code == 405
    assert host_client(workspace).get("/survey-logo/0123456789abcdef0123456789abcdef.gif").status_code == 404
    assert host_client(other_workspace).get(f"/survey-logo/{name}").status_code == 404

    client.post("/settings/surveys/", {**settings_form(), "logo_remove": "on"})
    assert host_client(workspace).get(f"/survey-logo/{name}").status_code == 404
    assert "No logo yet" in client.get("/settings/surveys/").content.decode()


def test_svg_logo_is_refused_on_the_page(workspace):
    response = lead_client(workspace).post("/settings/surveys/", {
        **settings_form(), "logo": SimpleUploadedFile("logo.png", SVG, content_type="image/png")})
    assert response.status_code == 400
    assert "The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted)." in response.content.decode()
    response = lead_client(workspace).post("/settings/surveys/", {
        **settings_form(), "logo": SimpleUploadedFile("big.png", PNG + b"\x00" * 1_100_000)})
    assert "The logo is 1,075 KB; the limit is 1 MB (1,024 KB)." in response.content.decode()


def test_no_logo_is_a_404(workspace):
    assert host_client(workspace).get("/survey-logo/anything.png").status_code == 404
