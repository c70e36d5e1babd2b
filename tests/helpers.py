import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context


BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


class BrowserClient(Client):
    """A test client that behaves like a person's browser on the survey pages: it sends a
    browser's User-Agent, and a survey (or unsubscribe) form it posts carries the stamp of a page shown a
    few seconds before (what a person who read the page sends), unless the test gives its
    own ``shown``. Without these the scanner protection would hold every test answer."""

    def post(self, path, data=None, *args, **kwargs):
        if path.startswith("/u/") and data is None:
            data = {}
        if path.startswith(("/s/", "/p/", "/u/")) and isinstance(data, dict) and "shown" not in data:
            from surveys.services.scanner import shown_stamp

            data = {**data, "shown": shown_stamp(reasons=[], now=timezone.now() - timedelta(seconds=5))}
        return super().post(path, data, *args, **kwargs)


def host_client(workspace, user=None, user_agent: str = BROWSER_AGENT) -> Client:
    """A test client that talks to ``workspace``'s host like a browser, optionally signed
    in as ``user``."""
    client = BrowserClient(HTTP_HOST=workspace.domain_name, HTTP_USER_AGENT=user_agent)
    if user is not None:
        with tenant_context(workspace):
            client.force_login(user)
        connection.set_schema_to_public()
    return client


def lead_client(workspace) -> Client:
    """``host_client`` signed in as the workspace's team lead (the ``lead`` fixture for the
    ``workspace`` fixture's)."""
    return host_client(workspace, workspace.lead)



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
