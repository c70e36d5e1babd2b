"""The real servers the tests run beside the app: an SMTP sink that keeps every message,
and a Celery worker process on the test database. The fixtures that start them are in
``tests/conftest.py``; tests that need the classes themselves import them from here."""
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


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
