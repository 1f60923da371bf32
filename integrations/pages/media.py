"""``/messages/<id>/media/``: a received attachment, streamed from the provider for a member who may see it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from integrations.channels.base import MediaError
from integrations.services import media as media_services

# Shown in the page itself (inline); anything else is a download, so a provider's HTML or SVG can never run
# as a page of Switchboard's origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
INLINE_PREFIXES = ("audio/", "video/")


def _safe_filename(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch.isalnum() or ch in "._- ")[:120].strip()
    return cleaned or "attachment"


@require_GET
@login_required
def message_media(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        index = int(request.GET.get("n", "0"))
    except ValueError:
        index = -1
    try:
        download = media_services.message_media_open(user=request.user, message_id=message_id, index=index)
    except media_services.MediaNotFound:
        return HttpResponse(_("This file is not available."), status=404, content_type="text/plain; charset=utf-8")
    except MediaError as exc:
        return HttpResponse(
            _("The provider could not deliver this file: %(reason)s") % {"reason": exc.reason},
            status=502,
            content_type="text/plain; charset=utf-8",
        )
    content_type = download.content_type.lower()
    inline = content_type in INLINE_TYPES or content_type.startswith(INLINE_PREFIXES)
    response = StreamingHttpResponse(download.chunks, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{_safe_filename(download.filename)}"'
    if download.size is not None:
        response["Content-Length"] = str(download.size)
    # The file is the customer's: the browser may keep it for this user only, shared caches never.
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
