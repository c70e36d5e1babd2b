"""The ``unaccent`` extension, for the customer search's accent-insensitive name match
(ingestion.selectors.customers). It is a trusted extension (PostgreSQL 13+): the database
owner may create it, and both the embedded PostgreSQL and Debian's ship it.

Created in ``public`` explicitly, from this shared app's migration (run on the public
schema only): every workspace's search_path ends with public, so one copy serves them
all. Created from a tenant app's migration it would land in the first workspace's schema,
and ``IF NOT EXISTS`` would then hide it from every other workspace."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",
                          reverse_sql=migrations.RunSQL.noop),
    ]
