import pytest
from django_tenants.utils import tenant_context

# The alert tests' snapshots (28 days of history and a finished day that breaks a rule).
from tests.kpis.test_alerts import history  # noqa: F401
from tests.receivers import Receiver


@pytest.fixture
def tenant(workspace):
    with tenant_context(workspace):
        yield workspace


@pytest.fixture
def receiver():
    """Start ``Receiver(answers)`` servers; all are stopped at the end of the test."""
    started = []

    def start(answers=(200,)):
        server = Receiver(answers).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sent(monkeypatch):
    """The delivery ids whose task was sent (after commit), in order; nothing reaches a broker."""
    from tenants.webhooks.tasks import webhook_deliver_task

    ids = []
    monkeypatch.setattr(webhook_deliver_task, "apply_async", lambda args=(), kwargs=None, **options: ids.append(args[0]))
    return ids
