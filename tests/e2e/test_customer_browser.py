"""The one-customer view in a real browser (issue #12): from a conversation row of the data
browser to the customer's page, its charts painted under the strict CSP; then the search by
email from the menu. Screenshots."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from ingestion.models import Event
from tests.e2e.helpers import live_base, sign_in
from tests.ingestion.factories import ConversationFactory, CustomerFactory, RevenueFactory, SurveyResponseFactory
from tests.surveys.factories import ResponseFactory, survey_make

pytestmark = [pytest.mark.e2e]

CANVAS_PAINTED = """(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) return true; }
  return false;
}"""


def _story(workspace):
    now = timezone.now()
    with tenant_context(workspace):
        CustomerFactory(external_id="eu/42 ß", name="Renée Dupont", email="renee@example.test", plan="pro",
                        country="FR", signed_up_at=now - timedelta(days=400))
        month = date(now.year - 1, now.month, 1)
        for n in range(12):
            RevenueFactory(customer_external_id="eu/42 ß", month=month, mrr=Decimal(49 + 10 * (n // 4)))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        for n in range(6):
            created = now - timedelta(days=60 - 9 * n, hours=3)
            ConversationFactory(external_id=f"conv-{n}", customer_external_id="eu/42 ß", channel=["email", "chat"][n % 2],
                                agent="Ann", created_at=created, first_response_at=created + timedelta(minutes=20),
                                resolved_at=None if n == 5 else created + timedelta(hours=2 + n),
                                abandoned=n == 2, subject=f"Question {n}")
        for n in range(40):
            Event.objects.create(external_id=f"ev-{n}", user_external_id="eu/42 ß", name=["login", "export"][n % 2],
                                 occurred_at=now - timedelta(days=2 * n, hours=1))
        SurveyResponseFactory(external_id="nps-1", customer_external_id="eu/42 ß", score=4,
                              responded_at=now - timedelta(days=200), comment="Support was slow")
        SurveyResponseFactory(external_id="nps-2", customer_external_id="eu/42 ß", score=8,
                              responded_at=now - timedelta(days=110))
        survey = survey_make("nps", name="Quarterly NPS")
        ResponseFactory(survey=survey, customer_external_id="eu/42 ß", email="renee@example.test", score=10,
                        score_kind="nps", comment="The new exports are great", responded_at=now - timedelta(days=20))


def test_from_a_conversation_to_the_customer_and_back_by_search(committed_workspace, live_server, page, screenshot):
    workspace = committed_workspace("custview")
    _story(workspace)
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)
    page.goto(f"{base}/data/conversations/records/")
    row = page.locator(".records-table tbody tr", has_text="conv-5")
    row.get_by_role("link", name="eu/42 ß").click()

    page.get_by_role("heading", name="Renée Dupont", level=1).wait_for()
    assert page.url == f"{base}/customers/eu/42%20%C3%9F/"
    for heading in ("MRR history", "Conversations", "Survey answers", "NPS band over time", "Product activity"):
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    expect(page.locator(".current-mrr")).to_contain_text("69.00 EUR")
    expect(page.locator("#conversations .row-count")).to_contain_text("6 conversations")
    expect(page.locator(".band-timeline li")).to_have_count(3)
    expect(page.locator(".customer-facts").first).to_contain_text("promoter")
    # Every chart drawn by Chart.js: MRR, NPS scores, active days per week.
    page.wait_for_function("() => document.querySelectorAll('main canvas').length === 3")
    for section in ("#mrr", "#nps", "#activity"):
        page.wait_for_function(CANVAS_PAINTED, arg=f"{section} canvas")
    screenshot("customer-page")
    assert not [m for m in messages if "Content Security Policy" in m or m.startswith(("error", "pageerror"))], messages

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.get_by_role("heading", name="Customers", level=1).wait_for()
    expect(page.get_by_text("Search for a customer")).to_be_visible()
    page.get_by_label("Find a customer").fill("RENEE@EXAMPLE.TEST")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".row-count")).to_have_text("1 customer matches")
    screenshot("customer-search")
    page.get_by_role("link", name="eu/42 ß").click()
    page.get_by_role("heading", name="Renée Dupont", level=1).wait_for()
