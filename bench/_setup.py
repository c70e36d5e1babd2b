"""Shared set-up of the benchmarks: Django on a throw-away database of the configured
server (embedded or DATABASE_URL), so a benchmark never touches the app's data."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _admin():
    import environ
    import psycopg

    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    return psycopg.connect(host=db.get("OPTIONS", {}).get("host") or db["HOST"], port=db.get("PORT") or 5432,
                           user=db["USER"], password=db.get("PASSWORD") or None, dbname="postgres", autocommit=True)


def bench_database_drop(name: str) -> None:
    from django.db import connection

    connection.close()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_database(name: str, *, fresh: bool = True) -> None:
    """Point DATABASE_URL at database ``name`` (recreated when ``fresh``) and set Django up
    on it with every migration applied."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["LOG_LEVEL"] = "WARNING"
    from config.embedded import ensure_services

    ensure_services()
    admin = _admin()
    if fresh:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = os.environ["DATABASE_URL"]
    path_end = url.index("?") if "?" in url else len(url)
    os.environ["DATABASE_URL"] = url[: url.rindex("/", 0, path_end) + 1] + name + url[path_end:]

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate_schemas", verbosity=0)
