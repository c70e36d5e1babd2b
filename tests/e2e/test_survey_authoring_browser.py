"""Survey authoring in a real browser (Debian's Chromium via Playwright) against a live
server: a team lead creates a survey from the 5-question template, edits a question, adds
one, saves, previews it; then the survey settings with a logo. Screenshots of the list,
the editor and the preview (and the editor on a phone, without JavaScript)."""
import re
import struct
import zlib

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from surveys.models import Question, Survey
from tests.e2e.helpers import live_base, sign_in

pytestmark = [pytest.mark.e2e]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real (displayable) PNG of one colour."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture
def umbrella(committed_workspace, live_server):
    workspace = committed_workspace("umbrella")
    workspace.base = live_base(live_server, workspace)
    return workspace


def test_team_lead_authors_and_previews_a_survey(umbrella, page, screenshot):
    sign_in(page, umbrella.base, umbrella.lead.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    page.get_by_role("heading", name="Surveys", level=1).wait_for()
    page.get_by_role("link", name="Create your first survey").click()

    page.get_by_role("heading", name="New survey", level=1).wait_for()
    page.get_by_label("Satisfaction survey (5 questions)").check()
    page.get_by_label("Survey name").fill("Support check-in")
    page.get_by_role("button", name="Create survey").click()
    page.get_by_text("“Support check-in” created from the template.").wait_for()
    page.wait_for_load_state()

    # Edit question 3 (single choice), add a sixth one (multiple choice), save.
    third = page.get_by_role("group", name=re.compile(r"^Question 3"))
    third.get_by_label("Question", exact=True).fill("Which channel did you use?")
    third.get_by_label("Options").fill("Email\nChat\nPhone\nWhatsApp")
    page.get_by_role("button", name="+ Add a question").click()
    sixth = page.get_by_role("group", name=re.compile(r"^Question 6"))
    sixth.wait_for()
    page.wait_for_load_state()
    # The new row's question box has the focus (autofocus: applied at the page's next
    # rendering, which may come after the load event).
    page.wait_for_function("() => document.activeElement.name === 'questions-5-text'")
    # Typed before "add" and kept, not yet saved.
    expect(page.get_by_role("group", name=re.compile(r"^Question 3")).get_by_label(
        "Question", exact=True)).to_have_value("Which channel did you use?")
    sixth.get_by_label("Question", exact=True).fill("Which features do you use?")
    sixth.get_by_label("Kind").select_option("multiple")
    # The options box appears for a kind that has options (progressive script).
    sixth.get_by_label("Options").fill("Reports\nAlerts\nAPI")
    sixth.get_by_label("Required").check()
    assert sixth.get_by_label("Options").is_visible()
    # Move it above "How could we improve?" (progressive script; it renumbers the positions).
    sixth.get_by_role("button", name="Move up").click()
    fifth = page.get_by_role("group", name=re.compile(r"^Question 5"))
    expect(fifth.get_by_label("Question", exact=True)).to_have_value("Which features do you use?")
    expect(fifth.get_by_label("Position")).to_have_value("5")
    page.get_by_role("button", name="Save survey").click()
    page.get_by_text("Survey saved. Its questions changed: this is version 2.").wait_for()
    screenshot("survey-edit")

    with tenant_context(umbrella):
        survey = Survey.objects.get()
        questions = list(Question.objects.filter(survey=survey).values_list("key", "kind", "text", "required", "choices"))
    assert (survey.name, survey.version) == ("Support check-in", 2)
    assert questions[2] == ("q3", "single", "Which channel did you use?", False, ["Email", "Chat", "Phone", "WhatsApp"])
    assert questions[4] == ("q6", "multiple", "Which features do you use?", True, ["Reports", "Alerts", "API"])
    assert questions[5] == ("q5", "text", "How could we improve?", False, [])
    # A free-text question's options box stays hidden (the deferred script hides it).
    expect(page.get_by_role("group", name=re.compile(r"^Question 6")).get_by_label("Options")).to_be_hidden()

    page.get_by_role("navigation", name="Survey pages").get_by_role("link", name="Preview").click()
    page.get_by_text("This is the survey exactly as customers see it.").wait_for()
    preview = page.locator(".survey-preview")
    for text in ("Overall, how satisfied are you with our support?", "Which channel did you use?",
                 "Which features do you use?", "WhatsApp"):
        preview.get_by_text(text).first.wait_for(state="visible")
    screenshot("survey-preview")
    page.get_by_label("a phone").check()
    inner = page.locator(".survey-preview-frame").evaluate("e => e.clientWidth - parseFloat(getComputedStyle(e).paddingLeft)"
                             " - parseFloat(getComputedStyle(e).paddingRight)")
    assert inner == 390
    screenshot("survey-preview-phone")

    page.get_by_role("link", name="Surveys", exact=True).first.click()
    page.get_by_role("heading", name="Surveys", level=1).wait_for()
    row = page.get_by_role("row", name=re.compile("Support check-in"))
    expect(row).to_contain_text("version 2", use_inner_text=True)
    screenshot("survey-list")


def test_survey_settings_with_a_logo(umbrella, page, screenshot, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(160, 48, (10, 123, 79)))
    sign_in(page, umbrella.base, umbrella.lead.email)
    page.goto(f"{umbrella.base}/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Surveys").click()
    page.get_by_role("heading", name="Survey settings", level=1).wait_for()
    page.wait_for_load_state()  # the deferred script is running
    page.get_by_label("Brand colour (hex)").fill("#0a7b4f")
    # The picker follows the text (progressive script).
    expect(page.get_by_label("Brand colour picker")).to_have_value("#0a7b4f")
    page.get_by_label("Logo").set_input_files(str(logo))
    page.get_by_label("Links expire after (days)").fill("14")
    page.get_by_role("button", name="Save survey settings").click()
    page.get_by_text("Survey settings saved.").wait_for()
    expect(page.get_by_label("Links expire after (days)")).to_have_value("14")
    src = page.get_by_role("img", name="Current logo").get_attribute("src")
    assert re.fullmatch(r"/survey-logo/[0-9a-f]{32}\.png", src)
    # The browser could load and decode it from the public logo URL. decode() waits for the
    # image (the page can report its text before the image request has finished) and
    # rejects when it cannot be decoded, which reads as 0 here.
    width = page.get_by_role("img", name="Current logo").evaluate(
        "img => img.decode().then(() => img.naturalWidth, () => 0)")
    assert width == 160
    screenshot("survey-settings")


def test_editor_on_a_phone_without_javascript(umbrella, browser, screenshot):
    with tenant_context(umbrella):
        from surveys.services.authoring import survey_create_from_template

        survey = survey_create_from_template(template="nps", name="Phone NPS")
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    phone = context.new_page()
    try:
        sign_in(phone, umbrella.base, umbrella.lead.email)
        phone.goto(f"{umbrella.base}/surveys/{survey.pk}/edit/")
        phone.get_by_role("button", name="+ Add a question").click()
        sixth = phone.get_by_role("group", name=re.compile(r"^Question 3"))
        sixth.get_by_label("Question", exact=True).fill("Anything else?")
        phone.get_by_role("button", name="Save survey").click()
        phone.get_by_text("Survey saved. Its questions changed: this is version 2.").wait_for()
        phone.wait_for_load_state()  # the whole page laid out with its styles, not a part of it
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the editor scrolls sideways on a phone ({width}px)"
        screenshot("survey-edit-phone", target=phone)
    finally:
        context.close()
    with tenant_context(umbrella):
        assert list(Question.objects.filter(survey=survey).values_list("key", "text")) == [
            ("q1", "How likely are you to recommend us to a friend or colleague?"),
            ("q2", "What is the main reason for your score?"), ("q3", "Anything else?")]
