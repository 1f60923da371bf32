import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("connections", "0003_subscription_organization"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhooksubscription",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="webhook_subscriptions",
                to="inbox.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhooksubscription",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "crm"), ("authorization__isnull", False), _connector="OR"),
                name="webhook_subscription_app_has_authorization",
            ),
        ),
    ]
