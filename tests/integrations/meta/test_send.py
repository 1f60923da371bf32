"""What every Meta adapter's send inherits from GraphAdapter, against the fake Graph API on loopback: bearer
token, settings defaults, retries with backoff, timeouts and 5xx as retryable SendErrors.

Message bodies and each provider's Graph error codes: ``tests/integrations/<provider>/test_send.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations.channels.base import ChannelSecrets, OutboundMessage, SendError
from integrations.messenger.adapter import MessengerAdapter
from integrations.meta.adapter import GraphAdapter
from integrations.whatsapp.adapter import WhatsAppAdapter
from switchboard.http import RetryPolicy
from tests.integrations.meta.support import TOKEN, fast_adapter


@dataclass(frozen=True)
class Provider:
    adapter_class: type[GraphAdapter]
    account_id: str  # WhatsApp phone_number_id, Messenger page id
    customer_id: str
    id_prefix: str  # of the message id the fake Graph API answers with

    @property
    def secrets(self) -> ChannelSecrets:
        return ChannelSecrets(account_id=self.account_id, access_token=TOKEN)

    def hi(self) -> OutboundMessage:
        return OutboundMessage(customer_id=self.customer_id, text="hi")


PROVIDERS = {
    "whatsapp": Provider(WhatsAppAdapter, "106540352242922", "16505551234", "wamid."),
    "messenger": Provider(MessengerAdapter, "682498302938465", "6783451238412954", "m_"),
}

pytestmark = pytest.mark.parametrize("provider", list(PROVIDERS.values()), ids=list(PROVIDERS))


@pytest.fixture
def adapter(provider, graph_api, sleeps) -> GraphAdapter:
    return fast_adapter(provider.adapter_class, graph_api, sleeps)


@pytest.mark.parametrize("headers", [None, {"Retry-After": "0"}], ids=["no-retry-after", "retry-after-0"])
def test_429_then_success_is_retried(provider, adapter, graph_api, sleeps, headers):
    graph_api.fail_next(429, headers=headers)
    result = adapter.send(provider.secrets, provider.hi())
    assert result.external_id.startswith(provider.id_prefix)
    assert len(graph_api.requests) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_every_time_is_a_retryable_send_error(provider, adapter, graph_api, status):
    graph_api.fail_next(status, times=3)
    with pytest.raises(SendError, match=f"HTTP {status}") as caught:
        adapter.send(provider.secrets, provider.hi())
    assert caught.value.retryable is True
    assert len(graph_api.requests) == 3


def test_timeout_is_a_retryable_send_error(provider, graph_api):
    adapter = provider.adapter_class(base_url=graph_api.base_url, api_version="v21.0", timeout=0.05,
                                     retry=RetryPolicy(attempts=2, base_delay=0.0005, max_delay=0.001),
                                     sleep=lambda s: None)
    graph_api.delay_next(0.3, times=2)
    with pytest.raises(SendError, match="did not answer in time") as caught:
        adapter.send(provider.secrets, provider.hi())
    assert caught.value.retryable is True


def test_wrong_token_gets_401_and_the_token_reason(provider, adapter, graph_api):
    with pytest.raises(SendError, match="access token invalid or expired"):
        adapter.send(ChannelSecrets(account_id=provider.account_id, access_token="stale"), provider.hi())
    assert graph_api.requests[0].headers["authorization"] == "Bearer stale"


def test_defaults_come_from_settings(provider, graph_api, settings):
    settings.META_GRAPH_API_BASE = graph_api.base_url
    settings.META_GRAPH_API_VERSION = "v21.0"
    provider.adapter_class().send(provider.secrets, provider.hi())
    assert graph_api.requests[0].path == f"/v21.0/{provider.account_id}/messages"
