"""A real browser (Debian's Chromium via Playwright) against a live server."""
import re

import pytest
import requests
from django.db import connection
from playwright.sync_api import expect
from django_tenants.utils import tenant_context

from tenants.models import Workspace
from tenants.services import workspace_delete
from tests.factories import PASSWORD
from tests.e2e.helpers import SCREENSHOTS
from tests.servers import Worker

pytestmark = pytest.mark.e2e


@pytest.fixture
def cleanup_signup(transactional_db):
    yield
    connection.set_schema_to_public()
    if Worker.started:  # a task (the invitation's email) may still read the schema
        Worker.wait_idle()
    for workspace in Workspace.objects.real():
        workspace_delete(workspace=workspace)


def test_create_a_workspace_sign_in_and_use_the_settings(live_server, page, screenshot, cleanup_signup):
    port = live_server.url.rsplit(":", 1)[1]
    page.goto(f"http://localhost:{port}/")
    screenshot("01-landing")
    page.get_by_role("link", name="Create your workspace").click()

    page.get_by_label("Company name").fill("Initech")
    page.get_by_label("Workspace address").fill("initech")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_label("Currency").select_option("USD")
    page.get_by_label("Your name").fill("Bill Lumbergh")
    page.get_by_label("Your work email").fill("bill@initech.test")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create workspace").click()
    page.get_by_text("This password is too short.").wait_for()
    screenshot("02-signup-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create workspace").click()

    # Lands signed in on the dashboard of the workspace's own host.
    page.wait_for_url(f"http://initech.localhost:{port}/")
    page.get_by_role("heading", name="Initech").wait_for()
    assert "Welcome to Initech!" in page.content()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").get_attribute("aria-current") == "page"
    screenshot("03-dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.wait_for_url(f"http://initech.localhost:{port}/data/")
    page.get_by_role("link", name="Conversations").click()
    page.get_by_role("rowheader", name="first_response_at").wait_for()
    screenshot("03b-dataset-conversations")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Workspace settings").wait_for()
    screenshot("04-workspace-settings")

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Team").click()
    page.wait_for_url(f"http://initech.localhost:{port}/settings/team/")  # not a field of the page left
    page.get_by_label("Email").fill("agent@initech.test")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to agent@initech.test as agent.").wait_for()
    screenshot("05-team")

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    page.get_by_role("button", name="Create key").wait_for()  # on the API keys page, not a field of the team's
    page.get_by_label("Name").fill("CI")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key").input_value()
    assert re.fullmatch(r"pulse_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", key)
    screenshot("06-api-keys")

    # The key works from a real HTTP client (Python's resolver does not map *.localhost,
    # so connect to 127.0.0.1 and name the workspace in the Host header).
    api = requests.get(f"http://127.0.0.1:{port}/api/v1/workspace",
                       headers={"Host": f"initech.localhost:{port}", "Authorization": f"Bearer {key}"}, timeout=10)
    assert api.status_code == 200 and api.json()["time_zone"] == "America/Chicago"
    foreign = requests.get(f"http://127.0.0.1:{port}/api/v1/workspace",
                           headers={"Host": f"demo-other.localhost:{port}", "Authorization": f"Bearer {key}"}, timeout=10)
    assert foreign.status_code == 404

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/sign-in/$"))
    page.get_by_label("Email").fill("bill@initech.test")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot("07-sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"http://initech.localhost:{port}/")

    page.goto(f"http://initech.localhost:{port}/api/docs/")
    page.locator(".swagger-ui").wait_for()
    page.get_by_text("Pulse API").first.wait_for()
    screenshot("08-api-docs")

    with tenant_context(Workspace.objects.get(slug="initech")):
        from tenants.accounts.models import Invitation

        assert Invitation.objects.get().email == "agent@initech.test"


def test_mobile_menu_opens_by_keyboard(live_server, browser, cleanup_signup):
    from tests.factories import workspace_make

    created = workspace_make("mobile")
    port = live_server.url.rsplit(":", 1)[1]
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(f"http://mobile.localhost:{port}/sign-in/")
    page.get_by_label("Email").fill(created.team_lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"http://mobile.localhost:{port}/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.locator("#nav-toggle").focus()
    page.keyboard.press("Space")
    nav.wait_for(state="visible")
    page.screenshot(path=str(SCREENSHOTS / "09-mobile-menu.png"), full_page=True)
    context.close()
