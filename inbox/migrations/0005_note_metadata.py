"""Notes written by an automation rule record the rule, so the thread names it instead of "Someone" (issue 6)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0004_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="metadata",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
