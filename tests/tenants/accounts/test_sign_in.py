from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.accounts.models import Role
from tests.factories import PASSWORD
from tests.helpers import host_client


def test_sign_in_and_out(workspace):
    client = host_client(workspace)
    response = client.post("/sign-in/", {"username": "LEAD@acme.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/sign-out/").status_code == 302
    assert client.get("/")["Location"] == "/sign-in/?next=/"


def test_wrong_password_gets_a_clear_message(workspace):
    response = host_client(workspace).post("/sign-in/", {"username": "lead@acme.test", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "do not match a member of this workspace" in response.content.decode()


def test_user_of_workspace_a_cannot_sign_in_at_workspace_b(workspace, other_workspace):
    response = host_client(other_workspace).post("/sign-in/", {"username": "lead@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "do not match a member of this workspace" in response.content.decode()
    assert "_auth_user_id" not in host_client(other_workspace).session


def test_session_cookie_of_a_gets_nothing_from_b(workspace, other_workspace):
    client_a = host_client(workspace)
    client_a.post("/sign-in/", {"username": "lead@acme.test", "password": PASSWORD})
    session_cookie = client_a.cookies["sessionid"].value
    assert client_a.get("/").status_code == 200

    client_b = Client(HTTP_HOST=other_workspace.domain_name)
    client_b.cookies["sessionid"] = session_cookie
    response = client_b.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    assert client_b.get("/settings/team/")["Location"].startswith("/sign-in/")


def test_deactivated_user_is_signed_out_and_cannot_sign_in(workspace, make_member):
    agent = make_member(Role.AGENT, email="agent@acme.test")
    client = host_client(workspace, agent)
    assert client.get("/").status_code == 200
    with tenant_context(workspace):
        agent.is_active = False
        agent.save()
    connection.set_schema_to_public()
    assert client.get("/")["Location"].startswith("/sign-in/")
    response = host_client(workspace).post("/sign-in/", {"username": "agent@acme.test", "password": PASSWORD})
    assert "_auth_user_id" not in response.wsgi_request.session


def test_repeated_failures_lock_the_email_for_a_while(workspace):
    client = host_client(workspace)
    for _ in range(10):
        client.post("/sign-in/", {"username": "lead@acme.test", "password": "wrong-wrong-wrong"})
    response = client.post("/sign-in/", {"username": "lead@acme.test", "password": PASSWORD})
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_change_password_keeps_this_session_and_requires_the_old_one(workspace):
    client = host_client(workspace, workspace.lead)
    bad = client.post("/account/password/", {"old_password": "wrong", "new_password1": "new-horse-battery-7",
                                             "new_password2": "new-horse-battery-7"})
    assert "Your old password was entered incorrectly" in bad.content.decode()
    ok = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "new-horse-battery-7",
                                            "new_password2": "new-horse-battery-7"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    with tenant_context(workspace):
        workspace.lead.refresh_from_db()
        assert workspace.lead.check_password("new-horse-battery-7")


def test_password_reset_page_says_the_same_for_unknown_emails(workspace):
    client = host_client(workspace)
    known = client.post("/password/forgot/", {"email": "lead@acme.test"})
    unknown = client.post("/password/forgot/", {"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password/forgot/sent/"
