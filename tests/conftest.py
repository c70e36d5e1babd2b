"""Fixtures shared by every test. All tests run on real PostgreSQL and Redis.

Most tests use the ``db`` fixture: each runs in a transaction that is rolled back, schemas
created by it included (PostgreSQL DDL is transactional). Tests that need data committed —
for a Celery worker process or a live HTTP server — use ``transactional_db`` and the
``committed_workspace`` factory, which drops the schemas it created afterwards.
"""
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from tests.factories import UserFactory, workspace_make
from tests.helpers import database_url_for_tests

ROOT = Path(__file__).resolve().parent.parent


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

def _free_port() -> int:
    # aiosmtpd's controller checks its own port after starting, so it cannot be given 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on localhost collecting every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self._lock = threading.Lock()
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def wait_for(self, predicate, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no matching email within {timeout}s; got {[m['Subject'] for m in self.messages]}")

    @staticmethod
    def text_of(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture(scope="session")
def smtp_server():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


class Worker:
    """A real Celery worker process (solo pool) on the test database, test Redis database and
    SMTP sink. Tests may kill it (as a crash would) and start it again."""

    started = False  # a worker ran in this session: teardowns wait for it to go idle
    current: "Worker | None" = None  # the last one started

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.process = env, log, None

    @staticmethod
    def wait_idle(timeout: float = 180.0) -> None:
        """Until no task is queued, reserved or running (or ``timeout``).

        The worker runs a solo pool: while it runs a task it cannot answer remote control
        commands, so a missing reply means "busy", not "idle" (a loaded machine may also
        answer late). Idle must be seen twice in a row: a task that just ended may have
        queued another one that the worker is about to take."""
        from redis import Redis

        from config.celery import app

        broker = Redis.from_url(settings.REDIS_URL)  # the broker's database (redis-py spelling)

        def idle() -> bool:
            if sum(broker.llen(queue) for queue in ("default", "email", "long")):
                return False
            inspect = app.control.inspect(timeout=1.0, limit=1)  # one worker: its reply is enough
            replies = [inspect.active(), inspect.reserved()]
            if any(reply is None for reply in replies):  # no answer: the worker is running a task
                return False
            if any(tasks for reply in replies for tasks in reply.values()):
                return False
            return not sum(broker.llen(queue) for queue in ("default", "email", "long"))

        deadline = time.monotonic() + timeout
        seen_idle = 0
        while time.monotonic() < deadline:
            worker = Worker.current
            if worker is None or worker.process is None or worker.process.poll() is not None:
                return  # no worker process alive: nothing can be running
            seen_idle = seen_idle + 1 if idle() else 0
            if seen_idle >= 2:
                return
            time.sleep(0.2)

    def start(self, timeout: float = 180) -> "Worker":
        from config.celery import app

        hostname = f"test-{os.getpid()}-{time.monotonic_ns()}@%h"
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,email,long",
               "--pool", "solo", "--loglevel", "INFO", "--hostname", hostname, "--without-mingle", "--without-gossip"]
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()}")
            if app.control.ping(timeout=1.0):
                Worker.started = True
                Worker.current = self
                return self
        self.process.kill()
        raise RuntimeError(f"worker did not answer within {timeout}s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to clean up or acknowledge anything."""
        self.process.kill()
        self.process.wait(15)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


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
