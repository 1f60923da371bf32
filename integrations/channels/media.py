"""Downloading a received media file from a provider's short-lived URL, streamed, never stored.

Shared by the adapters: each one finds the URL its own way (Graph ``GET /{media-id}``, a Messenger CDN link,
TikTok's download endpoint) and the headers the URL wants, then opens the download here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import httpx

from integrations.channels.base import MediaDownload, MediaError

CHUNK_SIZE = 64 * 1024


def open_download(url: str, *, headers: Mapping[str, str], timeout: float, filename: str = "") -> MediaDownload:
    """Start downloading ``url`` and return it as chunks, or raise :class:`MediaError` before any byte is sent.

    The status is checked first, so the caller can still answer 404/502 instead of a broken body. No retries:
    an agent waiting for a picture would rather click again than wait for a backoff.
    """
    if not url.startswith(("https://", "http://")):
        raise MediaError("the provider gave no usable download address")
    client = httpx.Client(timeout=timeout, follow_redirects=True)
    try:
        response = client.send(client.build_request("GET", url, headers=dict(headers)), stream=True)
    except httpx.TimeoutException as exc:
        client.close()
        raise MediaError("the provider did not answer in time", retryable=True) from exc
    except httpx.HTTPError as exc:
        client.close()
        raise MediaError(f"could not reach the provider ({exc.__class__.__name__})", retryable=True) from exc
    if response.status_code != 200:
        response.close()
        client.close()
        status = response.status_code
        raise MediaError(
            f"the provider answered HTTP {status} for the file",
            code=str(status),
            retryable=status == 429 or status >= 500,
            not_found=status in (403, 404, 410),
        )

    def close() -> None:
        response.close()
        client.close()

    def chunks() -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(CHUNK_SIZE)
        finally:
            close()

    length = response.headers.get("content-length")
    return MediaDownload(
        content_type=response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        or "application/octet-stream",
        chunks=chunks(),
        close=close,
        filename=filename,
        size=int(length) if length and length.isdigit() else None,
    )
