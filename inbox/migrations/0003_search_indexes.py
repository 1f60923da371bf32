"""Search indexes on PostgreSQL only (SQLite searches with plain icontains, see inbox/search.py).

* ``inbox_message.search_vector``: a stored generated tsvector ('simple' configuration) with a GIN index.
  It is not a model field: Django never writes it, PostgreSQL keeps it in step with ``body``.
* pg_trgm GIN indexes on contact name and phone, so ``ILIKE '%term%'`` is an index scan.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE inbox_message ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(body, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS message_search_vector ON inbox_message USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS contact_name_trgm ON inbox_contact USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS contact_phone_trgm ON inbox_contact USING gin (phone gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS contact_phone_trgm",
    "DROP INDEX IF EXISTS contact_name_trgm",
    "DROP INDEX IF EXISTS message_search_vector",
    "ALTER TABLE inbox_message DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_labels_views_notes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
