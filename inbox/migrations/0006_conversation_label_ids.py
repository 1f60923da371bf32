"""``inbox_conversation.label_ids``: each conversation's label ids as a ``bigint[]``, on PostgreSQL (issue 4).

The list's label conditions test it instead of reading the links (``inbox.filters.CarriesLabel`` says why). A
trigger on ``inbox_conversationlabel`` keeps it equal to the links in the transaction that writes them, whoever
writes them (label services, cascades, imports, tests); the conversation's row is updated in place
(``array_append``/``array_remove`` on its current value, so two transactions labelling one conversation at once
both land: the second waits for the first's row lock and then applies its change to the committed array).

Not a model field: Django never writes it, so saving a conversation loaded before a label change cannot put the
old labels back. No index: the list reads it on rows it walks anyway, and a rare label is found through the links
(the ``EXISTS`` kept next to it). SQLite has neither column nor trigger; its filters read the links.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE inbox_conversation ADD COLUMN label_ids bigint[] NOT NULL DEFAULT '{}';

CREATE FUNCTION inbox_conversation_label_ids_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE inbox_conversation SET label_ids = array_remove(label_ids, OLD.label_id)
        WHERE id = OLD.conversation_id AND OLD.label_id = ANY(label_ids);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE inbox_conversation SET label_ids = array_append(label_ids, NEW.label_id)
        WHERE id = NEW.conversation_id AND NOT (NEW.label_id = ANY(label_ids));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_conversation_label_ids_sync
AFTER INSERT OR DELETE OR UPDATE OF conversation_id, label_id ON inbox_conversationlabel
FOR EACH ROW EXECUTE FUNCTION inbox_conversation_label_ids_sync();

UPDATE inbox_conversation c SET label_ids = links.ids
FROM (
    SELECT conversation_id, array_agg(label_id ORDER BY label_id) AS ids
    FROM inbox_conversationlabel GROUP BY conversation_id
) links
WHERE links.conversation_id = c.id;

ANALYZE inbox_conversation;
"""

BACKWARD = """
DROP TRIGGER inbox_conversation_label_ids_sync ON inbox_conversationlabel;
DROP FUNCTION inbox_conversation_label_ids_sync();
ALTER TABLE inbox_conversation DROP COLUMN label_ids;
"""


def _postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_note_metadata"),
    ]

    operations = [
        migrations.RunPython(_postgres(FORWARD), _postgres(BACKWARD), elidable=False),
    ]
