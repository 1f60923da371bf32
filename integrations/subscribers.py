"""Subscriptions of the integrations app to inbox domain events, and the channel rules it registers."""

from __future__ import annotations

from inbox import channel_rules, events


def enqueue_send(event: events.DomainEvent) -> None:
    message = event.payload["message"]
    if message["status"] == "queued" and message["direction"] == "outbound":
        from integrations.tasks import send_outbound

        send_outbound.delay(message["id"])


def register_channel_rules() -> None:
    from integrations.channels.registry import adapter_for, known_providers

    for kind in known_providers():
        capabilities = adapter_for(kind).capabilities
        channel_rules.register(
            kind,
            channel_rules.ChannelRules(
                reply_window=capabilities.reply_window,
                extended_window=capabilities.extended_window,
                max_business_messages_before_reply=capabilities.max_business_messages_before_reply,
                max_text_length=capabilities.max_text_length,
                templates=capabilities.templates,
            ),
        )
    from integrations.services.templates import approved_template_choices

    channel_rules.register_template_source(approved_template_choices)


def connect() -> None:
    events.subscribe("message.sent", enqueue_send, phase=events.AFTER_COMMIT)
    register_channel_rules()
