"""The channel layer's Redis connections outlast its own blocking receive.

channels-redis waits for a consumer's next message with ``BZPOPMIN`` for ``brpop_timeout`` (5 s); redis-py 8
reads with a 5 s socket timeout by default. Equal timeouts race: under load the empty answer arrives a little
late, the read times out and the agent's websocket is closed with 1011 (found by bench/load.py).
"""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels_redis.utils import create_pool

pytestmark = [pytest.mark.services]


def test_channel_layer_reads_longer_than_it_blocks():
    layer = get_channel_layer()
    for host in layer.hosts:
        timeout = create_pool(host).make_connection().socket_timeout  # redis-py's default when not configured
        assert timeout is None or timeout > layer.brpop_timeout + 5, timeout
