"""Answering a survey in Chromium: the one-click score from the email on a phone, the rest
by keyboard only, the thank-you page, editing; the public link with JavaScript off."""
import re

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from surveys.models import Response
from tests.surveys.factories import InvitationFactory, survey_make

pytestmark = pytest.mark.e2e

ALL_KINDS = [
    {"kind": "csat", "text": "How satisfied are you with our support?", "required": True,
     "choices": ["Very unsatisfied", "Very satisfied"]},
    {"kind": "rating", "text": "How helpful was the answer?", "choices": ["Extremely helpful", "Very helpful",
                                                                          "Somewhat helpful", "Not at all helpful"]},
    {"kind": "single", "text": "Which plan are you on?", "choices": ["Free", "Pro", "Enterprise"], "required": True},
    {"kind": "multiple", "text": "Where did you contact us?", "choices": ["Email", "Chat", "Phone"],
     "help_text": "Think of the last month."},
    {"kind": "text", "text": "Anything else?"},
]


@pytest.fixture
def answering(committed_workspace):
    workspace = committed_workspace("answer", name="Acme Support")
    with tenant_context(workspace):
        nps = survey_make("nps", name="How are we doing?", intro="Two quick questions about your last conversation.",
                          thank_you="Thank you — every answer is read by our team.")
        invitation = InvitationFactory(survey=nps, email="ann@example.test")
        custom = survey_make("custom", questions=ALL_KINDS, name="Support survey", intro="Five short questions.")
    connection.set_schema_to_public()
    return workspace, invitation, custom


def _base(live_server, workspace) -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{workspace.slug}.localhost:{port}"


FOCUSED = "document.activeElement.id || document.activeElement.className"


def _focused(page) -> str:
    return page.evaluate(FOCUSED)


def expect_focused(page, expected: str) -> None:
    """The focused element's id (or class) becomes ``expected``. Focus can move with the
    page's next rendering (autofocus, a link to a fragment), after the action returned."""
    try:
        page.wait_for_function(f"expected => ({FOCUSED}) === expected", arg=expected)
    except PlaywrightTimeout:
        raise AssertionError(f"the focus is on {_focused(page)!r}, not {expected!r}") from None


def expect_true(page, expression: str) -> None:
    """``expression`` becomes true (it reads the focus, which may move after the action)."""
    try:
        page.wait_for_function(f"() => {expression}")  # a function: an expression would need eval, refused by the CSP
    except PlaywrightTimeout:
        raise AssertionError(f"still false: {expression}") from None


def test_score_from_the_email_then_the_rest_by_keyboard_on_a_phone(live_server, browser, screenshot, answering):
    workspace, invitation, _ = answering
    base = _base(live_server, workspace)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30000)

    page.goto(f"{base}/s/{invitation.token}?score=9")
    # The click preselects the score (a GET never answers: link scanners fetch every link);
    # the button confirms it.
    page.get_by_text("You chose 9.").wait_for()
    expect(page.locator("#q1-9")).to_be_checked()
    with tenant_context(workspace):
        assert not Response.objects.exists()
    connection.set_schema_to_public()
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("survey-answer-mobile", target=page)

    # Keyboard only: Tab reaches the checked score, arrows change it, Tab to the comment.
    page.keyboard.press("Tab")
    expect_focused(page, "q1-9")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#q1-8")).to_be_checked()
    screenshot("survey-answer-keyboard", target=page)  # the focus ring on the chosen score
    page.keyboard.press("Tab")
    expect_focused(page, "q2")
    page.keyboard.type("Quick and friendly.")
    page.keyboard.press("Tab")
    expect_true(page, "document.activeElement.textContent.trim() === 'Confirm my score'")
    page.wait_for_timeout(1600)  # a person reads the page for more than the 1.5 s minimum
    page.keyboard.press("Enter")

    page.wait_for_url(f"{base}/s/{invitation.token}/thanks")
    page.get_by_role("heading", name="Your answers are saved").wait_for()
    page.get_by_text("Thank you — every answer is read by our team.").wait_for()
    screenshot("survey-thanks", target=page)
    with tenant_context(workspace):
        response = Response.objects.get()
        assert (response.score, response.comment, response.completed_at is not None) == (8, "Quick and friendly.", True)
    connection.set_schema_to_public()

    # Back to change the answers, still by keyboard.
    page.get_by_role("link", name="Change my answers").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/s/{invitation.token}")
    page.get_by_text("You can change your answers until").wait_for()
    expect(page.locator("#q2")).to_have_value("Quick and friendly.")
    page.locator("#q2").focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Quick, friendly, and it worked.")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#q1-10")).to_be_checked()
    page.wait_for_timeout(1600)  # faster than 1.5 s after the page and it asks to press again
    page.locator("button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/s/{invitation.token}/thanks")
    with tenant_context(workspace):
        assert Response.objects.values_list("score", "comment", "followup").get() == (10, "Quick, friendly, and it worked.", "")
    context.close()


def test_every_question_kind_with_errors_on_a_desktop(live_server, page, screenshot, answering):
    workspace, _, survey = answering
    base = _base(live_server, workspace)
    page.goto(f"{base}/p/{survey.public_id}?channel=chat&agent=Bo")
    page.get_by_role("heading", name="Support survey").wait_for()
    page.get_by_role("button", name="Send my answers").click()

    # The error summary is focused (autofocus: no script needed) and links to each question.
    page.get_by_role("alert").get_by_text("Please check your answers").wait_for()
    # Autofocus applies at the page's next rendering, maybe after the text is found.
    expect_true(page, "document.activeElement.classList.contains('error-summary')")
    expect(page.get_by_role("alert").get_by_role("link")).to_have_text([
        "How satisfied are you with our support? — Answer this question.",
        "Which plan are you on? — Answer this question."], use_inner_text=True)
    assert page.locator("#q1-0").get_attribute("aria-describedby") == "q1-error"
    screenshot("survey-answer", target=page)

    page.get_by_role("alert").get_by_role("link").first.click()
    expect_focused(page, "q1-0")  # the fragment's target is focused at the next rendering
    page.get_by_text("4", exact=True).first.click()
    page.get_by_text("Very helpful", exact=True).click()
    page.get_by_text("Enterprise").click()
    page.get_by_text("Chat", exact=True).click()
    page.get_by_text("Phone", exact=True).click()
    page.get_by_label("Anything else?").fill("All good")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url(f"{base}/p/{survey.public_id}/thanks")
    with tenant_context(workspace):
        response = Response.objects.get()
        answers = {a.question.key: (a.score, a.choices, a.text) for a in response.answers.select_related("question")}
        assert (response.channel, response.agent, response.score, response.score_kind) == ("chat", "Bo", 4, "csat")
        assert answers == {"q1": (4, [], ""), "q2": (2, [], ""), "q3": (None, ["Enterprise"], ""),
                           "q4": (None, ["Chat", "Phone"], ""), "q5": (None, [], "All good")}
    connection.set_schema_to_public()

    page.goto(f"{base}/s/{'x' * 32}")
    page.get_by_role("heading", name="This survey link does not work").wait_for()
    screenshot("survey-unavailable", target=page)


def test_the_public_link_works_without_javascript(live_server, browser, answering):
    workspace, _, survey = answering
    base = _base(live_server, workspace)
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto(f"{base}/p/{survey.public_id}?channel=web")
    page.locator("label[for=q1-1]").click()
    page.locator("label[for=q3-0]").click()
    page.get_by_label("Anything else?").fill("No script needed")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url(f"{base}/p/{survey.public_id}/thanks")
    page.get_by_role("link", name="Change my answers").click()
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/p/{survey.public_id}(\?.*)?$"))
    expect(page.locator("#q1-1")).to_be_checked()
    expect(page.get_by_text("You have answered this survey.")).to_be_visible()
    page.locator("label[for=q1-4]").click()
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_url(f"{base}/p/{survey.public_id}/thanks")
    with tenant_context(workspace):
        assert list(Response.objects.values_list("score", "channel", "comment")) == [(5, "web", "No script needed")]
    context.close()

