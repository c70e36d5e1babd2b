"""Liveness of the pieces Pulse needs: PostgreSQL, Redis and at least one Celery worker."""
import time

from django.conf import settings
from django.db import DatabaseError, connection
from kombu.exceptions import OperationalError as BrokerError
from redis import Redis
from redis.exceptions import RedisError


class NoWorker(RuntimeError):
    pass


# What a probe reports as "down" instead of raising: the services' own errors, not bugs.
PROBE_ERRORS = (DatabaseError, RedisError, BrokerError, OSError, NoWorker)


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except PROBE_ERRORS as exc:
        detail, ok = {"error": str(exc) if isinstance(exc, NoWorker) else type(exc).__name__}, False
    return {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}


def _postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _redis():
    client = Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _worker():
    from config.celery import app

    # limit=1 returns on the first answer instead of waiting out the timeout.
    replies = app.control.ping(timeout=1.0, limit=1)
    if not replies:
        raise NoWorker("no worker answered")
    return {"responding": [next(iter(reply)) for reply in replies]}


def health_report() -> tuple[bool, dict]:
    checks = {"postgresql": _timed(_postgresql), "redis": _timed(_redis)}
    # Only ask the workers when the broker is reachable; otherwise the ping would hang.
    checks["worker"] = _timed(_worker) if checks["redis"]["ok"] else {"ok": False, "error": "broker unreachable"}
    ok = all(check["ok"] for check in checks.values())
    return ok, {"status": "ok" if ok else "degraded", "checks": checks}
