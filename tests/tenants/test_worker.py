"""Through a real Celery worker process, real Redis and a real SMTP server."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.accounts.models import Role
from tenants.accounts.tasks import sessions_clear_expired_task
from tenants.tasking import NoTenantContext, enqueue
from tenants.tasks import fan_out_task
from tests.factories import PASSWORD
from tests.helpers import host_client, wait_until

pytestmark = pytest.mark.worker


def _expired_session(workspace) -> str:
    with tenant_context(workspace):
        store = SessionStore()
        store["marker"] = workspace.slug
        store.create()
        Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - timedelta(days=1))
        return store.session_key


def _session_exists(workspace, key) -> bool:
    with tenant_context(workspace):
        return Session.objects.filter(pk=key).exists()


def test_a_task_enqueued_for_a_runs_in_a_schema_only(committed_workspace, celery_worker):
    a, b = committed_workspace("wsa"), committed_workspace("wsb")
    key_a, key_b = _expired_session(a), _expired_session(b)

    with tenant_context(a):
        enqueue(sessions_clear_expired_task)  # no transaction open: sent at once

    wait_until(lambda: not _session_exists(a, key_a))
    assert _session_exists(b, key_b)


def test_enqueueing_a_workspace_task_from_the_public_schema_is_refused(db):
    connection.set_schema_to_public()
    with pytest.raises(NoTenantContext, match="enqueue it inside a tenant context"):
        enqueue(sessions_clear_expired_task)


def test_beat_fan_out_runs_the_task_in_every_workspace(committed_workspace, celery_worker):
    a, b = committed_workspace("fan-a"), committed_workspace("fan-b")
    key_a, key_b = _expired_session(a), _expired_session(b)
    result = fan_out_task.apply_async(args=["accounts.sessions_clear_expired"], headers={"_schema_name": "public"})
    assert result.get(timeout=120) == 2
    wait_until(lambda: not _session_exists(a, key_a) and not _session_exists(b, key_b))


def test_password_reset_email_is_sent_by_the_worker_and_its_link_works(committed_workspace, celery_worker, smtp_server):
    workspace = committed_workspace("reset")
    client = host_client(workspace)
    assert client.post("/password/forgot/", {"email": "lead@reset.test"}).status_code == 302

    [message] = smtp_server.wait_for(lambda m: m["To"] == "lead@reset.test" and "Reset your Pulse password" in m["Subject"])
    assert message["Subject"] == "Reset your Pulse password for Reset"
    text = smtp_server.text_of(message)
    link = re.search(r"http://reset\.localhost:8000(/password/reset/[^\s]+)", text).group(1)
    assert message.get_body(preferencelist=("html",)) is not None

    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "brand-new-horse-4", "new_password2": "brand-new-horse-4"})
    assert done.status_code == 302
    signed_in = host_client(workspace).post("/sign-in/", {"username": "lead@reset.test", "password": "brand-new-horse-4"})
    assert signed_in.status_code == 302
    # The link is single-use: the password hash it was made for has changed.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_invitation_email_is_sent_by_the_worker_and_accepting_it_signs_in(committed_workspace, celery_worker, smtp_server):
    workspace = committed_workspace("invite")
    lead = host_client(workspace, workspace.lead)
    lead.post("/settings/team/", {"email": "viewer@invite.test", "role": Role.VIEWER})

    [message] = smtp_server.wait_for(lambda m: m["To"] == "viewer@invite.test")
    assert message["Subject"] == "You're invited to Invite on Pulse"
    with tenant_context(workspace):
        from tenants.accounts.models import Invitation

        expires = Invitation.objects.get().expires_at.astimezone(ZoneInfo("Europe/Paris"))
    # Dates in emails are in the workspace's time zone (Europe/Paris), like its pages.
    assert f"The link works until {expires:%Y-%m-%d %H:%M} {expires.tzname()}." in smtp_server.text_of(message)
    path = re.search(r"http://invite\.localhost:8000(/invitations/[^\s]+)", smtp_server.text_of(message)).group(1)
    invitee = host_client(workspace)
    response = invitee.post(path, {"full_name": "Vic Viewer", "password": PASSWORD})
    assert response.status_code == 302
    assert invitee.get("/settings/team/").status_code == 403  # a viewer
    assert invitee.get("/").status_code == 200


def test_long_tasks_go_to_the_long_queue_acked_late_and_emails_to_the_email_queue():
    from config.celery import app
    from tenants.accounts.tasks import invitation_send_email_task, password_reset_send_email_task

    router = app.amqp.router
    assert router.route({}, fan_out_task.name, task_type=fan_out_task)["queue"].name == "long"
    assert router.route({}, sessions_clear_expired_task.name, task_type=sessions_clear_expired_task)["queue"].name == "long"
    assert fan_out_task.acks_late and fan_out_task.reject_on_worker_lost and app.conf.worker_prefetch_multiplier == 1
    for task in (invitation_send_email_task, password_reset_send_email_task):
        assert router.route({}, task.name, task_type=task)["queue"].name == "email"
        assert not task.acks_late
