"""The Content-Security-Policy in a real browser (issue #15): Chromium refuses whatever the
policy forbids and says so on the console ("Refused to execute inline script…", "Refused to
load…") and with a securitypolicyviolation event. The pages that run scripts — the
dashboard and a KPI page (Chart.js and chartkick's inline script), Swagger UI and Redoc,
an Outbox email in its sandboxed frame, the new API key box — must work with nothing
refused."""
import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from surveys.models import OutboxEmail
from surveys.services.invitations import campaign_create
from surveys.services.sending import invitations_send_due
from tests.e2e.helpers import SCREENSHOTS, sign_in
from tests.surveys.factories import survey_make

pytestmark = [pytest.mark.e2e]

# Added to every document and frame by the browser itself (not subject to the page's
# policy): a violation is also written to the console, with what was blocked.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${event.documentURI}`);
});"""
# True when the canvas has at least one painted pixel.
CANVAS_PAINTED = """(canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) return true; }
  return false;
}"""


@pytest.fixture
def console(page):
    messages = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text} ({message.location['url']})"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.on("response", lambda response: response.status >= 400 and messages.append(f"http {response.status}: {response.url}"))
    return messages


@pytest.fixture
def outbox_email(globex, settings, monkeypatch):
    """A survey email of globex kept in its Outbox, sent the way the worker sends it."""
    settings.EMAIL_BACKEND = "surveys.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = None
    monkeypatch.setattr("surveys.services.invitations.invitations_send_later", lambda: None)
    with tenant_context(globex):
        survey = survey_make("nps", name="Quarterly NPS")
        campaign_create(survey=survey, recipients=[{"email": "ada@example.test", "name": "Ada Lovelace"}])
        assert invitations_send_due() == 1
        email = OutboxEmail.objects.get()
    connection.set_schema_to_public()
    return email


# Redoc always shows "API docs by Redocly" with an image from its CDN (no option turns it
# off); the policy blocks it, as it should (nothing is loaded from a CDN), and Redoc hides
# the image when it fails. That refusal, and only that one, is expected.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _refusals(messages: list[str]) -> list[str]:
    return [m for m in messages if (m.startswith(("error:", "pageerror:", "http ")) or "Content Security Policy" in m
                                    or "Refused to" in m) and REDOC_LOGO not in m]


def test_the_pages_that_run_scripts_work_under_the_policy(globex, outbox_email, page, console, screenshot):
    sign_in(page, globex.base, globex.lead.email)

    page.goto(f"{globex.base}/?period=month&date=2026-10-15")
    page.wait_for_function("() => document.querySelectorAll('.kpi-spark canvas').length > 0")
    sparkline = page.locator(".kpi-spark canvas").first
    page.wait_for_function(f"() => ({CANVAS_PAINTED})(document.querySelector('.kpi-spark canvas'))")
    assert sparkline.evaluate(CANVAS_PAINTED)
    screenshot("csp-dashboard")

    page.goto(f"{globex.base}/kpis/first_contact_resolution/?period=month&date=2026-10-15")
    page.get_by_role("heading", level=1, name="First contact resolution").wait_for()
    page.wait_for_function("() => document.querySelectorAll('canvas').length >= 2")
    page.wait_for_function(f"() => [...document.querySelectorAll('canvas')].every({CANVAS_PAINTED})")
    screenshot("csp-kpi-page")

    page.goto(f"{globex.base}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Pulse API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock").count() > 10
    screenshot("csp-swagger-ui")

    page.goto(f"{globex.base}/api/redoc/")
    expect(page.locator("redoc h1").first).to_contain_text("Pulse API")
    page.get_by_placeholder("Search...").fill("responses")  # the search runs in Redoc's worker
    expect(page.locator("[role=search] ~ * li, .search-results li").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "csp-redoc.png"))  # the viewport: the whole page is 37,000 px tall
    assert [m for m in console if REDOC_LOGO in m] == [
        f"error: Loading the image '{REDOC_LOGO}' violates the following Content Security Policy directive: "
        f"\"img-src 'self' data:\". The action has been blocked. ({globex.base}/api/redoc/)",
        f"error: CSP violation: img-src blocked {REDOC_LOGO} in {globex.base}/api/redoc/ ()"]

    page.goto(f"{globex.base}/outbox/{outbox_email.pk}/")
    frame = page.frame_locator("iframe[title='The email, rendered']")
    expect(frame.locator("body")).to_contain_text("How likely are you to recommend us to a friend or colleague?")
    frame.get_by_role("link", name="9", exact=True).wait_for()
    screenshot("csp-outbox-email")

    # The new API key is selected when its field gets the focus (static/js/select-on-focus.js,
    # formerly an onfocus attribute the policy would block).
    page.goto(f"{globex.base}/settings/api-keys/")
    page.get_by_label("Name").fill("CSP check")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key")
    key.focus()
    assert key.evaluate("(field) => [field.selectionStart, field.selectionEnd]") == [0, len(key.input_value())]

    assert _refusals(console) == []
