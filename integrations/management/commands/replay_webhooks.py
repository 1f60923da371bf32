"""Replay stored webhook deliveries that failed (or are stuck as received)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from integrations.models import InboundWebhook
from integrations.services.webhooks import webhook_replay


class Command(BaseCommand):
    help = "Process failed (and stuck) webhook deliveries again. Without ids: every failed one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="webhook ids (default: all failed)")
        parser.add_argument("--provider", help="only this provider's deliveries")
        parser.add_argument("--include-received", action="store_true", help="also deliveries never processed")

    def handle(self, *args: object, **options: object) -> None:
        webhooks = InboundWebhook.objects.exclude(status=InboundWebhook.Status.PROCESSED)
        if options["ids"]:
            webhooks = webhooks.filter(pk__in=options["ids"])
        elif not options["include_received"]:
            webhooks = webhooks.filter(status=InboundWebhook.Status.FAILED)
        if options["provider"]:
            webhooks = webhooks.filter(provider=options["provider"])
        counts = {"processed": 0, "failed": 0}
        for webhook_id in webhooks.order_by("id").values_list("id", flat=True):
            result = webhook_replay(webhook_id=webhook_id)
            counts["processed" if result.status == InboundWebhook.Status.PROCESSED else "failed"] += 1
            if result.status == InboundWebhook.Status.FAILED:
                self.stderr.write(f"webhook {webhook_id}: {result.error}")
        self.stdout.write(f"replayed: {counts['processed']} processed, {counts['failed']} still failing")
