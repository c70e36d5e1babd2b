"""Survey authoring services: templates, question rules and their messages, stable keys,
versions, locking, duplicate, close/reopen, and the survey settings (logo by magic bytes)."""
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from surveys.catalog import TEMPLATES
from surveys.models import Question, Survey, SurveySettings
from surveys.services.authoring import LOCKED_MESSAGE, QuestionsInvalid, SurveyLocked, survey_close, survey_create, survey_create_from_template, survey_duplicate, survey_questions_replace, survey_reopen, survey_update
from surveys.services.survey_settings import logo_sniff, survey_settings_update
from tests.surveys.factories import ResponseFactory, survey_make
from tests.surveys.helpers import GIF, JPEG, PNG, SVG, WEBP


@pytest.fixture
def ws(workspace):
    with tenant_context(workspace):
        yield workspace


def specs(survey: Survey) -> list[tuple]:
    return [(q.position, q.key, q.kind, q.text, q.help_text, q.required, q.choices)
            for q in Question.objects.filter(survey=survey).order_by("position")]


def current(survey: Survey) -> list[dict]:
    return [{"key": q.key, "kind": q.kind, "text": q.text, "help_text": q.help_text, "required": q.required,
             "choices": q.choices} for q in survey.questions.order_by("position")]


def refusal(survey, questions) -> QuestionsInvalid:
    with pytest.raises(QuestionsInvalid) as caught:
        survey_questions_replace(survey=survey, questions=questions)
    return caught.value


# ---------------------------------------------------------------- templates

def test_catalog_offers_the_five_templates():
    assert list(TEMPLATES) == ["nps", "csat", "satisfaction", "helpfulness", "blank"]
    assert [t.kind for t in TEMPLATES.values()] == ["nps", "csat", "custom", "custom", "custom"]


def test_nps_template(ws):
    survey = survey_create_from_template(template="nps", name="", created_by=ws.lead)
    assert (survey.kind, survey.name, survey.version, survey.is_open, survey.created_by) == (
        "nps", "Net Promoter Score", 1, True, ws.lead)
    assert (survey.email_subject, survey.thank_you) == ("How likely are you to recommend us?",
                                                         "Thank you! Your answer helps us improve.")
    assert specs(survey) == [
        (1, "q1", "nps", "How likely are you to recommend us to a friend or colleague?", "", True,
         ["Not at all likely", "Extremely likely"]),
        (2, "q2", "text", "What is the main reason for your score?", "", False, []),
    ]


def test_csat_template(ws):
    survey = survey_create_from_template(template="csat", name="After chat", created_by=None)
    assert (survey.kind, survey.name) == ("csat", "After chat")
    assert specs(survey) == [
        (1, "q1", "csat", "How would you rate your overall satisfaction with the support you received?", "", True,
         ["Very unsatisfied", "Very satisfied"]),
        (2, "q2", "text", "Anything you would like to tell us?", "", False, []),
    ]


def test_five_question_satisfaction_template(ws):
    survey = survey_create_from_template(template="satisfaction", name="")
    assert (survey.kind, survey.name) == ("custom", "Customer satisfaction survey")
    assert specs(survey) == [
        (1, "q1", "csat", "Overall, how satisfied are you with our support?", "", True,
         ["Very unsatisfied", "Very satisfied"]),
        (2, "q2", "rating", "How easy was it to get the help you needed?", "", True,
         ["Very difficult", "Difficult", "Neither easy nor difficult", "Easy", "Very easy"]),
        (3, "q3", "single", "How did you contact us?", "", False, ["Email", "Chat", "Phone", "Social media", "Other"]),
        (4, "q4", "multiple", "What did we do well?", "", False,
         ["Quick response", "Friendly", "Knowledgeable", "Solved my problem", "Kept me informed"]),
        (5, "q5", "text", "How could we improve?", "", False, []),
    ]


def test_helpfulness_template_scores_one_for_the_worst(ws):
    survey = survey_create_from_template(template="helpfulness", name="")
    first = survey.questions.get(key="q1")
    assert (first.kind, first.required, first.score_range) == ("rating", True, (1, 5))
    assert first.choices == ["Not at all helpful", "Slightly helpful", "Moderately helpful", "Very helpful",
                             "Extremely helpful"]
    assert specs(survey)[1] == (2, "q2", "text", "What could we have done better?", "", False, [])


def test_blank_template_and_unknown_template(ws):
    survey = survey_create_from_template(template="blank", name="Onboarding")
    assert (survey.kind, survey.name, specs(survey)) == (
        "custom", "Onboarding", [(1, "q1", "text", "What would you like to tell us?", "", False, [])])
    with pytest.raises(ValidationError) as caught:
        survey_create_from_template(template="nope", name="x")
    assert caught.value.message_dict == {"template": ["Choose a template among nps, csat, satisfaction, helpfulness, blank."]}


# ---------------------------------------------------------------- question rules

def test_question_count_messages(ws):
    survey = survey_make("custom", questions=[{"kind": "text", "text": "Hi?"}])
    assert refusal(survey, []).messages == ["Give the survey at least one question."]
    eleven = [{"kind": "text", "text": f"Q{n}?"} for n in range(11)]
    assert refusal(survey, eleven).messages == ["A survey has at most 10 questions (got 11)."]


def test_every_question_message(ws):
    survey = survey_make("custom", questions=[{"kind": "text", "text": "Hi?"}])
    error = refusal(survey, [
        {"kind": "bogus", "text": "A?"},
        {"kind": "text", "text": "   "},
        {"kind": "text", "text": "x" * 501, "help_text": "h" * 301},
        {"kind": "single", "text": "One?", "choices": ["Only"]},
        {"kind": "multiple", "text": "Many?", "choices": [f"o{n}" for n in range(21)]},
        {"kind": "single", "text": "Blank?", "choices": ["a", "", "b"]},
        {"kind": "multiple", "text": "Twice?", "choices": ["Email", "Chat", "email"]},
        {"kind": "rating", "text": "Rate?", "choices": ["Bad"]},
        {"kind": "rating", "text": "Long?", "choices": [f"l{n}" for n in range(12)]},
        {"kind": "single", "text": "Long option?", "choices": ["ok", "y" * 201]},
    ])
    assert error.messages == [
        "Question 1: choose a kind among nps, csat, rating, single, multiple, text.",
        "Question 2: write the question.",
        "Question 3: the question is 501 characters long; the limit is 500.",
        "Question 3: the help text is 301 characters long; the limit is 300.",
        "Question 4: give at least 2 options, one per line.",
        "Question 5: give at most 20 options (got 21).",
        "Question 6: option 2 is empty.",
        "Question 7: “email” is listed twice.",
        "Question 8: give at least 2 labels, one per point of the scale, the worst first.",
        "Question 9: give at most 11 labels (got 12).",
        "Question 10: option 2 is longer than 200 characters.",
    ]
    assert error.by_question[0] == {"kind": ["choose a kind among nps, csat, rating, single, multiple, text."]}
    assert error.by_question[2] == {"text": ["the question is 501 characters long; the limit is 500."],
                                    "help_text": ["the help text is 301 characters long; the limit is 300."]}
    assert error.by_question[6] == {"choices": ["“email” is listed twice."]}
    assert specs(survey) == [(1, "q1", "text", "Hi?", "", False, [])]


def test_score_questions_labels_and_at_most_one_of_each(ws):
    survey = survey_make("custom", questions=[{"kind": "text", "text": "Hi?"}])
    error = refusal(survey, [
        {"kind": "nps", "text": "Recommend?", "choices": ["Low"]},
        {"kind": "csat", "text": "Satisfied?"},
        {"kind": "nps", "text": "Recommend again?"},
        {"kind": "csat", "text": "Satisfied again?"},
    ])
    assert error.messages == [
        "Question 1: give two labels, for the lowest and the highest score, or none for the defaults "
        "(Not at all likely / Extremely likely).",
        "Question 3: a survey has at most one NPS question (question 1 is one).",
        "Question 4: a survey has at most one CSAT question (question 2 is one).",
    ]
    # One of each is fine; empty labels take the defaults; a text question drops its options.
    survey_questions_replace(survey=survey, questions=[
        {"kind": "nps", "text": "Recommend?"}, {"kind": "csat", "text": "Satisfied?", "choices": ["Meh", "Yay"]},
        {"kind": "text", "text": "Why?", "choices": ["left over"]}])
    assert [q[2:] for q in specs(survey)] == [
        ("nps", "Recommend?", "", False, ["Not at all likely", "Extremely likely"]),
        ("csat", "Satisfied?", "", False, ["Meh", "Yay"]),
        ("text", "Why?", "", False, []),
    ]


def test_nps_and_csat_surveys_keep_their_first_question(ws):
    nps = survey_make("nps")
    assert refusal(nps, [{"kind": "text", "text": "Why?"}]).messages == [
        "Question 1: an NPS survey starts with its NPS question: question 1 must stay an NPS question."]
    assert refusal(nps, [{**current(nps)[0], "required": False}]).messages == [
        "Question 1: the NPS question of an NPS survey is always required."]
    csat = survey_make("csat")
    assert refusal(csat, list(reversed(current(csat)))).messages == [
        "Question 1: a CSAT survey starts with its CSAT question: question 1 must stay a CSAT question."]
    assert refusal(csat, [{**current(csat)[0], "required": False}]).messages == [
        "Question 1: the CSAT question of a CSAT survey is always required."]


def test_keys_are_stable_and_new_questions_take_the_next_free_key(ws):
    survey = survey_create_from_template(template="satisfaction", name="")
    q1, q2, q3, q4, q5 = current(survey)
    changed = survey_questions_replace(survey=survey, questions=[
        q1, {**q4, "text": "What went well?"}, {"kind": "text", "text": "Anything else?"}, q2])
    assert changed is True and survey.version == 2
    assert [(p, k, kind, text) for p, k, kind, text, *_ in specs(survey)] == [
        (1, "q1", "csat", "Overall, how satisfied are you with our support?"),
        (2, "q4", "multiple", "What went well?"),
        # q5 was just removed and q3 too: the new question takes neither key.
        (3, "q6", "text", "Anything else?"),
        (4, "q2", "rating", "How easy was it to get the help you needed?"),
    ]


def test_question_rows_keep_their_ids_when_kept(ws):
    survey = survey_make("nps")
    ids = {q.key: q.pk for q in survey.questions.all()}
    survey_questions_replace(survey=survey, questions=[current(survey)[0], {"kind": "text", "text": "Why not 10?"}])
    assert {q.key: q.pk for q in survey.questions.all()}["q1"] == ids["q1"]
    assert sorted(q.key for q in survey.questions.all()) == ["q1", "q3"]


def test_unknown_and_repeated_keys(ws):
    survey = survey_make("nps")
    q1, q2 = current(survey)
    assert refusal(survey, [q1, {**q2, "key": "q9"}]).messages == [
        "Question 2: q9 is not a question of this survey (leave the key out for a new question)."]
    assert refusal(survey, [q1, q1]).messages == [
        "Question 2: q1 is the key of question 1 too: each question appears once.",
        "Question 2: a survey has at most one NPS question (question 1 is one).",
    ]


def test_saving_the_same_questions_changes_nothing(ws):
    survey = survey_make("nps")
    assert survey_questions_replace(survey=survey, questions=current(survey)) is False
    survey.refresh_from_db()
    assert survey.version == 1


def test_every_change_bumps_the_version(ws):
    survey = survey_make("nps")
    q1, q2 = current(survey)
    survey_questions_replace(survey=survey, questions=[q1, {**q2, "required": True}])
    survey_questions_replace(survey=survey, questions=[q1, {**q2, "required": True, "help_text": "Be honest."}])
    survey.refresh_from_db()
    assert survey.version == 3


# ---------------------------------------------------------------- locking

def test_a_survey_with_a_response_has_locked_questions(ws):
    survey = survey_make("nps")
    ResponseFactory(survey=survey)
    q1, q2 = current(survey)
    for questions in ([q1, {**q2, "text": "Why, really?"}], [q1], [q1, q2, {"kind": "text", "text": "More?"}],
                      [q1, {**q2, "required": True}], [{**q1, "choices": ["No", "Yes"]}, q2], [q2, q1],
                      [q1, {**q2, "kind": "single"}]):
        with pytest.raises(SurveyLocked) as caught:
            survey_questions_replace(survey=survey, questions=questions)
        assert caught.value.messages == [LOCKED_MESSAGE]
    assert LOCKED_MESSAGE == (
        "This survey has responses, so its questions are locked: changing them would change what those answers "
        "mean. Duplicate the survey to change its questions (the copy starts with no responses). The name, intro, "
        "thank-you and email texts can still be edited.")
    survey.refresh_from_db()
    assert survey.version == 1 and [q["text"] for q in current(survey)] == [q1["text"], q2["text"]]
    # The same questions are not a change: saving the texts of a locked survey works.
    survey_update(survey=survey, name="Renamed", intro="New intro", questions=[q1, q2])
    survey.refresh_from_db()
    assert (survey.name, survey.intro, survey.version) == ("Renamed", "New intro", 1)


def test_texts_are_checked(ws):
    survey = survey_make("nps", name="Before")
    with pytest.raises(ValidationError) as caught:
        survey_update(survey=survey, name="  ", email_subject="a\nb", intro="i" * 5001)
    assert caught.value.message_dict == {
        "name": ["Give the survey a name."], "email_subject": ["The email subject is one line."],
        "intro": ["The intro is 5001 characters long; the limit is 5000."]}
    with pytest.raises(ValidationError) as caught:
        survey_update(survey=survey, name="n" * 201, email_subject="s" * 201)
    assert caught.value.message_dict == {
        "name": ["The name is 201 characters long; the limit is 200."],
        "email_subject": ["The email subject is 201 characters long; the limit is 200."]}
    survey.refresh_from_db()
    assert survey.name == "Before"


def test_texts_and_questions_are_saved_all_or_nothing(ws):
    survey = survey_make("nps", name="Before")
    with pytest.raises(QuestionsInvalid):
        survey_update(survey=survey, name="After", questions=[{"kind": "text", "text": "Why?"}])
    survey.refresh_from_db()
    assert (survey.name, survey.version) == ("Before", 1)


def test_create_with_questions(ws):
    survey = survey_create(kind="custom", name="Onboarding", created_by=ws.lead, intro="Hello",
                           questions=[{"kind": "single", "text": "Plan?", "choices": ["Free", "Pro"], "required": True}])
    assert (survey.kind, survey.name, survey.intro) == ("custom", "Onboarding", "Hello")
    assert specs(survey) == [(1, "q1", "single", "Plan?", "", True, ["Free", "Pro"])]
    with pytest.raises(ValidationError) as caught:
        survey_create(kind="poll", name="x", questions=[{"kind": "text", "text": "a"}])
    assert caught.value.message_dict == {"kind": ["Choose a kind among nps, csat, custom."]}


# ---------------------------------------------------------------- duplicate, close

def test_duplicate_copies_texts_and_questions_with_no_responses(ws, make_member):
    survey = survey_create_from_template(template="satisfaction", name="Q3 survey")
    survey_questions_replace(survey=survey, questions=current(survey)[:3])
    ResponseFactory(survey=survey)
    survey_close(survey=survey)
    copy = survey_duplicate(survey=survey, created_by=ws.lead)
    assert (copy.name, copy.kind, copy.version, copy.is_open, copy.created_by) == (
        "Q3 survey (copy)", "custom", 1, True, ws.lead)
    assert (copy.intro, copy.email_subject) == (survey.intro, survey.email_subject)
    assert copy.public_id != survey.public_id
    assert specs(copy) == specs(survey)
    assert copy.responses.count() == 0
    # The copy's questions can change.
    survey_questions_replace(survey=copy, questions=current(copy)[:1])
    assert [q[1] for q in specs(copy)] == ["q1"]
    long = survey_make("nps", name="x" * 200)
    assert survey_duplicate(survey=long).name == "x" * 192 + "… (copy)"


def test_close_and_reopen(ws):
    survey = survey_make("nps")
    survey_close(survey=survey)
    closed_at = survey.closed_at
    assert survey.is_open is False and closed_at is not None
    survey_close(survey=survey)  # already closed: the moment it closed stays
    assert survey.closed_at == closed_at
    survey_reopen(survey=survey)
    assert survey.is_open is True and Survey.objects.get(pk=survey.pk).closed_at is None


# ---------------------------------------------------------------- settings

def upload(content: bytes, name="logo.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(("content", "extension"), [(PNG, "png"), (JPEG, "jpg"), (GIF, "gif"), (WEBP, "webp")])
def test_logo_is_recognised_by_its_first_bytes(content, extension):
    assert logo_sniff(content).extension == extension


def test_logo_upload_replace_and_remove(ws, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    # Declared as PNG, named .png, but a JPEG: stored as what it is.
    saved = survey_settings_update(logo=upload(JPEG))
    assert saved.logo.name.startswith("survey-logos/") and saved.logo.name.endswith(".jpg")
    assert len(saved.logo.name) == len("survey-logos/") + 32 + 4
    assert saved.logo.read() == JPEG
    survey_settings_update(logo=upload(PNG))
    assert SurveySettings.load().logo.name.endswith(".png")
    survey_settings_update(logo_remove=True)
    assert SurveySettings.load().logo.name == ""


@pytest.mark.parametrize("content", [SVG, b"GIF8", b"%PDF-1.7 ...", b""])
def test_logo_refuses_anything_but_png_jpeg_gif_webp(ws, content):
    with pytest.raises(ValidationError) as caught:
        survey_settings_update(logo=upload(content, name="logo.png"))
    assert caught.value.message_dict == {"logo": ["The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted)."]}
    assert SurveySettings.load().logo.name == ""


def test_logo_of_more_than_one_megabyte_is_refused(ws):
    with pytest.raises(ValidationError) as caught:
        survey_settings_update(logo=upload(PNG + b"\x00" * (1024 * 1024)))
    assert caught.value.message_dict == {"logo": ["The logo is 1,025 KB; the limit is 1 MB (1,024 KB)."]}


def test_settings_values_are_checked(ws):
    nps = survey_make("nps", name="Quarterly NPS")
    with pytest.raises(ValidationError) as caught:
        survey_settings_update(brand_color="red", throttle_days=400, link_expiry_days=0,
                               csat_trigger_delay_minutes=-1, sender_name="Acme\r\nBcc: x", reply_to="nope",
                               csat_trigger_survey=nps)
    assert caught.value.message_dict == {
        "brand_color": ["Give the colour as # and six hexadecimal digits, e.g. #4f46e5."],
        "throttle_days": ["The throttling window must be a whole number between 0 and 365."],
        "link_expiry_days": ["Link expiry must be a whole number between 1 and 365."],
        "csat_trigger_delay_minutes": ["The CSAT delay must be a whole number between 0 and 10080."],
        "sender_name": ["The sender name cannot contain line breaks, <, > or \"."],
        "reply_to": ["Give a valid email address for replies, or leave it empty."],
        "csat_trigger_survey": ["“Quarterly NPS” asks no CSAT question: choose a CSAT survey or a custom survey "
                                "with a CSAT question."],
    }
    settings = SurveySettings.load()
    assert (settings.brand_color, settings.throttle_days, settings.link_expiry_days) == ("#4f46e5", 30, 28)


def test_settings_are_saved(ws):
    saved = survey_settings_update(brand_color="#0A7B4F", throttle_days=0, link_expiry_days=7, sender_name=" Acme Care ",
                                   reply_to="Care@Acme.test", csat_trigger_delay_minutes=15)
    assert (saved.brand_color, saved.throttle_days, saved.link_expiry_days, saved.sender_name, saved.reply_to,
            saved.csat_trigger_delay_minutes) == ("#0a7b4f", 0, 7, "Acme Care", "care@acme.test", 15)


def test_csat_trigger_starts_counting_when_switched_on(ws):
    csat = survey_make("csat", name="After chat")
    custom = survey_create_from_template(template="satisfaction", name="Five")
    before = timezone.now()
    on = survey_settings_update(csat_trigger_survey=csat)
    since = on.csat_trigger_since
    assert on.csat_trigger_survey == csat and since >= before
    # Another survey while on: the trigger has been on all along.
    assert survey_settings_update(csat_trigger_survey=custom).csat_trigger_since == since
    off = survey_settings_update(csat_trigger_survey=None)
    assert (off.csat_trigger_survey, off.csat_trigger_since) == (None, None)
    survey_close(survey=csat)
    with pytest.raises(ValidationError) as caught:
        survey_settings_update(csat_trigger_survey=csat)
    assert caught.value.message_dict == {"csat_trigger_survey": ["“After chat” is closed: reopen it or choose another survey."]}


def test_remaining_messages(ws):
    survey = survey_make("custom", questions=[{"kind": "text", "text": "Hi?"}])
    assert refusal(survey, [{"kind": "csat", "text": "Happy?", "choices": ["Sad", "x" * 201]}]).messages == [
        "Question 1: a label is longer than 200 characters."]
    assert refusal(survey, [{"kind": "csat", "text": "Happy?", "choices": ["Sad", ""]}]).messages == [
        "Question 1: give two labels, for the lowest and the highest score, or none for the defaults "
        "(Very unsatisfied / Very satisfied)."]
    with pytest.raises(ValidationError) as caught:
        survey_update(survey=survey, thank_you="t" * 5001, email_intro="e" * 5002)
    assert caught.value.message_dict == {
        "thank_you": ["The thank-you text is 5001 characters long; the limit is 5000."],
        "email_intro": ["The email intro is 5002 characters long; the limit is 5000."]}
    with pytest.raises(ValidationError) as caught:
        survey_create(kind="custom", name="x", questions=[{"key": "q1", "kind": "text", "text": "a"}])
    assert caught.value.message_dict == {"questions": ["A new survey's questions have no keys yet: leave them out."]}
    with pytest.raises(ValidationError) as caught:
        survey_settings_update(sender_name="s" * 121)
    assert caught.value.message_dict == {"sender_name": ["The sender name is 121 characters long; the limit is 120."]}
    with pytest.raises(TypeError):
        survey_settings_update(colour="#000000")
    with pytest.raises(TypeError):
        survey_update(survey=survey, kind="nps")
