import pytest
from django.db import connection
from django.test import Client
from django.utils.html import escape
from django_tenants.utils import schema_exists, tenant_context

from tenants.accounts.models import Role, User
from tenants.models import Domain, Workspace
from tenants.workspace.models import BusinessHours
from tests.factories import PASSWORD

SIGNUP = {
    "name": "Initech",
    "slug": "initech",
    "time_zone": "America/New_York",
    "currency": "USD",
    "lead_name": "Bill Lumbergh",
    "lead_email": "Bill@Initech.test",
    "lead_password": PASSWORD,
}


def public_client():
    return Client(HTTP_HOST="localhost")


def test_landing_page_links_to_signup(db):
    response = public_client().get("/")
    assert response.status_code == 200
    assert b'href="/signup/"' in response.content


def test_signup_creates_schema_domain_and_team_lead_then_hands_off_the_session(db):
    response = public_client().post("/signup/", SIGNUP)

    assert response.status_code == 302
    assert response["Location"].startswith("http://initech.localhost/auth/handoff/?token=")
    workspace = Workspace.objects.get(slug="initech")
    assert (workspace.name, workspace.schema_name, workspace.time_zone, workspace.currency) == (
        "Initech", "initech", "America/New_York", "USD")
    assert schema_exists("initech")
    assert Domain.objects.get(tenant=workspace).domain == "initech.localhost"
    with tenant_context(workspace):
        lead = User.objects.get()
        assert (lead.email, lead.full_name, lead.role) == ("bill@initech.test", "Bill Lumbergh", Role.TEAM_LEAD)
        assert lead.check_password(PASSWORD)
        assert BusinessHours.objects.count() == 5  # Monday–Friday 09:00–17:00 by default

    # Following the hand-off link on the workspace host signs the lead in, once.
    tenant_client = Client(HTTP_HOST="initech.localhost")
    path = response["Location"].removeprefix("http://initech.localhost")
    landed = tenant_client.get(path)
    assert landed.status_code == 302 and landed["Location"] == "/"
    dashboard = tenant_client.get("/")
    assert dashboard.status_code == 200
    assert b"Initech" in dashboard.content
    assert Client(HTTP_HOST="initech.localhost").get(path)["Location"] == "/sign-in/"  # single use


def test_handoff_token_of_one_workspace_does_not_sign_in_at_another(db, other_workspace):
    response = public_client().post("/signup/", SIGNUP)
    path = response["Location"].removeprefix("http://initech.localhost")
    foreign = Client(HTTP_HOST=other_workspace.domain_name)
    assert foreign.get(path)["Location"] == "/sign-in/"
    assert foreign.get("/")["Location"].startswith("/sign-in/")


@pytest.mark.parametrize(
    "slug, message",
    [
        ("ab", "Use 3–40 lowercase letters"),
        ("Acme Inc", "Use 3–40 lowercase letters"),
        ("-acme", "Use 3–40 lowercase letters"),
        ("acme-", "Use 3–40 lowercase letters"),
        ("9lives", "Use 3–40 lowercase letters"),
        ("a" * 41, "Ensure this value has at most 40 characters (it has 41)."),
        ("admin", "'admin' is reserved"),
        ("pg-data", "'pg-data' is reserved"),
    ],
)
def test_invalid_workspace_address_is_refused_with_a_message_and_nothing_created(db, slug, message):
    before = Workspace.objects.count()
    response = public_client().post("/signup/", {**SIGNUP, "slug": slug})
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert Workspace.objects.count() == before


def test_taken_workspace_address_is_refused(db, workspace):
    response = public_client().post("/signup/", {**SIGNUP, "slug": workspace.slug})
    assert response.status_code == 400
    assert "The address &#x27;acme&#x27; is already taken" in response.content.decode()
    assert Workspace.objects.filter(slug="acme").count() == 1


@pytest.mark.parametrize(
    "password, message",
    [
        ("short1", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("83749201746", "This password is entirely numeric."),
    ],
)
def test_weak_password_is_refused_and_nothing_is_created(db, password, message):
    response = public_client().post("/signup/", {**SIGNUP, "lead_password": password})
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not Workspace.objects.filter(slug="initech").exists()
    assert not schema_exists("initech")


def test_unknown_time_zone_and_currency_are_refused(db):
    response = public_client().post("/signup/", {**SIGNUP, "time_zone": "Mars/Olympus", "currency": "XYZ"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in body
    assert "Select a valid choice. XYZ is not one of the available choices." in body
    assert not Workspace.objects.filter(slug="initech").exists()


def test_unknown_host_gets_a_friendly_404_naming_no_workspace(db, workspace):
    response = Client(HTTP_HOST="nope.localhost").get("/")
    assert response.status_code == 404
    assert b"There is no workspace at this address" in response.content
    assert connection.schema_name == "public"


def test_workspace_is_cloned_from_the_template_with_every_migration_recorded(db, workspace):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM _template.django_migrations")
        template_count = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM acme.django_migrations")
        assert cursor.fetchone()[0] == template_count > 0


def test_landing_page_sends_people_to_their_workspace_sign_in(db, workspace):
    response = public_client().get("/", {"workspace": "ACME.localhost"})
    assert response.status_code == 302 and response["Location"] == "http://acme.localhost/sign-in/"
    missing = public_client().get("/", {"workspace": "nope"})
    assert missing.status_code == 404
    assert "There is no workspace at nope.localhost." in missing.content.decode()
