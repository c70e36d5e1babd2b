"""The whole survey loop in a real browser (Debian's Chromium via Playwright) against a live
server and a real Celery worker that emails through a real SMTP server: a team lead
authors an NPS survey, sends it to a pasted address, opens the email in the Outbox, clicks
a score inside it, answers the follow-up question, and reads the response on the results
page. Screenshots of the email, the survey page and the results page."""
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from surveys.models import Invitation, Response, Survey
from tests.helpers import wait_until
from tests.e2e.helpers import live_base, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


@pytest.fixture
def initech(committed_workspace, celery_worker, live_server):
    workspace = committed_workspace("initech")
    workspace.base = live_base(live_server, workspace)
    return workspace


def test_author_send_answer_and_read_the_response(initech, page, screenshot, smtp_server):
    sign_in(page, initech.base, initech.lead.email)

    # Author: an NPS survey from its template.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    page.get_by_role("link", name="Create your first survey").click()
    page.get_by_label("Net Promoter Score (NPS)").check()
    page.get_by_label("Survey name").fill("Loop NPS")
    page.get_by_role("button", name="Create survey").click()
    page.get_by_text("“Loop NPS” created from the template.").wait_for()

    # Send it to one pasted address, after the confirmation of who gets it.
    page.get_by_role("navigation", name="Survey pages").get_by_role("link", name="Send").click()
    page.get_by_label("A pasted list of addresses").check()
    page.get_by_label("Addresses", exact=True).fill("Casey Customer <casey@example.test>")
    page.get_by_role("button", name="Check the recipients").click()
    page.get_by_role("heading", name="Confirm: 1 will be invited, 0 refused").wait_for()
    page.get_by_role("button", name="Send to 1 person").click()
    # On the campaign's page before leaving it (a click while the form is still posting
    # would race with it).
    page.wait_for_url(re.compile(r".*/surveys/\d+/campaigns/\d+/$"))

    with tenant_context(initech):
        survey = Survey.objects.get(name="Loop NPS")
        wait_until(lambda: Invitation.objects.filter(survey=survey, status="sent").exists(), timeout=90)
        invitation = Invitation.objects.get(survey=survey)
    (received,) = smtp_server.wait_for(lambda m: "casey@example.test" in str(m["To"])
                                       and invitation.token in smtp_server.text_of(m))

    # The Outbox shows the email as sent, score buttons inside.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    page.get_by_role("navigation", name="Survey section").get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name=re.compile(re.escape(received["Subject"]))).first.click()
    email = page.frame_locator("iframe[title='The email, rendered']")
    nine = email.get_by_role("link", name="9", exact=True)
    nine.wait_for()
    screenshot("survey-loop-email")
    href = nine.get_attribute("href")
    assert re.fullmatch(rf"http://initech\.localhost:\d+/s/{re.escape(invitation.token)}\?score=9", href)

    # One click records the score (the worker's emails name the configured port; this
    # test's server listens on another one).
    # She reads it an hour after delivery (answers within the scanner window are held).
    with tenant_context(initech):
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    connection.set_schema_to_public()
    page.goto(re.sub(r"^http://[^/]+", initech.base, href))
    page.get_by_text("You chose 9.").wait_for()
    expect(page.locator("#q1-9")).to_be_checked()
    page.get_by_label("What is the main reason for your score?").fill("Quick, friendly answers.")
    screenshot("survey-loop-answer")
    page.wait_for_timeout(1600)
    page.get_by_role("button", name="Confirm my score").click()
    page.get_by_role("heading", name="Your answers are saved").wait_for()

    # The team lead reads it.
    page.goto(f"{initech.base}/surveys/{survey.pk}/")
    page.get_by_role("heading", name="Loop NPS", level=1).wait_for()
    expect(page.locator("#rate-title + .kpi-value")).to_have_text("100.0%", use_inner_text=True)
    expect(page.locator("#score-title + .kpi-value")).to_have_text("100", use_inner_text=True)
    expect(page.locator(".comment-list").first).to_contain_text("Quick, friendly answers.", use_inner_text=True)
    screenshot("survey-loop-results")
    page.get_by_role("navigation", name="Survey pages").get_by_role("link", name="Responses").click()
    page.wait_for_url(f"{initech.base}/surveys/{survey.pk}/responses/")
    row = page.get_by_role("row", name=re.compile("Quick, friendly answers."))
    expect(row).to_contain_text("casey@example.test", use_inner_text=True)
    with tenant_context(initech):
        invitation.refresh_from_db()
        assert invitation.status == "responded"
        assert Response.objects.get(invitation=invitation).completed_at is not None
