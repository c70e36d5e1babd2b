"""A throw-away database for a benchmark, on the configured (or embedded) server, so a
benchmark never touches the app's data. Not a benchmark itself: ``pulse.py bench`` skips
files whose name starts with an underscore."""
import os
from collections.abc import Callable


def database_throwaway(name: str) -> Callable[[], None]:
    """Create database ``name`` (dropping a leftover one), point Django at it, set Django up
    and migrate it; return the function that drops it again."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["LOG_LEVEL"] = "WARNING"
    from config.embedded import ensure_services

    ensure_services()
    import environ
    import psycopg

    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    admin = psycopg.connect(host=db.get("OPTIONS", {}).get("host") or db["HOST"], port=db.get("PORT") or 5432,
                            user=db["USER"], password=db.get("PASSWORD") or None, dbname="postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    url = os.environ["DATABASE_URL"]
    path_end = url.index("?") if "?" in url else len(url)
    os.environ["DATABASE_URL"] = url[: url.rindex("/", 0, path_end) + 1] + name + url[path_end:]

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate_schemas", verbosity=0)

    def drop() -> None:
        connection.close()
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

    return drop
