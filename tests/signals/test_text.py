"""signals.text: normalization, its fast paths, offsets and the script predicates."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from signals.text import (
    _normalize_reference,
    _normalize_word,
    is_spaceless_script,
    is_word_char,
    normalize,
    normalize_with_offsets,
)

# Mixed scripts, decomposed accents, Hangul jamo, kana voicing marks, Thai marks, full-width and invisibles.
ALPHABET = (
    "abcXYZ019 \t\n\u00a0-_#?!.,ßİıſﬁ"
    "áéÉệđĐøŁ\u0301\u0302\u0323\u0308"
    "ΑΆάσςΣёЁй"
    "ราคาเท่าไหร่ส่งฟรี\u0e33\u0e48\u0e38"
    "価格注文がｶﾞ\u3099ｐａｙＭＥＮＴ"
    "결제\u1100\u1161\u11a8"
    "नमस्ते\u093c"
    "مرحبا\u064b"
    "🙂🔥❤\ufe0f\u200d\u200b\u00ad\ufeff"
)
texts = st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=20)


def test_width_case_and_diacritics() -> None:
    assert normalize("ｐａｙｍｅｎｔ") == "payment"
    assert normalize("PAYMENT") == "payment"
    assert normalize("páyment") == "payment"
    assert normalize("pa\u0301yment") == "payment"  # decomposed accent
    assert normalize("Straße") == "strasse"
    assert normalize("Thanh Toán  ĐƠN\tHÀNG") == "thanh toan don hang"
    assert normalize("Ёлка") == "елка"
    assert normalize("Άλφα") == "αλφα"


def test_marks_kept_where_they_carry_meaning() -> None:
    assert normalize("ไม่") == "ไม่"  # Thai tone mark kept
    assert normalize("नमस्ते") == "नमस्ते"  # Devanagari virama and vowel signs kept
    assert normalize("مَرحبا") == "مَرحبا"  # Arabic harakat kept
    assert normalize("ｶﾞ") == "ガ"  # half-width kana with voicing mark -> one full-width character


def test_whitespace_and_invisibles() -> None:
    assert normalize("  cash \u00a0 on\n\ndelivery  ") == "cash on delivery"
    assert normalize("pay\u200bment") == "payment"
    assert normalize("pay\u00adment") == "payment"
    assert normalize("") == ""
    assert normalize(" \t\n") == ""


def test_script_predicates() -> None:
    for ch in "ราລາကក価ひカ결":
        assert is_spaceless_script(ch), ch
    for ch in "aéжα1 -ب":
        assert not is_spaceless_script(ch), ch
    for ch in "aé1ж\u0e48\u0301٣":
        assert is_word_char(ch), ch
    for ch in " _-#?🙂":
        assert not is_word_char(ch), ch


def test_every_code_point_is_idempotent_and_matches_the_reference() -> None:
    for cp in range(0x30000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        once = normalize(ch)
        assert normalize(once) == once, hex(cp)
        assert once == _normalize_reference(ch), hex(cp)


@settings(max_examples=500)
@given(texts)
def test_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=500)
@given(texts)
def test_fast_paths_equal_the_definition(text: str) -> None:
    assert normalize(text) == _normalize_reference(text)


@settings(max_examples=300)
@given(texts)
def test_offsets_point_back_into_the_original(text: str) -> None:
    normalized, starts, ends = normalize_with_offsets(text)
    assert normalized == normalize(text)
    assert len(starts) == len(ends) == len(normalized)
    for j, ch in enumerate(normalized):
        assert 0 <= starts[j] < ends[j] <= len(text)
        if ch != " ":
            # The original span, normalized on its own, produces this character.
            assert ch in normalize(text[starts[j] : ends[j]]) or ch in _normalize_reference(
                unicodedata.normalize("NFKC", text[starts[j] : ends[j]])
            )
    assert starts == sorted(starts)


def test_offsets_examples() -> None:
    text = "Hi  ＰＡＹＭＥＮＴ Straße"
    normalized, starts, ends = normalize_with_offsets(text)
    assert normalized == "hi payment strasse"
    a = normalized.index("payment")
    assert text[starts[a] : ends[a + len("payment") - 1]] == "ＰＡＹＭＥＮＴ"
    b = normalized.index("strasse")
    assert text[starts[b] : ends[b + len("strasse") - 1]] == "Straße"
    normalized, starts, ends = normalize_with_offsets("ca\u0301fe\u0301!")
    assert normalized == "cafe!"
    assert (starts[1], ends[1]) == (1, 3)  # "a" comes from "a" + combining acute


# --- the word-by-word path of normalize (word cache) and the run-by-run fold ------------------------------------

WHITESPACE = [chr(cp) for cp in range(0x110000) if chr(cp).isspace()]
# Characters that interact with their neighbours under normalization, to put next to every kind of whitespace.
NEIGHBOURS = ["a", "\u0301", "\u0308", "\u00a8", "\u1100", "\u1161", "\u11a8", "\u3099", "ｶ", "ﾞ", "\u200b",
              "\u00ad", "ß", "İ", "\u0e33", "\u0e48", "🙂", "\ufe0f", "\u200d", "\u00a0"]  # fmt: skip
words = st.text(alphabet=ALPHABET.replace(" ", "").replace("\t", "").replace("\n", ""), max_size=8)
spaced_texts = st.lists(
    st.tuples(words, st.sampled_from(WHITESPACE), st.integers(min_value=1, max_value=3)), max_size=8
).map(lambda parts: "".join(w + s * n for w, s, n in parts))


def test_ascii_fast_path_equals_the_definition_for_every_character_in_every_position() -> None:
    for ch in map(chr, range(128)):
        for text in (ch, f"a{ch}b", f"{ch}ab", f"ab{ch}", f"a{ch}{ch}b", f"A {ch} B", f"{ch} {ch}"):
            assert normalize(text) == _normalize_reference(text), repr(text)


def test_normalization_never_reaches_across_whitespace() -> None:
    """Why normalize may work word by word: for every whitespace character and every neighbour that composes,
    reorders or disappears, the whole text and the words on their own agree with the definition."""
    for space in WHITESPACE:
        for before in NEIGHBOURS:
            for after in NEIGHBOURS:
                text = before + space + after
                assert normalize(text) == _normalize_reference(text), (hex(ord(space)), before, after)


@settings(max_examples=500)
@given(spaced_texts)
def test_word_cache_path_equals_the_definition(text: str) -> None:
    expected = _normalize_reference(text)
    assert normalize(text) == expected
    assert normalize(text) == expected  # the second time every short word comes from the cache


@settings(max_examples=300)
@given(texts)
def test_run_by_run_fold_equals_the_definition(text: str) -> None:
    # _normalize_word folds only the runs of characters that change; the whole text must come out the same.
    assert _normalize_word(text) == _normalize_reference(text)
