import time

from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context


def host_client(workspace, user=None) -> Client:
    """A test client that talks to ``workspace``'s host, optionally signed in as ``user``."""
    client = Client(HTTP_HOST=workspace.domain_name)
    if user is not None:
        with tenant_context(workspace):
            client.force_login(user)
        connection.set_schema_to_public()
    return client



def api_key_client(workspace, role: str = "team_lead") -> Client:
    """A test client that calls ``workspace``'s API with a new API key of ``role``."""
    from tenants.accounts.services import api_key_create

    with tenant_context(workspace):
        raw = api_key_create(name="t", role=role).raw
    connection.set_schema_to_public()
    return Client(HTTP_HOST=workspace.domain_name, HTTP_AUTHORIZATION=f"Bearer {raw}")


def wait_until(predicate, timeout=60.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def database_url_for_tests() -> str:
    """URL of the *test* database, for processes started by the tests."""
    db = connection.settings_dict
    socket_dir = db.get("OPTIONS", {}).get("host")
    if socket_dir:
        return f"postgres://{db['USER']}@/{db['NAME']}?host={socket_dir}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
