"""verify_request(): Tiktok-Signature "t=<seconds>,s=<hex HMAC-SHA256 of '<t>.<raw body>'>"."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from integrations.channels.base import ChannelSecrets, HandshakeRefused, SignatureInvalid, WebhookRequest
from integrations.tiktok.adapter import TikTokAdapter
from integrations.tiktok.signature import sign

from .conftest import CLIENT_SECRET, payload_bytes

NOW = 1_763_900_000
BODY = payload_bytes("im_receive_msg_text.json")


def request(body: bytes = BODY, header: str | None = None) -> WebhookRequest:
    headers = {} if header is None else {"tiktok-signature": header}
    return WebhookRequest(method="POST", body=body, headers=headers)


def adapter(now: float = NOW) -> TikTokAdapter:
    return TikTokAdapter(signature_tolerance=300, clock=lambda: now)


def test_sign_matches_the_documented_construction():
    digest = hmac.new(CLIENT_SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(BODY, CLIENT_SECRET, NOW) == f"t={NOW},s={digest}"


def test_valid_signature_passes(secrets: ChannelSecrets):
    adapter().verify_request(request(header=sign(BODY, CLIENT_SECRET, NOW)), secrets)


def test_valid_signature_within_tolerance_passes(secrets: ChannelSecrets):
    adapter(now=NOW + 299).verify_request(request(header=sign(BODY, CLIENT_SECRET, NOW)), secrets)


def test_header_with_spaces_passes(secrets: ChannelSecrets):
    t_part, s_part = sign(BODY, CLIENT_SECRET, NOW).split(",")
    adapter().verify_request(request(header=f" {t_part} , {s_part} "), secrets)


def test_tampered_body_is_refused(secrets: ChannelSecrets):
    tampered = BODY.replace(b"blue jacket", b"red jacket!")
    with pytest.raises(SignatureInvalid, match="mismatch"):
        adapter().verify_request(request(body=tampered, header=sign(BODY, CLIENT_SECRET, NOW)), secrets)


def test_wrong_secret_is_refused(secrets: ChannelSecrets):
    with pytest.raises(SignatureInvalid, match="mismatch"):
        adapter().verify_request(request(header=sign(BODY, "someone-elses-secret", NOW)), secrets)


def test_timestamp_swapped_after_signing_is_refused(secrets: ChannelSecrets):
    signature = sign(BODY, CLIENT_SECRET, NOW - 3600).split(",")[1]
    with pytest.raises(SignatureInvalid, match="mismatch"):
        adapter().verify_request(request(header=f"t={NOW},{signature}"), secrets)


def test_stale_timestamp_is_refused(secrets: ChannelSecrets):
    with pytest.raises(SignatureInvalid, match="stale"):
        adapter(now=NOW + 301).verify_request(request(header=sign(BODY, CLIENT_SECRET, NOW)), secrets)


def test_future_timestamp_is_refused(secrets: ChannelSecrets):
    with pytest.raises(SignatureInvalid, match="future"):
        adapter(now=NOW - 301).verify_request(request(header=sign(BODY, CLIENT_SECRET, NOW)), secrets)


def test_missing_header_is_refused(secrets: ChannelSecrets):
    with pytest.raises(SignatureInvalid, match="missing"):
        adapter().verify_request(request(header=None), secrets)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=,s=abc",
        f"t={NOW}",
        "s=" + "a" * 64,
        f"t=soon,s={'a' * 64}",
        f"t={NOW},s=not-hex-{'z' * 56}",
        f"t={NOW},s={'a' * 63}",
        f"t=-{NOW},s={'a' * 64}",
    ],
)
def test_malformed_header_is_refused(secrets: ChannelSecrets, header: str):
    with pytest.raises(SignatureInvalid, match="malformed"):
        adapter().verify_request(request(header=header), secrets)


def test_channel_without_secret_fails_closed():
    with pytest.raises(SignatureInvalid, match="no TikTok client secret"):
        adapter().verify_request(request(header=sign(BODY, "", NOW)), ChannelSecrets(account_id="b"))


def test_tolerance_defaults_to_the_setting(settings, secrets: ChannelSecrets):
    settings.TIKTOK_SIGNATURE_TOLERANCE_SECONDS = 10
    lenient_clock = TikTokAdapter(clock=lambda: NOW + 11)

    with pytest.raises(SignatureInvalid, match="stale"):
        lenient_clock.verify_request(request(header=sign(BODY, CLIENT_SECRET, NOW)), secrets)


def test_there_is_no_get_handshake(secrets: ChannelSecrets):
    with pytest.raises(HandshakeRefused, match="TikTok does not use a GET handshake"):
        adapter().verification_challenge(WebhookRequest(method="GET", body=b"", headers={}), secrets)
