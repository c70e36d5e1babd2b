"""Copy the migrated template schema into a new workspace schema.

django-tenants' own clone (a large PL/pgSQL function) scans information_schema across
*every* schema for each table it copies, so creating a workspace slows down as workspaces
accumulate (bench/workspaces.py measures it). This copy only reads the catalog rows of the
template schema, so its cost depends on the template's size, not on how many workspaces
exist. It reproduces what Django migrations create: tables with their columns, defaults
and identity columns; primary-key, unique, check, exclusion and foreign-key constraints and
indexes under their original names (later migrations drop them by name); and the rows of
the template (django_migrations, content types, permissions).

Anything else in the template — views, non-identity sequences, functions, triggers — is
not handled here: ``template_is_plain`` says so and the caller falls back to the library.
"""
from django.db import connection

_TABLES = """
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname
"""
_CONSTRAINTS = """
    SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid), con.contype
    FROM pg_constraint con
    WHERE con.connamespace = %s::regnamespace AND con.contype IN ('p', 'u', 'c', 'x', 'f') AND con.conrelid <> 0
    ORDER BY con.contype = 'f', con.conrelid::regclass::text, con.conname
"""
_INDEXES = """
    SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = %s::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
    ORDER BY c.relname
"""
_IDENTITY_COLUMNS = """
    SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = %s::regnamespace AND a.attidentity <> '' AND NOT a.attisdropped
"""
_UNSUPPORTED = """
    SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind IN ('v', 'm', 'f'))
         + (SELECT count(*) FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'S'
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
         + (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = %(s)s::regnamespace)
         + (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal)
"""


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def template_is_plain(source: str) -> bool:
    """True when the template holds only what ``schema_copy`` reproduces."""
    with connection.cursor() as cursor:
        cursor.execute(_UNSUPPORTED, {"s": source})
        return cursor.fetchone()[0] == 0


def schema_copy(source: str, target: str) -> None:
    """Create schema ``target`` as a copy of ``source`` (structure and rows). Runs in the
    caller's transaction: on error, nothing is left behind."""
    src, dst = _q(source), _q(target)
    with connection.cursor() as cursor:
        cursor.execute(_TABLES, [source])
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(_IDENTITY_COLUMNS, [source])
        identity = cursor.fetchall()
        # Definitions are read with the template first on the search path, so the names
        # they mention come out unqualified and resolve in the new schema below.
        cursor.execute(f"SET LOCAL search_path TO {src}, public")
        cursor.execute(_CONSTRAINTS, [source])
        constraints = cursor.fetchall()
        cursor.execute(_INDEXES, [source])
        indexes = [row[0] for row in cursor.fetchall()]
        # pg_get_indexdef always qualifies the table, quoting the schema only when needed.
        cursor.execute("SELECT quote_ident(%s), quote_ident(%s)", [source, target])
        src_ident, dst_ident = cursor.fetchone()

        cursor.execute(f"CREATE SCHEMA {dst}")
        statements = []
        for table in tables:
            statements.append(
                f"CREATE TABLE {dst}.{_q(table)} (LIKE {src}.{_q(table)} "
                "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
            )
            statements.append(f"INSERT INTO {dst}.{_q(table)} OVERRIDING SYSTEM VALUE SELECT * FROM {src}.{_q(table)}")
        for table, column in identity:
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('{dst}.{_q(table)}', '{column}'), "
                f"COALESCE((SELECT max({_q(column)}) FROM {dst}.{_q(table)}), 0) + 1, false)"
            )
        for table, name, definition, _ in constraints:
            statements.append(f"ALTER TABLE {dst}.{_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        for definition in indexes:
            on, sep, rest = definition.partition(f" ON {src_ident}.")
            if not sep:
                on, sep, rest = definition.partition(f" ON ONLY {src_ident}.")
            if not sep:
                raise ValueError(f"unexpected index definition in the template: {definition}")
            statements.append(f"{on}{sep.replace(src_ident, dst_ident)}{rest}")
        cursor.execute(f"SET LOCAL search_path TO {dst}, public")
        cursor.execute(";\n".join(statements))
    # The SET LOCALs above last until the caller's transaction ends; django-tenants, which
    # issues search_path once per schema switch (TENANT_LIMIT_SET_CALLS), must set its own
    # again before the next query.
    connection.set_tenant(connection.tenant)
