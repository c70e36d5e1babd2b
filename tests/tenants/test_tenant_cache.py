"""The host → workspace lookup is cached; changes to a workspace are seen at once."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.services import workspace_delete, workspace_update
from tests.helpers import host_client

PAGE = "/sign-in/"  # names the workspace in its title


def test_the_workspace_is_resolved_from_the_cache_and_follows_changes(workspace, django_capture_on_commit_callbacks):
    client = host_client(workspace)
    assert " · Acme</title>" in client.get(PAGE).content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get(PAGE)
    assert not [q for q in queries.captured_queries if "tenants_domain" in q["sql"]]

    # The cache is cleared once the change is committed (the test's transaction never is).
    with django_capture_on_commit_callbacks(execute=True):
        workspace_update(workspace=workspace, name="Acme Two", time_zone="America/Chicago", currency="EUR")
    assert " · Acme Two</title>" in client.get(PAGE).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        workspace_delete(workspace=workspace)
    gone = client.get(PAGE)
    assert gone.status_code == 404
    assert "There is no workspace at this address" in gone.content.decode()
