"""Sending a survey in a real browser (Debian's Chromium via Playwright) against a live
server: the Send page, the confirmation listing who is invited and who is refused, the
campaign page, the Outbox with the email rendered in its sandboxed frame, a score button
that opens the survey in the window, and the one-click unsubscribe page."""
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from surveys.models import Invitation, OutboxEmail, Suppression
from surveys.services.sending import invitations_send_due
from tests.surveys.factories import InvitationFactory, survey_make
from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def acme(committed_workspace, live_server, settings, monkeypatch):
    workspace = committed_workspace("acme")
    port = live_server.url.rsplit(":", 1)[1]
    workspace.base = f"http://acme.localhost:{port}"
    # Mail is kept in the Outbox only (its links name port 8000; the Outbox shows them
    # with the live server's address).
    settings.EMAIL_BACKEND = "surveys.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = None
    # The test sends in this process rather than in a worker that a previous test may
    # have left running (its emails would not be kept in this test's Outbox).
    monkeypatch.setattr("surveys.services.invitations.invitations_send_later", lambda: None)
    monkeypatch.setattr("surveys.services.sending.invitations_send_later", lambda: None)
    return workspace


def test_send_check_confirm_read_in_the_outbox_and_unsubscribe(acme, page, screenshot):
    with tenant_context(acme):
        survey = survey_make("nps", name="Quarterly NPS")
        InvitationFactory(email="recent@example.test")
    connection.set_schema_to_public()
    sign_in(page, acme.base, acme.lead.email)

    page.goto(f"{acme.base}/surveys/{survey.pk}/send/")
    page.get_by_label("A pasted list of addresses").check()
    page.get_by_label("Addresses", exact=True).fill("Ada Lovelace <ada@example.test>\nbob@example.test, Bob Stone\n"
                                        "recent@example.test\nnot-an-address")
    page.get_by_label("Campaign name").fill("Autumn check-in")
    screenshot("survey-send-form")
    page.get_by_role("button", name="Check the recipients").click()
    page.get_by_role("heading", name="Confirm: 2 will be invited, 2 refused").wait_for()
    refused = page.get_by_role("region", name=re.compile("^Refused"))
    expect(refused).to_contain_text("not a valid email address", use_inner_text=True)
    expect(refused).to_contain_text("within the 30-day window", use_inner_text=True)
    screenshot("survey-send-confirm")
    page.get_by_role("button", name="Send to 2 people").click()
    page.get_by_role("heading", name="Autumn check-in").wait_for()
    expect(page.locator("main")).to_contain_text("2 invitations will be emailed now; 2 refused.", use_inner_text=True)
    screenshot("survey-campaign")

    with tenant_context(acme):
        assert invitations_send_due() == 2  # the worker's job, run here
        ada = Invitation.objects.get(email="ada@example.test")
        email = OutboxEmail.objects.get(invitation=ada)
    connection.set_schema_to_public()

    page.goto(f"{acme.base}/outbox/")
    page.get_by_role("link", name="How likely are you to recommend Acme?").first.wait_for()
    screenshot("survey-outbox")
    page.goto(f"{acme.base}/outbox/{email.pk}/")
    frame = page.frame_locator("iframe[title='The email, rendered']")
    frame.get_by_role("link", name="9", exact=True).wait_for()
    screenshot("survey-outbox-email")
    # She reads it an hour after delivery, as a person does (answers within the scanner
    # window of delivery are held for review).
    with tenant_context(acme):
        Invitation.objects.filter(pk=ada.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    connection.set_schema_to_public()
    # A score button opens the survey in the window (not inside the frame).
    frame.get_by_role("link", name="9", exact=True).click()
    # The score is preselected, the button sends it (a GET never answers: scanners fetch
    # every link).
    page.wait_for_url(f"{acme.base}/s/{ada.token}?score=9")
    page.get_by_text("You chose 9.").wait_for()
    page.wait_for_timeout(1600)
    page.get_by_role("button", name="Confirm my score").click()
    page.get_by_role("heading", name="Your answers are saved").wait_for()

    page.goto(f"{acme.base}/outbox/{email.pk}/")
    # The frame is rendered anew: wait for the whole email, as above, before clicking in it.
    frame.get_by_role("link", name="9", exact=True).wait_for()
    frame.get_by_role("link", name="Unsubscribe").click()
    page.wait_for_url(f"{acme.base}/u/{ada.token}")
    # The link asks (a scanner's fetch unsubscribes nobody); the button unsubscribes.
    page.get_by_role("heading", name="Unsubscribe from Acme's surveys?").wait_for()
    screenshot("survey-unsubscribe-confirm")
    page.wait_for_timeout(1600)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    screenshot("survey-unsubscribed")
    with tenant_context(acme):
        assert list(Suppression.objects.values_list("email", "reason")) == [("ada@example.test", "unsubscribed")]
        # She had clicked a score first: the invitation stays answered, the address suppressed.
        assert Invitation.objects.get(pk=ada.pk).status == "responded"
    connection.set_schema_to_public()

    page.goto(f"{acme.base}/surveys/suppressions/")
    page.get_by_role("button", name="Remove…").click()
    page.get_by_role("heading", name="Remove ada@example.test from the list?").wait_for()
    screenshot("survey-suppression-remove")
    page.get_by_role("button", name="Remove from the list").click()
    page.get_by_text("ada@example.test was removed: later surveys may be emailed to it.").wait_for()
