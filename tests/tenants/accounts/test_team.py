import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tenants.accounts.models import Invitation, Role, User
from tenants.accounts.selectors import invitation_token, invitation_from_token
from tenants.accounts.services import invitation_create
from tests.factories import PASSWORD
from tests.helpers import host_client


def invite(workspace, email="new@acme.test", role=Role.AGENT):
    with tenant_context(workspace):
        invitation = invitation_create(email=email, role=role, invited_by=workspace.lead)
        token = invitation_token(invitation)
    connection.set_schema_to_public()
    return invitation, token


def test_team_lead_invites_from_the_team_page(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post("/settings/team/", {"email": "New@Acme.test", "role": Role.VIEWER})
    assert response.status_code == 302
    with tenant_context(workspace):
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.role, invitation.invited_by, invitation.status) == (
            "new@acme.test", Role.VIEWER, workspace.lead, "pending")
    page = client.get("/settings/team/").content.decode()
    assert "new@acme.test" in page


def test_inviting_a_member_is_refused_with_a_message(workspace):
    response = host_client(workspace, workspace.lead).post("/settings/team/", {"email": "lead@acme.test", "role": Role.AGENT})
    assert response.status_code == 400
    assert "lead@acme.test is already a member of this workspace." in response.content.decode()
    with tenant_context(workspace):
        assert not Invitation.objects.exists()


def test_inviting_again_renews_the_link_and_the_old_one_stops_working(workspace):
    first, old_token = invite(workspace)
    second, new_token = invite(workspace, role=Role.VIEWER)
    assert first.pk == second.pk and old_token != new_token
    with tenant_context(workspace):
        assert invitation_from_token(old_token) is None
        assert invitation_from_token(new_token).role == Role.VIEWER


def test_accepting_an_invitation_creates_the_member_with_the_role_and_signs_in(workspace):
    _, token = invite(workspace, role=Role.AGENT)
    client = host_client(workspace)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200 and "as <strong>agent</strong>" in page.content.decode()
    weak = client.post(f"/invitations/{token}/", {"full_name": "Nia New", "password": "123"})
    assert weak.status_code == 400 and "This password is too short" in weak.content.decode()
    response = client.post(f"/invitations/{token}/", {"full_name": "Nia New", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    with tenant_context(workspace):
        member = User.objects.get(email="new@acme.test")
        assert (member.full_name, member.role) == ("Nia New", Role.AGENT)
        assert Invitation.objects.get().status == "accepted"
    # The link is single-use.
    assert host_client(workspace).get(f"/invitations/{token}/").status_code == 404


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), lambda t: "999-" + t.split("-")[1], lambda t: "x"])
def test_tampered_or_unknowninvitation_tokens_get_a_friendly_404(workspace, mangle):
    _, token = invite(workspace)
    response = host_client(workspace).get(f"/invitations/{mangle(token)}/")
    assert response.status_code == 404
    assert "This invitation link doesn't work" in response.content.decode()


def testinvitation_token_of_workspace_a_is_useless_at_b(workspace, other_workspace):
    _, token = invite(workspace)
    assert host_client(other_workspace).get(f"/invitations/{token}/").status_code == 404


def test_revoked_invitation_no_longer_opens(workspace):
    invitation, token = invite(workspace)
    host_client(workspace, workspace.lead).post(f"/settings/team/invitations/{invitation.pk}/revoke/")
    assert host_client(workspace).get(f"/invitations/{token}/").status_code == 404


def test_team_lead_changes_a_role_and_deactivates_a_member(workspace, make_member):
    agent = make_member(Role.AGENT)
    client = host_client(workspace, workspace.lead)
    client.post(f"/settings/team/{agent.pk}/role/", {"role": Role.VIEWER})
    client.post(f"/settings/team/{agent.pk}/active/", {"active": "0"})
    with tenant_context(workspace):
        agent.refresh_from_db()
        assert (agent.role, agent.is_active) == (Role.VIEWER, False)
    client.post(f"/settings/team/{agent.pk}/active/", {"active": "1"})
    with tenant_context(workspace):
        agent.refresh_from_db()
        assert agent.is_active


def test_the_last_team_lead_cannot_be_demoted_or_deactivated(workspace):
    client = host_client(workspace, workspace.lead)
    response = client.post(f"/settings/team/{workspace.lead.pk}/role/", {"role": Role.VIEWER}, follow=True)
    assert "A workspace needs at least one active team lead" in response.content.decode()
    client.post(f"/settings/team/{workspace.lead.pk}/active/", {"active": "0"})
    with tenant_context(workspace):
        workspace.lead.refresh_from_db()
        assert (workspace.lead.role, workspace.lead.is_active) == (Role.TEAM_LEAD, True)


def test_a_team_lead_can_step_down_when_another_lead_exists(workspace, make_member):
    make_member(Role.TEAM_LEAD)
    host_client(workspace, workspace.lead).post(f"/settings/team/{workspace.lead.pk}/role/", {"role": Role.AGENT})
    with tenant_context(workspace):
        workspace.lead.refresh_from_db()
        assert workspace.lead.role == Role.AGENT


def test_unknown_role_is_refused(workspace, make_member):
    agent = make_member(Role.AGENT)
    response = host_client(workspace, workspace.lead).post(f"/settings/team/{agent.pk}/role/", {"role": "owner"}, follow=True)
    assert "Choose one of the listed roles." in response.content.decode()
    with tenant_context(workspace):
        agent.refresh_from_db()
        assert agent.role == Role.AGENT
