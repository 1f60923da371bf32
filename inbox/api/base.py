"""What every inbox API view shares: Django's errors become clear 400/403/404 answers, never a 500."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import permissions, selectors
from inbox.filters import MAX_ID
from inbox.models import Conversation, Membership

READ = ["conversations:read"]
WRITE = ["conversations:write"]
# Third-party apps (OAuth tokens) may read conversations and change them; agent-only views declare nothing.
CONVERSATION_SCOPES = {"GET": READ, "POST": WRITE, "PATCH": WRITE, "PUT": WRITE, "DELETE": WRITE}
# What POST /api/v1/conversations/bulk/ can do (the schema's BulkActionEnum, see SPECTACULAR_SETTINGS).
BULK_ACTIONS = ("status", "assign", "priority", "label", "unlabel")


class InboxAPIView(APIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Views read ``request.data.get(...)``: a JSON array or scalar body is a 400, not an AttributeError (500).
        if request.method in ("POST", "PUT", "PATCH") and not isinstance(request.data, dict):
            raise ValidationError({"detail": ["The request body must be a JSON object."]})

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError({"detail": exc.messages})
        elif isinstance(exc, DjangoPermissionDenied):
            exc = PermissionDenied(str(exc) or "You may not do this.")
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Issue 5: without ``see_contact_pii`` no phone number or email typed in a message, note or preview leaves.
        if isinstance(response, Response) and response.data is not None:
            organization = getattr(request, "oauth_organization_id", None)
            if not permissions.can_see_contact_pii(request.user, organization):
                response.data = permissions.mask_payload_pii(response.data)
        return response

    def membership(self, request: Request) -> Membership:
        # An OAuth token is granted for one organization; other callers act in their first one.
        membership = permissions.active_membership(request.user, getattr(request, "oauth_organization_id", None))
        if membership is None:
            raise PermissionDenied("You are not a member of any organization.")
        return membership


def get_conversation(request: Request, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise NotFound("No such conversation.") from exc


def get_object(model: type, request: Request, pk: Any, organization_id: int, label: str) -> Any:
    """An organization-scoped row by primary key, 404 (never another organization's row)."""
    try:
        return model.objects.get(pk=int(pk), organization_id=organization_id)
    except (model.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound(f"No such {label}.") from exc


def fits_bigint(value: Any) -> bool:
    """An integer the database can compare with an id: a larger one cannot even be sent to it (an OverflowError,
    a 500 instead of this 400)."""
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_ID - 1 <= value <= MAX_ID


def int_list(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(fits_bigint(v) for v in value):
        raise ValidationError({name: "expected a list of integer ids"})
    return value


def optional_int(data: Any, name: str) -> int | None:
    value = data.get(name)
    if value is None or fits_bigint(value):
        return value
    raise ValidationError({name: "expected an integer id or null"})


def filter_param(request: Request) -> Any:
    """The ``filter`` query parameter (a JSON document), or a plain ``status`` for older clients."""
    raw = request.query_params.get("filter")
    if raw:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValidationError({"filter": f"not valid JSON ({exc})"}) from exc
    status = request.query_params.get("status")
    return {"status": status} if status else {}
