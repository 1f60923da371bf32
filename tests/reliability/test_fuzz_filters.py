"""Fuzzing the filter language: any document compiles or raises ``FilterError``, and a compiled one runs.

Documents are built from the real vocabulary (every condition, ``and``/``or``/``not``) with values of every
JSON type, huge numbers and odd strings, plus raw JSON text and bytes. A compiled filter is also executed
against the database, so a value that validates but breaks the query (an id past the integer range) is found
too. ``RELIABILITY_LONG=1`` runs 100,000 examples.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.filters import FilterContext, FilterError, compile_filter, registered_conditions
from inbox.models import Conversation
from tests.factories import MembershipFactory
from tests.integrations.meta.strategies import json_values, tricky_values
from tests.reliability.conftest import FUZZ_EXAMPLES

pytestmark = [pytest.mark.django_db, pytest.mark.core]

ODD = st.sampled_from([
    "me", "mine", "nobody", "someone", "open", "resolved", "today", "-1d", "2026-13-45", "1970-01-01T00:00:00",
    "9999-12-31", 2**31, 2**63, -(2**63), 10**30, 1.5, "1", "", " ", "\x00", "%", "_", "'; DROP TABLE x;--",
    {"any": [1]}, {"all": [10**30]}, {"none": "x"}, {"from": "2026-01-01", "to": "2025-01-01"}, {"gte": 1},
])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> dict:
    keys = sorted(registered_conditions()) + ["and", "or", "not", "unknown", ""]
    document = {}
    for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        if key in ("and", "or") and depth < 3:
            document[key] = draw(st.lists(documents(depth + 1), max_size=3) | tricky_values)
        elif key == "not" and depth < 3:
            document[key] = draw(documents(depth + 1) | tricky_values)
        else:
            document[key] = draw(ODD | tricky_values | st.lists(ODD | st.integers(), max_size=4))
    return document


inputs = documents() | json_values | st.text(max_size=80) | st.binary(max_size=40) | documents().map(
    lambda d: __import__("json").dumps(d, default=str))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
@given(document=inputs)
def test_any_document_compiles_and_runs_or_raises_filter_error(document, django_user_model):
    user = _user()
    context = FilterContext(user=user, organization_id=1)
    try:
        q = compile_filter(document, context=context)
    except FilterError as error:
        assert str(error)  # names the offending path
        return
    Conversation.objects.filter(q).exists()  # a validated filter must also run


_cached = {}


def _user():
    if "user" not in _cached or not type(_cached["user"]).objects.filter(pk=_cached["user"].pk).exists():
        _cached["user"] = MembershipFactory(user__password=None).user
    return _cached["user"]
