"""Indexes for the list and search at a million conversations (issue 4, measured with bench/inbox.py).

Built with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL, so a live database keeps taking messages while they are
built (hence ``atomic = False``); plain ``CREATE INDEX`` elsewhere (SQLite). The email trigram index is
PostgreSQL-only, like the other search indexes of 0003.
"""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """``AddIndexConcurrently`` on PostgreSQL, ``AddIndex`` on other databases (same migration state)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


def _postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0003_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "pending"])),
                fields=["organization", "assignee", "-last_message_at", "-id"],
                name="conv_assignee_active",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="conversation",
            index=models.Index(fields=["channel", "status", "-last_message_at", "-id"], name="conv_channel_status"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="conversation",
            index=models.Index(fields=["team", "status", "-last_message_at", "-id"], name="conv_team_status"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="message",
            index=models.Index(
                condition=models.Q(("direction", "inbound")),
                fields=["conversation", "id"],
                name="message_inbound_order",
            ),
        ),
        # Contact search matches email too (search._contact_ids): without it the OR falls back to a full scan.
        migrations.RunPython(
            _postgres(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS contact_email_trgm"
                " ON inbox_contact USING gin (email gin_trgm_ops)"
            ),
            _postgres("DROP INDEX CONCURRENTLY IF EXISTS contact_email_trgm"),
            elidable=False,
        ),
    ]
