"""Seed the embedded demo: an organization, an admin and an agent, a sandbox channel and a few conversations."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from inbox.models import Channel, Conversation, Organization, Role
from inbox.services.organizations import member_add, organization_create

DEMO_USERS = (
    ("admin", "switchboard-admin", Role.ADMIN),
    ("agent", "switchboard-agent", Role.AGENT),
)


class Command(BaseCommand):
    help = "Create the demo organization, users and sandbox channel (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        from integrations.sandbox.services import simulator_customer_writes
        from integrations.services.channels import channel_create

        organization = Organization.objects.filter(slug="demo-shop").first() or organization_create(
            name="Demo Shop", slug="demo-shop"
        )
        memberships = [member_add(organization=organization, username=u, password=p, role=r) for u, p, r in DEMO_USERS]
        channel = Channel.objects.filter(organization=organization, kind="sandbox").first()
        if channel is None:
            channel = channel_create(organization=organization, kind="sandbox", name="Sandbox")
        for membership in memberships:
            membership.channels.add(channel)
        call_command("signals_seed_demo")
        if not Conversation.objects.filter(channel=channel).exists():
            simulator_customer_writes(
                channel=channel,
                customer_id="siti",
                customer_name="Siti Rahma",
                text="Hi! Is the blue dress still available in size M?",
                referral={"ad_id": "ad-1001", "campaign_id": "spring-sale"},
            )
            simulator_customer_writes(
                channel=channel,
                customer_id="minh",
                customer_name="Nguyễn Minh",
                text="Can I pay by bank transfer? I want to order 2 pairs.",
            )
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<6} login: {username} / {password}")
        self.stdout.write(f"  customer simulator: /simulator/{channel.pk}/")
