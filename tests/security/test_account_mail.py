"""Issue #15, "Account takeover through the Outbox": an agent asked for the team lead's
password reset, read it in the shared Outbox and set the lead's password; pending
team-lead invitations could be read and accepted the same way.

Account emails now reach their recipient only (never stored in the Outbox), and the
Outbox — survey and digest mail only — is the team lead's page. These tests try exactly
the attack, as an agent and as a viewer, through the real forms, tasks and backend."""
import importlib
import re

import pytest
from django.apps import apps
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django_tenants.utils import tenant_context

from surveys.models import OutboxEmail
from surveys.services.invitations import campaign_create
from surveys.services.sending import invitations_send_due
from tenants.accounts.models import Invitation, Role
from tests.factories import PASSWORD, UserFactory
from tests.helpers import host_client
from tests.surveys.factories import InvitationFactory, survey_make

RESET = re.compile(r"/password/reset/[^/\s\"<]+/[^/\s\"<]+/")
INVITE = re.compile(r"/invitations/[0-9]+-[0-9a-f]+/")


def _outbox_urls(workspace) -> list[str]:
    """The Outbox page and the detail and frame URL of every row stored in this
    workspace, plus a few ids past the last one."""
    with tenant_context(workspace):
        ids = list(OutboxEmail.objects.values_list("pk", flat=True))
    connection.set_schema_to_public()
    ids = sorted({*ids, *range(1, max(ids, default=0) + 4)})
    return ["/outbox/", "/outbox/?page=2", *[url for pk in ids for url in (f"/outbox/{pk}/", f"/outbox/{pk}/html")]]


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_an_agent_or_viewer_cannot_read_the_leads_reset_or_a_lead_invitation(
        workspace, make_member, outbox_only, eager_tasks, role):
    member = host_client(workspace, make_member(role))
    lead = host_client(workspace, workspace.lead)
    with tenant_context(workspace):
        # A survey email, so the Outbox has a real row to try.
        survey = survey_make("nps", name="Loop NPS")
        campaign_create(survey=survey, recipients=[{"email": "customer@x.test", "name": "Cus"}])
        assert invitations_send_due() == 1
    connection.set_schema_to_public()

    # The attack: the member asks for the lead's reset (the form is public), and the lead
    # invites another team lead.
    with eager_tasks(execute=True):
        assert member.post("/password/forgot/", {"email": "lead@acme.test"}).status_code == 302
        assert lead.post("/settings/team/", {"email": "second-lead@acme.test", "role": Role.TEAM_LEAD}).status_code == 302

    # Both went to their recipient's mailbox (the account-mail backend), nowhere else.
    assert sorted((m.to, m.subject) for m in mail.outbox) == [
        (["lead@acme.test"], "Reset your Pulse password for Acme"),
        (["second-lead@acme.test"], "You're invited to Acme on Pulse")]
    reset = next(m for m in mail.outbox if m.to == ["lead@acme.test"])
    invite = next(m for m in mail.outbox if m.to == ["second-lead@acme.test"])
    reset_path, invite_path = RESET.search(reset.body).group(0), INVITE.search(invite.body).group(0)
    secrets = [reset_path, reset_path.split("/")[-2], invite_path, invite_path.split("/")[-2]]
    with tenant_context(workspace):
        assert list(OutboxEmail.objects.values_list("category", "to")) == [("survey", "Cus <customer@x.test>")]
        [survey_email] = OutboxEmail.objects.all()
    connection.set_schema_to_public()

    urls = _outbox_urls(workspace)
    assert f"/outbox/{survey_email.pk}/html" in urls
    for url in urls:
        response = member.get(url)
        body = response.content.decode()
        assert response.status_code == 403, url
        assert "It needs the <strong>team lead</strong> role." in body, url
        assert not [s for s in secrets if s in body], url
    # Nor is the Outbox offered in the menu of the survey pages.
    if role == Role.AGENT:
        surveys_page = member.get("/surveys/").content.decode()
        assert 'href="/outbox/"' not in surveys_page

    # The team lead's Outbox lists the survey email only, and no page of it holds a secret.
    listing = lead.get("/outbox/").content.decode()
    assert f'<a href="/outbox/{survey_email.pk}/">How likely are you to recommend Acme?</a>' in listing
    assert "Reset your Pulse password" not in listing and "You&#x27;re invited" not in listing
    for url in urls:
        response = lead.get(url)
        assert response.status_code in (200, 404), url
        assert not [s for s in secrets if s in response.content.decode()], url

    # The links work for their recipients only, and the lead's password is unchanged.
    assert host_client(workspace).get(invite_path).status_code == 200
    signed_in = host_client(workspace).post("/sign-in/", {"username": "lead@acme.test", "password": PASSWORD})
    assert signed_in.status_code == 302


def test_an_account_email_stored_before_the_fix_is_shown_to_nobody(workspace, make_member):
    """Rows are filtered by category on every Outbox page as well (defence in depth)."""
    with tenant_context(workspace):
        leaked = OutboxEmail.objects.create(category="account", to="lead@acme.test", from_email="f@x.test",
                                            subject="Reset your Pulse password for Acme", text="/password/reset/MQ/x-y/",
                                            html="<a href='/password/reset/MQ/x-y/'>reset</a>")
    lead = host_client(workspace, workspace.lead)
    assert "Reset your Pulse password" not in lead.get("/outbox/").content.decode()
    assert lead.get(f"/outbox/{leaked.pk}/").status_code == 404
    assert lead.get(f"/outbox/{leaked.pk}/html").status_code == 404


def test_the_backend_keeps_survey_mail_only_and_sends_the_rest_to_its_recipient(workspace, outbox_only):
    """An uncategorised message counts as private (fail closed), like an account email."""
    messages = []
    for category in ("survey", "digest", "account", None):
        message = EmailMultiAlternatives(subject=f"about {category}", body="b", from_email="f@x.test", to=[f"{category}@x.test"])
        if category:
            message.pulse_category = category
        messages.append(message)
    with tenant_context(workspace):
        with get_connection() as backend:
            assert backend.send_messages(messages) == 4
        assert sorted(OutboxEmail.objects.values_list("category", "to")) == [("digest", "digest@x.test"),
                                                                            ("survey", "survey@x.test")]
    assert [m.to for m in mail.outbox] == [["account@x.test"], ["None@x.test"]]


def test_the_migration_deletes_the_account_emails_kept_before(workspace):
    migration = importlib.import_module("surveys.migrations.0003_outboxemail_category")
    with tenant_context(workspace):
        survey = survey_make("nps")
        invitation = InvitationFactory(survey=survey, email="c@x.test")
        common = dict(category="", from_email="f@x.test", text="t")
        with_invitation = OutboxEmail.objects.create(to="c@x.test", subject="NPS", invitation=invitation, **common)
        # The survey email of an invitation since deleted: its List-Unsubscribe remains.
        orphan = OutboxEmail.objects.create(to="d@x.test", subject="NPS", headers={"List-Unsubscribe": "<u>"}, **common)
        OutboxEmail.objects.create(to="lead@acme.test", subject="Reset your Pulse password for Acme", **common)
        OutboxEmail.objects.create(to="new@acme.test", subject="You're invited to Acme on Pulse", **common)
        migration.outbox_categorise(apps, None)
        assert sorted(OutboxEmail.objects.values_list("pk", "category")) == [(with_invitation.pk, "survey"),
                                                                             (orphan.pk, "survey")]


@pytest.mark.worker
def test_through_the_worker_the_reset_reaches_the_lead_only(committed_workspace, celery_worker, smtp_server):
    workspace = committed_workspace("takeover")
    with tenant_context(workspace):
        agent_user = UserFactory(role=Role.AGENT)
    agent = host_client(workspace, agent_user)
    assert agent.post("/password/forgot/", {"email": "lead@takeover.test"}).status_code == 302
    [message] = smtp_server.wait_for(lambda m: m["To"] == "lead@takeover.test" and "Reset your Pulse" in m["Subject"])
    reset_path = RESET.search(smtp_server.text_of(message)).group(0)
    # The worker's Outbox backend delivered it and kept nothing.
    with tenant_context(workspace):
        assert OutboxEmail.objects.count() == 0
        assert Invitation.objects.count() == 0
    connection.set_schema_to_public()
    for url in _outbox_urls(workspace):
        response = agent.get(url)
        assert response.status_code == 403 and reset_path not in response.content.decode(), url
    lead_outbox = host_client(workspace, workspace.lead).get("/outbox/").content.decode()
    assert "No email sent yet" in lead_outbox and reset_path not in lead_outbox
