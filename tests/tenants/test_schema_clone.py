"""The template copy must reproduce the template exactly: a later migration that drops an
index or constraint by name, or inserts a row, must work on a cloned workspace as it does on
a migrated one."""
from django.db import connection

from tenants.models import TEMPLATE_SCHEMA
from tenants.schema_clone import schema_copy, template_is_plain

CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, 2""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = %s::regnamespace ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, regexp_replace(indexdef, ' ON [^.]+\\.', ' ON ') FROM pg_indexes
        WHERE schemaname = %s::regnamespace::text ORDER BY 1, 2""",
}


def describe(schema: str) -> dict:
    described = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL search_path TO {connection.ops.quote_name(schema)}")
        for name, sql in CATALOG.items():
            cursor.execute(sql, [schema])
            described[name] = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM django_migrations")
        described["migrations"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM auth_permission")
        described["permissions"] = cursor.fetchone()[0]
        cursor.execute("SET LOCAL search_path TO public")
    return described


def test_copy_reproduces_columns_constraints_indexes_and_rows_of_the_template(db):
    assert template_is_plain(TEMPLATE_SCHEMA)
    schema_copy(TEMPLATE_SCHEMA, "copy_check")
    template, copy = describe(TEMPLATE_SCHEMA), describe("copy_check")
    assert template["columns"] and template["indexes"] and template["migrations"] > 10
    assert copy == template


def test_copied_identity_columns_continue_after_the_copied_rows(db):
    schema_copy(TEMPLATE_SCHEMA, "copy_seq")
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM copy_seq.django_migrations")
        highest = cursor.fetchone()[0]
        cursor.execute("INSERT INTO copy_seq.django_migrations (app, name, applied) VALUES ('x', 'y', now()) RETURNING id")
        assert cursor.fetchone()[0] == highest + 1


def test_foreign_keys_of_the_copy_point_into_the_copy(db):
    schema_copy(TEMPLATE_SCHEMA, "copy_fk")
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM pg_constraint
            WHERE connamespace = 'copy_fk'::regnamespace AND contype = 'f'
              AND confrelid::regclass::text NOT LIKE 'copy_fk.%%'""")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE connamespace = 'copy_fk'::regnamespace AND contype = 'f'")
        assert cursor.fetchone()[0] > 5


def test_template_with_a_view_is_left_to_django_tenants(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW {TEMPLATE_SCHEMA}.v AS SELECT 1 AS one")
    assert not template_is_plain(TEMPLATE_SCHEMA)
