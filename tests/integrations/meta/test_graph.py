"""The Graph client: bearer auth, settings defaults, escaping, throttling codes retried like 429."""

from __future__ import annotations

import pytest

from integrations.meta.errors import GraphError
from integrations.meta.graph import GraphClient
from tests.integrations.meta.support import FAST_RETRY, TOKEN


def client(fake, sleeps, **kwargs) -> GraphClient:
    return GraphClient(TOKEN, base_url=fake.base_url, api_version="v21.0", timeout=2.0, retry=FAST_RETRY,
                       sleep=sleeps.append, **kwargs)


def test_defaults_come_from_settings(graph_api, settings):
    settings.META_GRAPH_API_BASE = graph_api.base_url
    settings.META_GRAPH_API_VERSION = "v99.0"
    graph_api.add_media("777", "https://lookaside.fbsbx.com/x", "image/png")
    with GraphClient(TOKEN) as graph:
        assert graph.get(graph.path("777"))["mime_type"] == "image/png"
    assert graph_api.requests[0].path == "/v99.0/777"
    assert graph_api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_ids_are_escaped_into_one_path_segment(graph_api, sleeps):
    with client(graph_api, sleeps) as graph:
        assert graph.path("1/../../me", "messages") == "/v21.0/1%2F..%2F..%2Fme/messages"


def test_throttling_code_on_http_400_is_retried(graph_api, sleeps):
    graph_api.fail_with_graph_error(130429, times=2)
    graph_api.add_media("1", "https://x", "image/jpeg")
    with client(graph_api, sleeps) as graph:
        assert graph.get(graph.path("1"))["url"] == "https://x"
    assert len(graph_api.requests) == 3
    assert len(sleeps) == 2


def test_permanent_graph_error_is_not_retried(graph_api, sleeps):
    graph_api.fail_with_graph_error(131047)
    with client(graph_api, sleeps) as graph, pytest.raises(GraphError) as caught:
        graph.post(graph.path("1", "messages"), {"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}})
    assert (caught.value.code, caught.value.status, caught.value.transient) == (131047, 400, False)
    assert len(graph_api.requests) == 1
    assert sleeps == []


def test_success_with_a_non_object_body_is_an_error(graph_api, sleeps):
    from tests.fakes.server import Reply

    graph_api.queue(Reply(status=200, body=[1, 2]))
    with client(graph_api, sleeps) as graph, pytest.raises(GraphError, match="not a JSON object"):
        graph.get(graph.path("1"))
