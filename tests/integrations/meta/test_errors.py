"""Graph error codes -> the reasons agents read, and retryability."""

from __future__ import annotations

import pytest

from integrations.meta.errors import GraphError, graph_error_from_body, send_error
from tests.fakes.graph import graph_error


@pytest.mark.parametrize(
    ("code", "subcode", "reason", "retryable"),
    [
        (131047, None, "outside the 24-hour window", False),
        (10, 2018278, "outside the 24-hour window", False),
        (10, 2018065, "outside the 24-hour window", False),
        (130429, None, "sending too fast", True),
        (131056, None, "sending too fast", True),
        (80007, None, "sending too fast", True),
        (613, None, "sending too fast", True),
        (4, None, "sending too fast", True),
        (131026, None, "recipient unavailable", False),
        (551, None, "recipient unavailable", False),
        (551, 1545041, "recipient unavailable", False),
        (190, None, "access token invalid or expired", False),
    ],
)
def test_known_codes_map_to_agent_reasons(code, subcode, reason, retryable):
    error = send_error(graph_error_from_body(graph_error(code, subcode=subcode), status=400))
    assert (error.reason, error.retryable, error.code) == (reason, retryable, str(code))


def test_code_10_without_subcode_but_window_message_is_outside_window():
    body = graph_error(10, "(#10) This message is sent outside of allowed window. Learn more...")
    assert send_error(graph_error_from_body(body, status=400)).reason == "outside the 24-hour window"


def test_unknown_code_keeps_code_and_details():
    body = graph_error(131009, "(#131009) Parameter value is not valid", details="to is not a valid phone number")
    error = send_error(graph_error_from_body(body, status=400))
    assert error.reason == "provider error 131009: to is not a valid phone number"
    assert error.retryable is False


def test_temporary_graph_error_is_retryable():
    error = send_error(graph_error_from_body(graph_error(2, "An unexpected error has occurred."), status=500))
    assert error.retryable is True
    assert error.reason == "provider error 2: An unexpected error has occurred."


@pytest.mark.parametrize("body", [None, "oops", {"error": "scripted"}, {"error": {"code": "x"}}, [1, 2]])
def test_bodies_of_any_shape_become_an_error(body):
    error = graph_error_from_body(body, status=502, transient=True, fallback="the provider answered HTTP 502")
    assert isinstance(error, GraphError)
    mapped = send_error(error)
    assert mapped.retryable is True
    assert mapped.reason
