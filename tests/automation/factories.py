"""Automation test data: an organization with a sandbox channel and an admin, and rules made by the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inbox.automation.models import AutoReplyRule
from inbox.automation.services.rules import rule_create
from inbox.models import Channel, Organization, Role
from tests.factories import MembershipFactory, OrganizationFactory, make_channel


@dataclass
class Shop:
    organization: Organization
    channel: Channel
    admin: Any


def make_shop(time_zone: str = "UTC", kind: str = "sandbox", **channel_credentials: str) -> Shop:
    organization = OrganizationFactory(time_zone=time_zone)
    channel = make_channel(organization, kind=kind, name=kind.title(), **channel_credentials)
    admin = MembershipFactory(organization=organization, role=Role.ADMIN).user
    return Shop(organization, channel, admin)


def make_rule(
    shop: Shop,
    name: str = "Price",
    *,
    enabled: bool = True,
    reply: str | None = "Our prices: example.com",
    **fields: Any,
) -> AutoReplyRule:
    fields.setdefault("trigger", "keyword")
    if fields["trigger"] == "keyword":
        fields.setdefault("keywords", ["price"])
    if "actions" not in fields:
        fields["actions"] = [{"type": "send_reply", "text": reply}]
    return rule_create(user=shop.admin, organization=shop.organization, name=name, enabled=enabled, **fields)
