"""Secrets at rest: Fernet (AES-128-CBC + HMAC) with ``FIELD_ENCRYPTION_KEY``.

Several comma-separated keys rotate: the first encrypts, all of them decrypt.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key that is not configured any more."""


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(json.dumps(value).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretUnreadable("stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc


def mask(secret: str) -> str:
    """What the UI may show of a secret once saved: its last four characters."""
    if not secret:
        return ""
    return "•" * 8 + secret[-4:] if len(secret) > 8 else "•" * 8
