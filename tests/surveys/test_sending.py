"""Sending invitations and reminders to a real SMTP server (aiosmtpd on localhost), in
this process: the sender's services run as the Celery task runs them."""
import re
import smtplib
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from surveys.models import Invitation, OutboxEmail, Suppression, SurveySettings
from surveys.services.invitations import campaign_create, suppression_add, unsubscribe
from surveys.services.sending import UNCERTAIN, invitations_expire, invitations_send_due
from tests.surveys.factories import ResponseFactory, survey_make

PARIS = zoneinfo.ZoneInfo("Europe/Paris")  # the test workspaces' time zone


@pytest.fixture
def smtp(settings, smtp_server):
    """Mail goes through the Outbox backend to the test SMTP server."""
    settings.EMAIL_BACKEND = "surveys.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_OUTBOX = True
    return smtp_server


def received(sink, domain):
    return [m for m in sink.messages if m["To"].addresses[0].domain == domain]


def html_of(message):
    return message.get_body(preferencelist=("html",)).get_content()


def test_campaign_send_html_and_text_with_score_buttons_and_unique_links(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps", email_subject="Tell us how we did")
        SurveySettings.objects.update_or_create(pk=1, defaults={"brand_color": "#112233", "sender_name": "Acme Support",
                                                                "reply_to": "help@acme.test"})
        campaign, invitations, refusals = campaign_create(
            survey=survey, recipients=[{"email": "Ada@Send1.test", "name": "Ada Lovelace"},
                                       {"email": "bob@send1.test", "name": ""}], reminder_days=3)
        assert refusals == [] and len(invitations) == 2
        assert invitations_send_due() == 2
        rows = {i.email: i for i in Invitation.objects.all()}
        assert set(rows) == {"ada@send1.test", "bob@send1.test"}
        for row in rows.values():
            assert row.status == "sent" and row.attempts == 0 and row.failure_reason == ""
            assert row.expires_at == row.sent_at + timedelta(days=28)
            assert row.reminder_at == row.scheduled_at + timedelta(days=3) and row.reminder_status == ""
        assert invitations_send_due() == 0  # nothing left: never twice
    messages = received(smtp, "send1.test")
    assert len(messages) == 2
    ada = next(m for m in messages if m["To"].addresses[0].username == "ada")
    token = rows["ada@send1.test"].token
    assert len(token) == 32
    assert ada["Subject"] == "Tell us how we did"
    assert str(ada["From"]) == "Acme Support <no-reply@pulse.localhost>"
    assert str(ada["Reply-To"]) == "help@acme.test"
    assert str(ada["To"]) == "Ada Lovelace <ada@send1.test>"
    assert ada["List-Unsubscribe"].strip() == f"<http://acme.localhost:8000/u/{token}>"
    assert ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ada["Message-ID"] == f"<survey-invitation.acme.{rows['ada@send1.test'].pk}@pulse.localhost>"
    html, text = html_of(ada), smtp.text_of(ada)
    links = re.findall(r'href="(http://acme\.localhost:8000/s/[^"]+)"', html)
    # The eleven score buttons, then the hidden scanner probe no person can see or reach.
    assert links == [f"http://acme.localhost:8000/s/{token}?score={n}" for n in range(11)] + [
        f"http://acme.localhost:8000/s/{token}/h"]
    assert re.search(rf'<a href="http://acme\.localhost:8000/s/{token}/h" tabindex="-1" aria-hidden="true" style="display:none;', html)
    assert "Click a score, then confirm it on the page that opens" in html
    assert f"/s/{token}/h" not in text
    assert "Not at all likely" in html and "Extremely likely" in html and "background:#112233" in html
    assert "Hi Ada Lovelace," in text and "How likely are you to recommend us to a friend or colleague?" in text
    assert f"10 (Extremely likely): http://acme.localhost:8000/s/{token}?score=10" in text
    assert f"0 (Not at all likely): http://acme.localhost:8000/s/{token}?score=0" in text
    assert f"Unsubscribe: http://acme.localhost:8000/u/{token}" in text
    expires = timezone.localtime(rows["ada@send1.test"].expires_at, PARIS).strftime("%-d %B %Y")
    assert f"works until {expires}" in text
    bob = next(m for m in messages if m["To"].addresses[0].username == "bob")
    assert "Hello," in smtp.text_of(bob)
    assert rows["bob@send1.test"].token not in html and rows["bob@send1.test"].token in html_of(bob)
    with tenant_context(workspace):
        kept = list(OutboxEmail.objects.order_by("id"))
        assert [(k.to, k.subject, k.invitation_id) for k in kept] == [
            ("Ada Lovelace <ada@send1.test>", "Tell us how we did", rows["ada@send1.test"].pk),
            ("bob@send1.test", "Tell us how we did", rows["bob@send1.test"].pk)]
        assert kept[0].html == html.replace("\r\n", "\n")  # SMTP sends CRLF line ends
        assert kept[0].headers["List-Unsubscribe"] == f"<http://acme.localhost:8000/u/{token}>"


def test_custom_survey_email_has_a_start_button(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("custom", questions=[{"kind": "text", "text": "What should we build next?"}])
        campaign_create(survey=survey, recipients=[{"email": "cy@send2.test"}])
        assert invitations_send_due() == 1
        token = Invitation.objects.get().token
    [message] = received(smtp, "send2.test")
    html = html_of(message)
    assert re.findall(r'href="(http://acme\.localhost:8000/s/[^"]+)"', html) == [
        f"http://acme.localhost:8000/s/{token}", f"http://acme.localhost:8000/s/{token}/h"]
    assert ">Start the survey</a>" in html
    assert message["Subject"] == "Acme would like your opinion"


def test_reminder_only_to_non_responders(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("csat")
        _, invitations, _ = campaign_create(survey=survey, reminder_days=3, recipients=[
            {"email": f"p{i}@remind.test"} for i in range(3)])
        assert invitations_send_due() == 3
        answered = Invitation.objects.get(email="p1@remind.test")
        ResponseFactory(survey=survey, invitation=answered, score=5, score_kind="csat")
        Invitation.objects.filter(pk=answered.pk).update(status="responded", responded_at=timezone.now())
        assert invitations_send_due() == 0  # not due yet
        Invitation.objects.update(reminder_at=timezone.now() - timedelta(minutes=1))
        assert invitations_send_due() == 2
        assert invitations_send_due() == 0
        state = {i.email: (i.status, i.reminder_status, i.reminded_at is not None) for i in Invitation.objects.all()}
    assert state == {"p0@remind.test": ("sent", "sent", True), "p1@remind.test": ("responded", "", False),
                     "p2@remind.test": ("sent", "sent", True)}
    messages = received(smtp, "remind.test")
    assert sorted((m["To"].addresses[0].username, m["Subject"]) for m in messages) == [
        ("p0", "How did we do? Rate your experience with Acme"),
        ("p0", "Reminder: How did we do? Rate your experience with Acme"),
        ("p1", "How did we do? Rate your experience with Acme"),
        ("p2", "How did we do? Rate your experience with Acme"),
        ("p2", "Reminder: How did we do? Rate your experience with Acme")]
    reminder = next(m for m in messages if m["Subject"].startswith("Reminder") and m["To"].addresses[0].username == "p0")
    assert "A quick reminder: we have not heard from you yet." in smtp.text_of(reminder)
    with tenant_context(workspace):
        p0 = Invitation.objects.get(email="p0@remind.test")
    assert reminder["Message-ID"] == f"<survey-reminder.acme.{p0.pk}@pulse.localhost>"


def test_unsubscribe_then_no_reminder_and_new_campaign_refuses(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, reminder_days=2, recipients=[{"email": "un@unsub.test"}, {"email": "stay@unsub.test"}])
        assert invitations_send_due() == 2
        invitation = Invitation.objects.get(email="un@unsub.test")
        assert unsubscribe(token=invitation.token).status == "unsubscribed"
        suppression = Suppression.objects.get()
        assert (suppression.email, suppression.reason, suppression.invitation_id) == ("un@unsub.test", "unsubscribed", invitation.pk)
        Invitation.objects.update(reminder_at=timezone.now() - timedelta(minutes=1))
        assert invitations_send_due() == 1
        # The suppression's day in Paris (not today's: the test may run across midnight).
        today = timezone.localdate(suppression.created_at, timezone=PARIS).isoformat()
        other = survey_make("csat")
        _, created, refused = campaign_create(survey=other, recipients=[{"email": "UN@unsub.test"}])
        assert created == [] and [(r.email, r.reason) for r in refused] == [("un@unsub.test", f"unsubscribed on {today}")]
    assert sorted((m["To"].addresses[0].username, m["Subject"][:9]) for m in received(smtp, "unsub.test")) == [
        ("stay", "How likel"), ("stay", "Reminder:"), ("un", "How likel")]


def test_suppressed_before_sending_is_not_sent(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "late@supp.test"}, {"email": "ok@supp.test"}],
                        scheduled_at=timezone.now() + timedelta(hours=1))
        suppression_add(email="LATE@supp.test", reason="manual")
        Invitation.objects.update(scheduled_at=timezone.now())
        assert invitations_send_due() == 1
        # The suppression's day in Paris (not today's: the test may run across midnight).
        today = timezone.localdate(Suppression.objects.get(email="late@supp.test").created_at, timezone=PARIS).isoformat()
        state = {i.email: (i.status, i.failure_reason) for i in Invitation.objects.all()}
    assert state == {"late@supp.test": ("failed", f"on the suppression list since {today} (added by a team lead)"),
                     "ok@supp.test": ("sent", "")}
    assert [m["To"].addresses[0].username for m in received(smtp, "supp.test")] == ["ok"]


def test_scheduled_send_waits_for_its_time(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps")
        later = timezone.now() + timedelta(hours=2)
        campaign, invitations, _ = campaign_create(survey=survey, recipients=[{"email": "wait@sched.test"}],
                                                   scheduled_at=later, reminder_days=None)
        assert campaign.scheduled_at == later and invitations[0].reminder_at is None
        assert invitations[0].expires_at == later + timedelta(days=28)
        assert invitations_send_due() == 0
        Invitation.objects.update(scheduled_at=timezone.now() - timedelta(seconds=1))
        assert invitations_send_due() == 1
    assert len(received(smtp, "sched.test")) == 1


def test_a_row_left_sending_is_failed_not_resent(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": f"s{i}@stuck.test"} for i in range(3)], reminder_days=1)
        Invitation.objects.filter(email="s0@stuck.test").update(status="sending")
        assert invitations_send_due() == 2
        Invitation.objects.filter(email="s1@stuck.test").update(reminder_status="sending")
        Invitation.objects.filter(email="s2@stuck.test").update(reminder_at=timezone.now())
        assert invitations_send_due() == 1
        state = {i.email: (i.status, i.reminder_status, i.failure_reason) for i in Invitation.objects.all()}
    assert state == {"s0@stuck.test": ("failed", "", UNCERTAIN),
                     "s1@stuck.test": ("sent", "failed", f"reminder {UNCERTAIN}"),
                     "s2@stuck.test": ("sent", "sent", "")}
    assert sorted(m["To"].addresses[0].username for m in received(smtp, "stuck.test")) == ["s1", "s2", "s2"]


def smtp_reply_to_rcpt(smtp, monkeypatch, prefix: str, reply: str) -> None:
    """The SMTP server answers ``reply`` to RCPT TO of addresses starting with ``prefix``
    and accepts the others."""
    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address.startswith(prefix):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    monkeypatch.setattr(smtp, "handle_RCPT", handle_RCPT, raising=False)


def test_recipient_refused_by_the_server_fails_with_its_reason(workspace, smtp, monkeypatch):
    smtp_reply_to_rcpt(smtp, monkeypatch, "nobody@", "550 5.1.1 No such user here")
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "nobody@refuse.test"}, {"email": "ok@refuse.test"}])
        assert invitations_send_due() == 1
        state = {i.email: (i.status, i.failure_reason) for i in Invitation.objects.all()}
        assert list(Suppression.objects.values_list("email", "reason")) == [("nobody@refuse.test", "bounced")]
    assert state == {"nobody@refuse.test": ("failed", "refused by the mail server: 550 5.1.1 No such user here"),
                     "ok@refuse.test": ("sent", "")}
    assert [m["To"].addresses[0].username for m in received(smtp, "refuse.test")] == ["ok"]


def test_try_later_puts_the_invitation_back_with_backoff_and_gives_up_after_five_attempts(workspace, smtp, monkeypatch):
    async def busy(server, session, envelope):
        return "451 4.3.0 Mailbox busy, try later"

    monkeypatch.setattr(smtp, "handle_DATA", busy, raising=False)
    reason = "the mail server said to try later: 451 4.3.0 Mailbox busy, try later"
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "x@busy.test"}])
        for attempt in range(1, 5):
            before = timezone.now()
            with pytest.raises(smtplib.SMTPDataError):
                invitations_send_due()
            invitation = Invitation.objects.get()
            assert (invitation.status, invitation.attempts, invitation.failure_reason) == ("scheduled", attempt, reason)
            delay = timedelta(minutes=5 * 2 ** (attempt - 1))
            assert before + delay <= invitation.scheduled_at <= timezone.now() + delay
            assert invitations_send_due() == 0  # not before its time
            Invitation.objects.update(scheduled_at=timezone.now())
        with pytest.raises(smtplib.SMTPDataError):
            invitations_send_due()
        invitation = Invitation.objects.get()
    assert (invitation.status, invitation.attempts, invitation.failure_reason) == (
        "failed", 5, f"gave up after 5 attempts; {reason}")


def test_greylisted_recipient_is_retried_later_and_the_batch_goes_on(workspace, smtp, monkeypatch):
    smtp_reply_to_rcpt(smtp, monkeypatch, "grey@", "450 4.2.1 Greylisted, come back later")
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "grey@grey.test"}, {"email": "ok@grey.test"}])
        assert invitations_send_due() == 1
        state = {i.email: (i.status, i.attempts, i.failure_reason) for i in Invitation.objects.all()}
    assert state == {"grey@grey.test": ("scheduled", 1, "the mail server said to try later: 450 4.2.1 Greylisted, come back later"),
                     "ok@grey.test": ("sent", 0, "")}


def test_unreachable_server_touches_no_invitation(workspace, settings, smtp):
    settings.EMAIL_PORT = 1  # nothing listens there
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "x@down.test"}])
        with pytest.raises(ConnectionRefusedError):
            invitations_send_due()  # the task retries it with backoff
        invitation = Invitation.objects.get()
    assert (invitation.status, invitation.attempts, invitation.failure_reason) == ("scheduled", 0, "")


def test_expiry(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": f"e{i}@expire.test"} for i in range(3)])
        assert invitations_send_due() == 3
        Invitation.objects.filter(email="e0@expire.test").update(expires_at=timezone.now() - timedelta(seconds=1))
        Invitation.objects.filter(email="e1@expire.test").update(
            status="responded", expires_at=timezone.now() - timedelta(seconds=1))
        Invitation.objects.update(reminder_at=timezone.now() + timedelta(days=1))
        assert invitations_expire() == 1
        assert sorted(Invitation.objects.values_list("email", "status", "reminder_status")) == [
            ("e0@expire.test", "expired", "skipped"), ("e1@expire.test", "responded", "skipped"),
            ("e2@expire.test", "sent", "")]
        assert invitations_expire() == 0


def test_closed_survey_invitations_wait_and_the_closed_survey_refuses(workspace, smtp):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "c@closed.test"}])
        survey.closed_at = timezone.now()
        survey.save()
        assert invitations_send_due() == 0
        assert Invitation.objects.get().status == "scheduled"
        _, created, refused = campaign_create(survey=survey, recipients=[{"email": "d@closed.test"}])
        assert created == [] and [(r.email, r.reason) for r in refused] == [("d@closed.test", "the survey is closed")]


def test_account_emails_never_land_in_the_outbox(workspace, outbox_only):
    """Issue #15: a reset kept in the shared Outbox let any agent take the lead's account.
    Without a mail server it goes to the account-mail fallback (locmem here) instead."""
    from django.core import mail

    from tenants.accounts.emails import password_reset_email_send

    with tenant_context(workspace):
        assert password_reset_email_send(user_id=workspace.lead.pk)
        assert OutboxEmail.objects.count() == 0
    [sent] = mail.outbox
    assert (sent.to, sent.subject) == (["lead@acme.test"], "Reset your Pulse password for Acme")
    assert "/password/reset/" in sent.body and sent.alternatives[0][0].startswith("<!doctype html>")
    connection.set_schema_to_public()


@pytest.mark.parametrize("intro, domain", [("Short intro.", "utf1.test"), ("A very long intro line. " * 50, "utf2.test")])
def test_non_ascii_names_and_long_lines(workspace, smtp, intro, domain):
    # A line over 998 characters makes the parts quoted-printable: the email is then
    # built by Django's classes instead of from the pre-built bytes; both read the same.
    with tenant_context(workspace):
        survey = survey_make("nps", email_intro=intro)
        from surveys.mail import invitation_email_prepare

        assert (invitation_email_prepare(survey=survey).raw is None) == (len(intro) > 998)  # which path is taken
        campaign_create(survey=survey, recipients=[{"email": f"jose@{domain}", "name": "José Núñez\nBcc: x@evil.test"}])
        assert invitations_send_due() == 1
        invitation = Invitation.objects.get()
    [message] = received(smtp, domain)
    assert str(message["To"]) == f'"José Núñez Bcc: x@evil.test" <jose@{domain}>'
    assert message["Bcc"] is None
    assert "Hi José Núñez Bcc: x@evil.test," in smtp.text_of(message)
    assert "Hi José Núñez Bcc: x@evil.test," in html_of(message)
    assert intro.strip() in smtp.text_of(message)
    assert message["Message-ID"] == f"<survey-invitation.acme.{invitation.pk}@pulse.localhost>"
    assert f"http://acme.localhost:8000/s/{invitation.token}?score=7" in html_of(message)
