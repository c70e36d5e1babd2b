"""Shared by the input tests of issue #15: a fingerprint of everything stored (to assert
that a refused request changed nothing), the API's operations read from its own OpenAPI
schema, and the hostile values."""
from django.db import connection

# Tables that change without any request writing data: sessions are touched by signing
# in, and the schema template is not a workspace's.
_UNWATCHED = {"django_session"}


def stored_fingerprint(workspace) -> dict[str, str]:
    """An md5 per table of the workspace's schema and of the public schema: equal before
    and after a request means it stored nothing and changed nothing."""
    fingerprints = {}
    with connection.cursor() as cursor:
        for schema in ("public", workspace.schema_name):
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                           " AND table_type = 'BASE TABLE'", [schema])
            for (table,) in cursor.fetchall():
                if table in _UNWATCHED:
                    continue
                cursor.execute(f'SELECT md5(coalesce(string_agg(t::text, \',\' ORDER BY t::text), \'\')) FROM "{schema}"."{table}" t')
                fingerprints[f"{schema}.{table}"] = cursor.fetchone()[0]
    return fingerprints


def api_operations(client) -> list[tuple[str, str, dict]]:
    """(method, path template, operation) for every operation the API describes."""
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    return [(method.upper(), path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")]


def api_path(template: str, ids: dict[str, str]) -> str:
    """A concrete path for an operation's path template: ``{id}`` is the id in ``ids``
    under the path segment before it (``/surveys/{id}`` → ``ids["surveys"]``), ``{dataset}``
    and ``{key}`` are given too. A template this cannot fill fails loudly, so a new kind
    of endpoint is not silently left out."""
    parts = template.strip("/").split("/")
    for index, part in enumerate(parts):
        if part.startswith("{"):
            name = part.strip("{}")
            key = parts[index - 1] if name == "id" else name
            if key not in ids:
                raise AssertionError(f"no id for {part} in {template}: add one to the test's ids")
            parts[index] = str(ids[key])
    return "/" + "/".join(parts)
