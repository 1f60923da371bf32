"""No double booking on PostgreSQL: an exclusion constraint over (resource, [starts_at, blocked_until)).

btree_gist lets a GiST index compare the resource id with ``=``. Both steps are PostgreSQL only: the extension
operation skips other databases by itself, and the constraint is added with SQL only when the connection is
PostgreSQL (SQLite relies on the serialized check in ``services/reservations.py``). Creating the extension needs
a role allowed to (a superuser, or the database owner on PostgreSQL 13+ where btree_gist is a trusted extension).
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "reservation_no_overlap"

ADD = f"""
ALTER TABLE commerce_reservation ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&)
WHERE (status IN ('held', 'confirmed', 'completed', 'no_show'))
"""
DROP = f"ALTER TABLE commerce_reservation DROP CONSTRAINT IF EXISTS {CONSTRAINT}"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("commerce", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, drop_constraint),
    ]
