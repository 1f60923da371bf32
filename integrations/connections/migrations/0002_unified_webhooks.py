"""One outbound-webhook mechanism: subscriptions gain an organization and a kind (``app`` or ``crm``), so the
endpoints admins add for other CRMs become subscriptions too (rows moved by ``crm.0002``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("connections", "0001_oauth_connections"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhooksubscription",
            name="kind",
            field=models.CharField(
                choices=[("app", "Authorized app"), ("crm", "CRM webhook")], default="app", max_length=8
            ),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="webhook_subscriptions",
                to="inbox.organization",
            ),
        ),
        migrations.AlterField(
            model_name="webhooksubscription",
            name="authorization",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="subscriptions",
                to="connections.appauthorization",
            ),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="description",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="secret_hint",
            field=models.CharField(blank=True, default="", max_length=24),
        ),
        migrations.AddField(
            model_name="webhookattempt",
            name="response_excerpt",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
    ]
