"""Hypothesis strategies shared by the Meta parser fuzz tests: random bytes, random JSON, and valid payloads with
one node anywhere replaced by a value of another type (or removed)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
# Values that are deliberately the wrong kind somewhere: huge/negative numbers, NaN, digit strings, nesting.
tricky_values = st.sampled_from([
    None, True, False, 0, -1, 10**30, -(10**30), 1e308, float("nan"), float("inf"), "", "0", "1e999", "-5",
    "١٢٣", "9" * 400, [], {}, [[]], {"": {}}, "wamid.X", "messages", "whatsapp_business_account", "page",
]) | json_values

_DELETE = object()


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) to every node below ``node``."""
    found: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def replaced(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``payload`` with the node at ``path`` set to ``value`` (or removed)."""
    result = copy.deepcopy(payload)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


@st.composite
def mutated_payloads(draw: st.DrawFn, payloads: list[Any]) -> bytes:
    """A documented payload with one to three nodes replaced by wrong-typed values or deleted."""
    payload = draw(st.sampled_from(payloads))
    for _ in range(draw(st.integers(1, 3))):
        candidates = paths(payload)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        payload = replaced(payload, path, draw(st.just(_DELETE) | tricky_values))
    return json.dumps(payload).encode()
