import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from ingestion.generator import World, rows
from ingestion.models import Conversation, Customer, Event, Revenue, SocialMention, SurveyResponse
from tenants.accounts.models import ApiKey, Role, User
from tenants.accounts.selectors import api_key_hash
from tenants.demo import DEMO_EMAIL, DEMO_PASSWORD
from tenants.models import Workspace
from tests.factories import PASSWORD
from tests.helpers import database_url_for_tests


def test_create_workspace_prints_the_url(db, capsys):
    call_command("create_workspace", "--slug", "acme", "--name", "Acme Inc", "--email", "lead@acme.test",
                 "--password", PASSWORD, "--time-zone", "Europe/Paris", "--currency", "EUR")
    out = capsys.readouterr().out
    assert "URL: http://acme.localhost:8000/" in out
    workspace = Workspace.objects.get(slug="acme")
    assert (workspace.name, workspace.time_zone, workspace.currency) == ("Acme Inc", "Europe/Paris", "EUR")
    with tenant_context(workspace):
        assert User.objects.get().role == Role.TEAM_LEAD


@pytest.mark.parametrize("slug, message", [("acme", "slug: The address 'acme' is already taken"), ("A!", "slug: Use 3–40")])
def test_create_workspace_refuses_taken_or_invalid_slug(workspace, slug, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_workspace", "--slug", slug, "--name", "X", "--email", "x@x.test", "--password", PASSWORD)
    assert Workspace.objects.real().count() == 1


def test_create_workspace_exits_with_code_1_from_the_shell(workspace):
    import os
    import subprocess
    import sys

    # The real entry point, on the test database: CommandError becomes exit code 1 and a
    # message on stderr.
    env = {**os.environ, "DATABASE_URL": database_url_for_tests()}
    result = subprocess.run([sys.executable, "manage.py", "create_workspace", "--slug", "No Good", "--name", "X",
                             "--email", "x@x.test", "--password", PASSWORD], capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "slug: Use 3–40 lowercase letters" in result.stderr


def test_create_api_key_prints_a_working_key_once(workspace, capsys):
    call_command("create_api_key", "--workspace", "acme", "--name", "ci")
    raw = capsys.readouterr().out.strip()
    with tenant_context(workspace):
        key = ApiKey.objects.get()
        assert (key.name, key.role, key.key_hash) == ("ci", Role.TEAM_LEAD, api_key_hash(raw))


def test_create_api_key_for_unknown_workspace_fails_clearly(db):
    with pytest.raises(CommandError, match="No workspace 'nope'."):
        call_command("create_api_key", "--workspace", "nope", "--name", "ci")


def test_seed_demo_creates_then_refreshes_the_demo_workspace(db, capsys):
    call_command("seed_demo", "--skip-data")
    assert "Sign in at http://demo.localhost:8000/sign-in/ as lead@demo.test / pulse-demo-2026" in capsys.readouterr().out
    demo = Workspace.objects.get(slug="demo")
    with tenant_context(demo):
        lead = User.objects.get(email=DEMO_EMAIL)
        lead.set_password("changed-it-myself-1")
        lead.save()
        assert sorted(User.objects.values_list("role", flat=True)) == [Role.AGENT, Role.TEAM_LEAD, Role.VIEWER]
    connection.set_schema_to_public()
    call_command("seed_demo", "--skip-data")
    assert "Refreshed the demo workspace." in capsys.readouterr().out
    with tenant_context(demo):
        assert User.objects.get(email=DEMO_EMAIL).check_password(DEMO_PASSWORD)
        assert User.objects.count() == 3
        assert not Customer.objects.exists()
    connection.set_schema_to_public()
    call_command("seed_demo", "--if-missing")
    assert capsys.readouterr().out == ""


def _demo_counts() -> dict[str, int]:
    with tenant_context(Workspace.objects.get(slug="demo")):
        counts = {model.__name__: model.objects.count()
                  for model in (Customer, Revenue, Conversation, Event, SurveyResponse, SocialMention)}
    connection.set_schema_to_public()
    return counts


def test_seed_demo_loads_a_scaled_world_once(db, capsys):
    call_command("seed_demo", "--scale", "0.01")
    out = capsys.readouterr().out
    world = World.scaled(0.01)  # the command's world: ends today in the demo's time zone
    revenue_rows = sum(1 for _ in rows("revenue", world))
    assert _demo_counts() == {"Customer": 200, "Revenue": revenue_rows, "Conversation": 1_000, "Event": 5_000,
                              "SurveyResponse": 80, "SocialMention": 50}
    assert "  customers: 200 rows (200 new, 0 updated, 0 unchanged, 0 removed) in " in out
    assert f"  revenue: {revenue_rows:,} rows ({revenue_rows:,} new, 0 updated, 0 unchanged, 0 removed) in " in out
    assert "  events: 5,000 rows (5,000 new, 0 updated, 0 unchanged, 0 removed) in " in out
    assert f"Demo data loaded: {6_330 + revenue_rows:,} rows in " in out
    assert "Demo surveys: " in out
    with tenant_context(Workspace.objects.get(slug="demo")):
        from surveys.models import Response, Survey
        assert sorted(Survey.objects.values_list("public_id", flat=True)) == ["demo-csat", "demo-feedback", "demo-nps"]
        responses = Response.objects.count()
        from kpis.themes.demo import DEMO_THEMES
        from kpis.themes.models import CommentTheme, Theme
        assert sorted(Theme.objects.values_list("name", flat=True)) == sorted(DEMO_THEMES)
        matched = CommentTheme.objects.count()
    assert responses > 0
    assert f"Demo themes: {matched:,} comments matched in " in out and matched > 0

    call_command("seed_demo", "--scale", "0.01")
    out = capsys.readouterr().out
    assert "  conversations: 1,000 rows (0 new, 0 updated, 1,000 unchanged, 0 removed) in " in out
    assert "  social_mentions: 50 rows (0 new, 0 updated, 50 unchanged, 0 removed) in " in out
    assert out.count("(0 new, 0 updated, ") == 6 and out.count(" unchanged, 0 removed)") == 6
    assert _demo_counts()["Event"] == 5_000
    assert "Demo surveys: " not in out  # made once: answers given in the demo are kept
    with tenant_context(Workspace.objects.get(slug="demo")):
        assert Response.objects.count() == responses

    call_command("seed_demo", "--if-missing", "--scale", "0.02")
    assert capsys.readouterr().out == ""
    assert _demo_counts()["Customer"] == 200


def test_seed_demo_refuses_a_scale_of_zero(db):
    with pytest.raises(CommandError, match="--scale must be greater than 0"):
        call_command("seed_demo", "--scale", "0")
    assert not Workspace.objects.filter(slug="demo").exists()
