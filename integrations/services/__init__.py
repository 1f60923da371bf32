"""Integrations services: webhooks in, messages out, channels and their credentials."""
