"""The inbox API's OpenAPI schema: generated without warnings, every operation documented, and it tells the truth.

The inbox views answer with the selectors' dicts, and the schema describes them with serializers of their own
(inbox/api/schema.py); the last tests call the real endpoints and validate their answers against the schema, so
a field added to (or dropped from) a dict without the schema fails here.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from inbox.models import ConversationLabel, Role
from inbox.services.notes import note_add
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import CannedReplyFactory, LabelFactory, SavedViewFactory, member

pytestmark = [pytest.mark.core]

INBOX_PREFIXES = (
    "/api/v1/conversations/",
    "/api/v1/labels/",
    "/api/v1/canned-replies/",
    "/api/v1/views/",
    "/api/v1/search/",
    "/api/v1/events/",
    "/api/v1/notifications/",
    "/api/v1/directory/",
)
# The choice-field names of the inbox's schemas: a collision on one of them makes drf-spectacular invent names.
INBOX_ENUM_FIELDS = ("status", "kind", "priority", "action", "role", "channel_kind", "direction", "sender_type")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, Any], list[str]]:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, problems


def inbox_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        if path.startswith(INBOX_PREFIXES)
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_the_inbox_api_generates_without_warnings_or_errors(generated):
    schema, problems = generated
    ours = [p for p in problems if "inbox/api" in p or any(prefix.rstrip("/") in p for prefix in INBOX_PREFIXES)]
    assert ours == []
    ids = [operation["operationId"] for _, _, operation in inbox_operations(schema)]
    assert not [p for p in problems if "operationId" in p and any(i in p for i in ids)]
    enum_collisions = [
        p
        for p in problems
        if ("enum naming" in p or "same choice set" in p) and any(f'"{f}"' in p for f in INBOX_ENUM_FIELDS)
    ]
    assert enum_collisions == []


def test_every_inbox_operation_has_a_response_schema_a_tag_and_its_own_operation_id(generated):
    schema, _ = generated
    operations = inbox_operations(schema)
    conversation_paths = {path for path, _, _ in operations if path.startswith("/api/v1/conversations/")}
    assert len(conversation_paths) == 8
    for path, method, operation in operations:
        successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        assert successes, f"{method.upper()} {path} documents no success response"
        for code, answer in successes.items():
            if code == "204":
                assert "content" not in answer
            else:
                assert answer["content"]["application/json"]["schema"], f"{method.upper()} {path} has no schema"
        assert operation.get("tags") and operation["tags"] != ["v1"], f"{method.upper()} {path} has no tag"
        if method in ("post", "patch", "put"):
            assert "requestBody" in operation or path.endswith("/read/"), f"{method.upper()} {path} has no body"
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    assert not any(i[-1].isdigit() for i in ids)  # drf-spectacular's numeral suffixes for collisions


def test_the_query_parameters_and_label_paths_are_documented(generated):
    schema, _ = generated
    paths = schema["paths"]

    def query(path: str, method: str = "get") -> set[str]:
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "query"}

    assert {"filter", "cursor", "limit", "ids", "status"} <= query("/api/v1/conversations/")
    assert query("/api/v1/conversations/{conversation_id}/messages/") == {"after"}
    assert query("/api/v1/search/") == {"q"} and query("/api/v1/events/") == {"since"}
    assert query("/api/v1/canned-replies/{canned_id}/render/") == {"conversation"}
    # One view serves both label paths: each documents only the method that works on it.
    assert set(paths["/api/v1/conversations/{conversation_id}/labels/"]) - {"parameters"} == {"post"}
    assert set(paths["/api/v1/conversations/{conversation_id}/labels/{label_id}/"]) - {"parameters"} == {"delete"}
    assert paths["/api/v1/conversations/{conversation_id}/read/"]["post"]["responses"]["204"]
    composer = schema["components"]["schemas"]["Composer"]["properties"]
    assert {"can_send", "window_closes_at", "remaining_messages"} <= set(composer)


# --- the answers match the schema ------------------------------------------------------------------------------


def strict(fragment: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null alternative; documented objects allow no extra keys."""
    if isinstance(fragment, list):
        return [strict(item) for item in fragment]
    if not isinstance(fragment, dict):
        return fragment
    fragment = {key: strict(value) for key, value in fragment.items()}
    if fragment.pop("nullable", False):
        fragment = {"anyOf": [fragment, {"type": "null"}]}
    elif "properties" in fragment and "additionalProperties" not in fragment:
        fragment["additionalProperties"] = False
    return fragment


def check(schema: dict[str, Any], path: str, method: str, response: Any) -> None:
    """Validate a real answer against what the schema documents for that path, method and status code."""
    operation = schema["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]
    document = {
        "components": strict(copy.deepcopy(schema["components"])),
        **strict(documented["content"]["application/json"]["schema"]),
    }
    jsonschema.validate(response.json(), document)


@pytest.fixture
def world():
    org = OrganizationFactory()
    channel = make_channel(org)
    agent = member(org, Role.ADMIN, channels=[channel], username="ana")
    client = APIClient()
    client.force_authenticate(agent)
    conversation = make_conversation(channel, "c1", name="Dewi")
    label = LabelFactory(organization=org, name="vip")
    ConversationLabel.objects.create(conversation=conversation, label=label)
    MessageFactory(conversation=conversation, body="Do you ship batik to Bandung?")
    return {"org": org, "agent": agent, "client": client, "conversation": conversation, "label": label}


@pytest.mark.django_db
def test_the_conversation_answers_match_the_schema(generated, world):
    schema, _ = generated
    client, conversation, label = world["client"], world["conversation"], world["label"]
    base = "/api/v1/conversations/{conversation_id}/"
    url = f"/api/v1/conversations/{conversation.pk}/"

    check(schema, "/api/v1/conversations/", "get", client.get("/api/v1/conversations/", {"limit": 1}))
    check(schema, base, "get", client.get(url))
    check(schema, base, "patch", client.patch(url, {"priority": "high", "assignee_id": None}, format="json"))
    check(schema, base + "messages/", "get", client.get(url + "messages/"))
    replied = client.post(url + "messages/", {"body": "Yes we do", "after_message_id": 0}, format="json")
    assert replied.status_code == 201 and "warning" in replied.json()
    check(schema, base + "messages/", "post", replied)
    check(schema, base + "notes/", "post", client.post(url + "notes/", {"body": "VIP @ana"}, format="json"))
    check(schema, base + "notes/", "get", client.get(url + "notes/"))
    check(schema, base + "labels/{label_id}/", "delete", client.delete(url + f"labels/{label.pk}/"))
    check(schema, base + "labels/", "post", client.post(url + "labels/", {"label_id": label.pk}, format="json"))
    bulk = client.post(
        "/api/v1/conversations/bulk/",
        {"ids": [conversation.pk], "action": "status", "status": "pending"},
        format="json",
    )
    check(schema, "/api/v1/conversations/bulk/", "post", bulk)
    assert client.post(url + "read/").status_code == 204


@pytest.mark.django_db
def test_the_workspace_answers_match_the_schema(generated, world):
    schema, _ = generated
    client, org, agent, conversation = world["client"], world["org"], world["agent"], world["conversation"]
    canned = CannedReplyFactory(organization=org, created_by=agent)
    SavedViewFactory(organization=org, owner=agent, filters={"status": ["open"]})
    colleague = member(org, Role.AGENT, channels=[conversation.channel], username="budi")
    note_add(user=colleague, conversation=conversation, body="@ana have a look")

    check(schema, "/api/v1/labels/", "get", client.get("/api/v1/labels/"))
    check(schema, "/api/v1/labels/", "post", client.post("/api/v1/labels/", {"name": "new"}, format="json"))
    check(schema, "/api/v1/canned-replies/", "get", client.get("/api/v1/canned-replies/"))
    rendered = client.get(f"/api/v1/canned-replies/{canned.pk}/render/", {"conversation": conversation.pk})
    check(schema, "/api/v1/canned-replies/{canned_id}/render/", "get", rendered)
    check(schema, "/api/v1/views/", "get", client.get("/api/v1/views/"))
    check(schema, "/api/v1/views/counts/", "get", client.get("/api/v1/views/counts/"))
    found = client.get("/api/v1/search/", {"q": "Dewi"})
    assert found.json()["contacts"]
    check(schema, "/api/v1/search/", "get", found)
    batik = client.get("/api/v1/search/", {"q": "batik"})
    assert batik.json()["messages"]
    check(schema, "/api/v1/search/", "get", batik)
    events = client.get("/api/v1/events/")
    check(schema, "/api/v1/events/", "get", events)
    notifications = client.get("/api/v1/notifications/")
    assert notifications.json()["results"]
    check(schema, "/api/v1/notifications/", "get", notifications)
    check(schema, "/api/v1/notifications/", "post", client.post("/api/v1/notifications/", {}, format="json"))
    check(schema, "/api/v1/directory/", "get", client.get("/api/v1/directory/"))
