"""signals.extract: tracking-ID extractors and pattern validation."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signals.extract import (
    DEFAULT_EXTRACTORS,
    MAX_TEXT_CHARS,
    Extractor,
    TrackingMatch,
    default_extractors,
    extract_tracking,
    extractors_from_data,
    validate_pattern,
)


def test_defaults_are_valid_data() -> None:
    extractors = default_extractors()
    assert [e.name for e in extractors] == [row["name"] for row in DEFAULT_EXTRACTORS]
    for row in DEFAULT_EXTRACTORS:
        if row["kind"] == "pattern":
            validate_pattern(row["pattern"])


def test_referral_beats_text() -> None:
    referral = {"source": "ctwa", "ad_id": "120208", "campaign_id": "555", "click_id": "ARAkLkA", "ref": ""}
    found = extract_tracking(referral, ["Hi! #TT-abc123XYZ"], default_extractors())
    assert found == TrackingMatch("referral_click_id", "ARAkLkA", "referral", ad_id="120208", campaign_id="555")


def test_first_referral_extractor_with_a_value_wins() -> None:
    referral = {"source": "messenger_ad", "ad_id": "987", "click_id": "", "ref": "summer"}
    assert extract_tracking(referral, [], default_extractors()) == TrackingMatch(
        "referral_ad_id", "987", "referral", ad_id="987"
    )
    referral = {"source": "messenger_ad", "ref": "summer"}
    assert extract_tracking(referral, [], default_extractors()).tracking_id == "summer"


def test_referral_data_field() -> None:
    extractors = [Extractor(name="wa_source_id", kind="referral", field="data.source_id")]
    referral = {"source": "ctwa", "data": {"source_id": "42", "source_type": "ad"}}
    assert extract_tracking(referral, [], extractors).tracking_id == "42"


def test_text_patterns_in_extractor_order_then_message_order() -> None:
    extractors = default_extractors()
    texts = ["Hello, I saw your ad [ref: spring-24]", "my code #TT-Q7x9Lm2P"]
    # text_hash_tt comes before text_bracket_ref in the defaults, so it wins although its message is later.
    assert extract_tracking(None, texts, extractors) == TrackingMatch("text_hash_tt", "Q7x9Lm2P", "text")
    assert extract_tracking({}, texts[:1], extractors).tracking_id == "spring-24"
    assert extract_tracking(None, ["https://shop.example/p?ttclid=E.C.P.abc123-XY"], extractors).tracking_id == (
        "E.C.P.abc123-XY"
    )
    assert extract_tracking(None, ["no token here", ""], extractors) is None
    assert extract_tracking(None, [], []) is None


def test_text_match_keeps_referral_ad_ids() -> None:
    found = extract_tracking({"source": "tiktok_ad", "campaign_id": "77"}, ["#TT-abcdef"], default_extractors())
    assert found == TrackingMatch("text_hash_tt", "abcdef", "text", campaign_id="77")


def test_pattern_without_group_returns_whole_match() -> None:
    extractors = [Extractor(name="whole", kind="pattern", pattern=r"TT\d{4}")]
    assert extract_tracking(None, ["code TT1234!"], extractors).tracking_id == "TT1234"


def test_text_is_capped() -> None:
    extractors = [Extractor(name="late", kind="pattern", pattern=r"#TT-(\w{6})")]
    late = "x" * MAX_TEXT_CHARS + " #TT-abcdef"
    assert extract_tracking(None, [late], extractors) is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty"),
        ("(abc", "Not a valid regular expression: missing ), unterminated subpattern at position 0"),
        ("(a)(b)", "2 capturing groups; use at most one"),
        (r"(a+)+$", "nested"),
        (r"(?:\w*x)*", "nested"),
        (r"(a|aa)+$", "alternation"),
        (r"(\w+)\1", "backreferences"),
        ("x" * 600, "limit is 500"),
    ],
)
def test_invalid_patterns_rejected_with_clear_messages(pattern: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError) as info:
        validate_pattern(pattern)
    assert time.perf_counter() - started < 1
    text = str(info.value)
    if message == "nested":
        assert "repeated group contains another variable quantifier" in text
    else:
        assert message in text


def test_polynomial_pattern_times_out_in_the_trial() -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match="takes too long"):
        validate_pattern(r"\w*\w*\w*\w*!")
    assert time.perf_counter() - started < 5


def test_safe_constructs_pass() -> None:
    for pattern in [r"(?i)\[ref:\s*([a-z0-9_-]{4,64})\]", r"(?:\d{3}-)+(\d+)", r"(?:a|b)c", r"(?>a+)+x", r"a++b"]:
        validate_pattern(pattern, trial=False)


def test_extractor_rows_validated() -> None:
    with pytest.raises(ValueError, match="unknown referral field 'nope'"):
        extractors_from_data([{"name": "x", "kind": "referral", "field": "nope"}])
    with pytest.raises(ValueError, match="Extractor 'bad': .*nesting"):
        extractors_from_data([{"name": "bad", "kind": "pattern", "pattern": "(a*)*"}])
    with pytest.raises(ValueError, match="kind must be"):
        extractors_from_data([{"name": "x", "kind": "magic"}])
    with pytest.raises(ValueError, match="needs a name"):
        Extractor(name="", kind="referral", field="ad_id")


@settings(max_examples=200, deadline=None)
@given(
    token=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", min_size=6, max_size=32),
    before=st.text(max_size=40),
    after=st.text(alphabet=" .,!?🙏ราคา", max_size=20),
)
def test_hash_token_found_anywhere_in_a_first_message(token: str, before: str, after: str) -> None:
    found = extract_tracking(None, [f"{before} #TT-{token}{after}"], default_extractors())
    assert found is not None
    assert found.source == "text"
    # An earlier #TT- token in the random prefix could win; otherwise it is ours.
    if "#TT-" not in before.upper() and "[REF:" not in before.upper() and "TTCLID" not in before.upper():
        assert found.tracking_id == token
