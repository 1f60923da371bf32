"""Reads for automation: rule lists with statistics, run logs, business hours, and a message's context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from inbox import permissions
from inbox.automation import inbox_bridge
from inbox.automation.conditions import MessageContext, is_open, zone
from inbox.automation.models import AutoReplyRule, BusinessHours, RuleRun
from inbox.models import Channel, Conversation, Membership, Message, Organization


def manager_membership(user: Any) -> Membership:
    """The membership of a user who may manage automation (owner or admin); ``PermissionDenied`` otherwise."""
    membership = permissions.active_membership(user)
    if membership is None or not permissions.can_manage_channels(user, membership.organization_id):
        raise PermissionDenied("Only owners and admins can manage auto-replies.")
    return membership


@dataclass(frozen=True)
class RuleRow:
    rule: AutoReplyRule
    fired_7d: int


def rule_list(*, organization: Organization) -> list[RuleRow]:
    """Every rule of the organization in priority order, with how often it fired in the last 7 days."""
    since = timezone.now() - timedelta(days=7)
    rules = (
        AutoReplyRule.objects.filter(organization=organization)
        .select_related("current_version")
        .annotate(fired_7d=Count("runs", filter=Q(runs__created_at__gte=since)))
        .order_by("position", "id")
    )
    return [RuleRow(rule, rule.fired_7d) for rule in rules]


def rule_get(*, organization: Organization, rule_id: int) -> AutoReplyRule:
    return AutoReplyRule.objects.select_related("current_version").get(organization=organization, pk=rule_id)


def rule_runs(*, rule: AutoReplyRule, limit: int = 50) -> QuerySet[RuleRun]:
    return rule.runs.select_related("version", "conversation").order_by("-created_at", "-id")[:limit]


def business_hours_of(organization_id: int) -> BusinessHours | None:
    return BusinessHours.objects.filter(organization_id=organization_id).first()


def local_time(organization: Organization, at: datetime | None = None) -> datetime:
    return (at or timezone.now()).astimezone(zone(organization.time_zone))


def business_open(organization: Organization, at: datetime | None = None, hours: BusinessHours | None = None) -> bool:
    hours = hours if hours is not None else business_hours_of(organization.pk)
    if hours is None:
        return True
    return is_open(hours.weekly, hours.holidays, local_time(organization, at))


def message_context(*, conversation: Conversation, message: Message | None, at: datetime) -> MessageContext:
    """What the conditions see for this conversation at ``at`` (the message's arrival, or now for sweeps)."""
    organization = conversation.organization
    first = False
    if message is not None:
        first = not conversation.messages.filter(direction=Message.Direction.INBOUND, id__lt=message.pk).exists()
    returning = (
        Conversation.objects.filter(contact_id=conversation.contact_id, created_at__lt=conversation.created_at)
        .exclude(pk=conversation.pk)
        .exists()
    )
    return MessageContext(
        channel_id=conversation.channel_id,
        channel_kind=conversation.channel.kind,
        local_time=local_time(organization, at),
        business_open=business_open(organization, at),
        status=conversation.status,
        assigned=conversation.assignee_id is not None,
        labels=inbox_bridge.conversation_label_names(conversation),
        returning_contact=returning,
        has_tracking_id=bool(conversation.tracking_id),
        first_message=first,
    )


def sandbox_context(
    *,
    organization: Organization,
    channel: Channel | None,
    at: datetime,
    first_message: bool,
    returning_contact: bool = False,
    assigned: bool = False,
    has_tracking_id: bool = False,
    labels: frozenset[str] | None = None,
    status: str = "open",
) -> MessageContext:
    """A context for a message typed into the sandbox: the admin picks channel, time and the conversation facts."""
    return MessageContext(
        channel_id=channel.pk if channel else None,
        channel_kind=channel.kind if channel else "sandbox",
        local_time=local_time(organization, at),
        business_open=business_open(organization, at),
        status=status,
        assigned=assigned,
        labels=labels if labels is not None else frozenset(),
        returning_contact=returning_contact,
        has_tracking_id=has_tracking_id,
        first_message=first_message,
    )


def inbound_messages_since(*, organization: Organization, days: int, limit: int) -> QuerySet[Message]:
    """Customer messages of the last ``days`` days, newest first (the back-test's input)."""
    since = timezone.now() - timedelta(days=days)
    return (
        Message.objects.filter(
            conversation__organization=organization,
            direction=Message.Direction.INBOUND,
            sender_type=Message.SenderType.CONTACT,
            created_at__gte=since,
        )
        .select_related("conversation__channel", "conversation__organization")
        .order_by("-created_at", "-id")[:limit]
    )
