"""Every existing subscription belongs to its authorization's organization (a separate migration from the schema
change, so PostgreSQL never alters a table with pending deferred-constraint checks in the same transaction)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    WebhookSubscription = apps.get_model("connections", "WebhookSubscription")
    AppAuthorization = apps.get_model("connections", "AppAuthorization")
    WebhookSubscription.objects.filter(organization__isnull=True).update(
        organization_id=Subquery(
            AppAuthorization.objects.filter(pk=OuterRef("authorization_id")).values("organization_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("connections", "0002_unified_webhooks")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
