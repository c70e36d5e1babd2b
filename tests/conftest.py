"""Fixtures shared by every test. All tests run on real PostgreSQL and Redis.

Most tests use the ``db`` fixture: each runs in a transaction that is rolled back, schemas
created by it included (PostgreSQL DDL is transactional). Tests that need data committed —
for a Celery worker process or a live HTTP server — use ``transactional_db`` and the
``committed_workspace`` factory, which drops the schemas it created afterwards.
"""
import os

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from tests.factories import UserFactory, workspace_make
from tests.helpers import database_url_for_tests, lead_client
from tests.servers import SmtpSink, Worker


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from redis import Redis

    from tenants.services import workspace_template_ensure

    with django_db_blocker.unblock():
        workspace_template_ensure()
    # The tests' own Redis database starts empty: no queued tasks or cache from a past run.
    Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    """Requests switch the connection to a workspace's schema; start each test in public,
    with an empty cache (workspaces of the same name recur across tests)."""
    from django.core.cache import cache

    connection.set_schema_to_public()
    cache.clear()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def workspace(db):
    """A workspace with its team lead (``workspace.lead``)."""
    created = workspace_make("acme")
    created.workspace.lead = created.team_lead
    return created.workspace


@pytest.fixture
def lead(workspace):
    """A client on ``workspace``'s host signed in as its team lead."""
    return lead_client(workspace)


@pytest.fixture
def other_workspace(db):
    created = workspace_make("globex", lead_email="lead@globex.test")
    created.workspace.lead = created.team_lead
    return created.workspace


@pytest.fixture
def make_member(workspace):
    def make(role, **kwargs):
        with tenant_context(workspace):
            return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def committed_workspace(transactional_db):
    """Factory for workspaces in a transactional test; drops their schemas at the end."""
    from tenants.services import workspace_delete

    created = []

    def make(slug, **overrides):
        result = workspace_make(slug, **overrides)
        result.workspace.lead = result.team_lead
        created.append(result.workspace)
        return result.workspace

    yield make
    connection.set_schema_to_public()
    if created and Worker.started:
        # Work the test set off (a KPI recompute after an import, a send) may still be
        # reading these schemas: dropping them under it deadlocks.
        Worker.wait_idle()
    for ws in created:
        workspace_delete(workspace=ws)


@pytest.fixture
def outbox_only(settings):
    """The local default without a mail server: survey mail kept in the Outbox and
    delivered nowhere; account mail goes to ACCOUNT_EMAIL_FALLBACK_BACKEND (locmem in
    tests: ``django.core.mail.outbox``), never to the Outbox."""
    settings.EMAIL_BACKEND = "surveys.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = None
    settings.EMAIL_OUTBOX = True


@pytest.fixture
def eager_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """Celery tasks run in the test process when sent, as the worker would run them (same
    schema, same code). Tasks are sent on commit, which the test's rolled-back transaction
    never reaches: wrap the requests in ``with eager_tasks(execute=True):`` (this is
    pytest-django's django_capture_on_commit_callbacks)."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    return django_capture_on_commit_callbacks


# ---------------------------------------------------------------- real services


@pytest.fixture(scope="session")
def smtp_server():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_tests(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }
    worker = Worker(env, tmp_path_factory.mktemp("worker") / "worker.log").start()
    yield worker
    worker.stop()
