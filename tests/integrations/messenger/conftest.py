from __future__ import annotations

# Re-exported here so that pytest registers them for this package (and this package gets its own fake server).
from tests.integrations.meta.support import graph_api, graph_server, load_payload, sleeps  # noqa: F401
