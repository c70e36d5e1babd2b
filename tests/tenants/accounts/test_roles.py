import pytest

from tenants.accounts.models import Role
from tests.helpers import host_client

TEAM_LEAD_PAGES = ["/settings/", "/settings/team/", "/settings/api-keys/"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
@pytest.mark.parametrize("path", TEAM_LEAD_PAGES)
def test_non_leads_get_403_on_team_lead_pages_with_the_reason(workspace, make_member, role, path):
    member = make_member(role)
    response = host_client(workspace, member).get(path)
    assert response.status_code == 403
    assert "It needs the <strong>team lead</strong> role" in response.content.decode()


@pytest.mark.parametrize("path", TEAM_LEAD_PAGES)
def test_team_lead_opens_team_lead_pages(workspace, path):
    assert host_client(workspace, workspace.lead).get(path).status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.TEAM_LEAD])
def test_every_role_reads_the_dashboard(workspace, make_member, role):
    response = host_client(workspace, make_member(role)).get("/")
    assert response.status_code == 200


def test_viewer_cannot_post_to_team_lead_actions(workspace, make_member):
    viewer = make_member(Role.VIEWER)
    client = host_client(workspace, viewer)
    assert client.post(f"/settings/team/{viewer.pk}/role/", {"role": Role.TEAM_LEAD}).status_code == 403
    assert client.post("/settings/api-keys/", {"name": "sneaky", "role": Role.TEAM_LEAD}).status_code == 403
    assert client.post("/settings/team/", {"email": "x@acme.test", "role": Role.TEAM_LEAD}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(workspace):
    for path in ["/", *TEAM_LEAD_PAGES, "/account/password/"]:
        response = host_client(workspace).get(path)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/?next=")
