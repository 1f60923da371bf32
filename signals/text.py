"""Text normalization shared by the signals keyword matcher and the auto-reply matcher.

:func:`normalize` is the one definition of "the same text" for keyword matching. It promises:

* **Compatibility and width**: Unicode NFKC, so full-width ``ｐａｙｍｅｎｔ``, ligatures (``ﬁ``), circled or
  super-script digits and the no-break space become their plain forms.
* **Case**: ``str.casefold`` (``PAYMENT``, ``Straße`` -> ``strasse``).
* **Diacritics, where the script allows**: after canonical decomposition (NFD), the marks of the generic
  *Combining Diacritical Marks* blocks (U+0300-036F, U+1AB0-1AFF, U+1DC0-1DFF, U+20D0-20FF, U+FE20-FE2F) are
  dropped. Latin (Vietnamese included), Greek and Cyrillic put their accents there, so ``páyment``,
  ``thanh toán`` and ``ёлка`` lose them. Scripts whose marks change the word (Thai, Lao, Devanagari and the other
  Indic scripts, Arabic, Hebrew, the Japanese voicing marks U+3099/U+309A) encode them in their own blocks and
  keep them. A few Latin letters with a stroke do not decompose; :data:`_STROKE_FOLD` maps the common ones
  (Vietnamese ``đ`` -> ``d``, ``ø`` -> ``o``, ``ł`` -> ``l``) because people type them without the stroke.
* **Invisible characters**: soft hyphen, zero-width space, word joiner and BOM are removed (they split words
  invisibly, e.g. ``pay\\u200bment``). ZWJ/ZWNJ stay: they change emoji and Persian/Indic rendering.
* **Whitespace**: every run of whitespace (``str.isspace``) becomes one space; leading and trailing whitespace
  goes.
* **Idempotent**: ``normalize(normalize(s)) == normalize(s)`` (tested over every code point and by hypothesis).

Offsets: matching runs on normalized text, whose length differs from the original (``ß`` -> ``ss``, ``ﬁ`` ->
``fi``, dropped accents, collapsed spaces). :func:`normalize_with_offsets` returns, with the same normalized
string, for each normalized character the ``[start, end)`` span of original characters that produced it. It
normalizes the original text one *segment* at a time (a base character with the combining marks that follow
it), which is exact for every text where normalization is segment-local (all text we know of). If the
concatenation ever differs from :func:`normalize` of the whole text, it falls back to spans covering the whole
original text: matching stays correct (it runs on the true normalized text), only a highlight gets wider.
:func:`normalize` itself is the fast path for matching and computes no offsets.

Word boundaries: :func:`is_word_char` and :func:`is_spaceless_script` are the two predicates the matchers use;
see :mod:`signals.extract` for the rule.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "is_spaceless_script",
    "is_word_char",
    "normalize",
    "normalize_with_offsets",
]

# Generic combining-mark blocks: the only marks dropped (see the module docstring for why these and no others).
_STRIPPABLE_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")

# Removed outright: soft hyphen, zero-width space, word joiner, BOM / zero-width no-break space.
_IGNORABLE = "\u00ad\u200b\u2060\ufeff"

# Latin letters with a stroke have no decomposition, so NFD cannot strip them; people type the plain letter.
# Only lowercase: the table runs after casefold.
_STROKE_FOLD = {
    ord("đ"): "d",
    ord("ø"): "o",
    ord("ł"): "l",
    ord("ħ"): "h",
    ord("ŧ"): "t",
    ord("ƀ"): "b",
    ord("ƶ"): "z",
}
_TRANSLATE = {**_STROKE_FOLD, **{ord(c): None for c in _IGNORABLE}}

# Code-point ranges of scripts written without spaces between words, where a keyword may sit anywhere inside
# a run of letters. Hangul is included on purpose: Korean does put spaces between eojeol, but a noun carries its
# particle attached (결제 "payment" appears as 결제는, 결제를, 결제가), so whole-word matching would miss most
# occurrences; substring matching is what a Korean speaker expects of a keyword.
_SPACELESS_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x0F00, 0x0FFF),  # Tibetan (tsheg between syllables, no spaces between words)
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer Symbols
    (0x2E80, 0x2FDF),  # CJK Radicals Supplement, Kangxi Radicals
    (0x3005, 0x3007),  # ideographic iteration mark, closing mark, number zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3040, 0x30FF),  # Hiragana, Katakana (includes the voicing marks U+3099/U+309A)
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xA9E0, 0xA9FF),  # Myanmar Extended-B
    (0xAA60, 0xAA7F),  # Myanmar Extended-A
    (0xAC00, 0xD7FF),  # Hangul Syllables, Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana (NFKC maps them to full width anyway)
    (0x1B000, 0x1B16F),  # Kana Supplement / Extended
    (0x20000, 0x3134F),  # CJK Extensions B-G, Compatibility Supplement
)


@lru_cache(maxsize=4096)
def is_spaceless_script(ch: str) -> bool:
    """Whether ``ch`` (one character) belongs to a script where keywords match as substrings.

    True for Thai, Lao, Tibetan, Myanmar, Khmer, CJK ideographs, Hiragana, Katakana and Hangul (see
    :data:`_SPACELESS_RANGES` for why Hangul). Their combining marks are included, so a Thai vowel sign next to
    a match counts as Thai.
    """
    cp = ord(ch)
    if cp < 0x0E00:
        return False
    return any(lo <= cp <= hi for lo, hi in _SPACELESS_RANGES)


@lru_cache(maxsize=8192)
def is_word_char(ch: str) -> bool:
    """Whether ``ch`` is part of a word: a Unicode letter, number or combining mark.

    Marks count so that a keyword never ends in the middle of a letter with its vowel sign or accent.
    The underscore and all punctuation, symbols and emoji are not word characters, except the middle dot, which
    is inside Catalan words ("col·lecció") and is what NFKC makes of the single letters "Ŀ"/"ŀ".
    """
    return ch == "\u00b7" or unicodedata.category(ch)[0] in "LNM"


def _fold(text: str) -> str:
    """Everything :func:`normalize` does except whitespace handling. Non-ASCII input only."""
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    if _STRIPPABLE_MARKS.search(decomposed):
        text = _STRIPPABLE_MARKS.sub("", decomposed)
    text = text.translate(_TRANSLATE)
    # Casefold and mark removal can leave a string that is not in NFKC (e.g. a decomposed Hangul syllable or a
    # letter whose casefold is a compatibility character); a final NFKC makes the result a fixed point.
    return unicodedata.normalize("NFKC", text)


class _FoldTable(dict[int, str]):
    """``str.translate`` table filled on demand: code point -> :func:`_fold` of that one character.

    Bounded: past the limit a character is folded each time instead of being remembered.
    """

    _LIMIT = 100_000

    def __missing__(self, cp: int) -> str:
        folded = _fold(chr(cp))
        if len(self) < self._LIMIT:
            self[cp] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def normalize(text: str) -> str:
    """Return the normalized form of ``text`` used for keyword matching (see the module docstring).

    Three fast paths give the same result as the definition (:func:`_normalize_reference`, the pipeline applied
    to the whole text), which tests check by hypothesis and over every code point:

    * ASCII: lowercase and whitespace collapse; NFKC, casefold and mark stripping do nothing else to ASCII.
    * Otherwise, word by word (:data:`_WORDS`): normalization never reaches across whitespace (a whitespace
      character is a starter that composes with nothing and folds to whitespace), so each whitespace-separated
      word is normalized on its own and remembered. Chat reuses few words (a Vietnamese message is a handful of
      its few thousand syllables), so most words cost one dict lookup instead of a fold.
    * A word not seen yet: each character is folded on its own through a cached translate table (skipped when
      no character would change, see :func:`_needs_fold`), then one NFKC pass recomposes and reorders what
      crosses character boundaries (Hangul jamo, kana voicing marks, the canonical order of Thai marks).
    """
    if text.isascii():
        lowered = text.lower()
        if lowered.isprintable() and "  " not in lowered and lowered[:1] != " " and lowered[-1:] != " ":
            return lowered  # already one space between words (ASCII whitespace but the space is unprintable)
        return " ".join(lowered.split())
    words = text.split()
    if len(words) == 1:
        return _normalize_word(words[0])  # one long word (Thai, Chinese): not worth remembering
    out = " ".join(map(_WORDS.__getitem__, words))
    if "  " in out or out[:1] == " " or out[-1:] == " ":
        # A word that normalizes to nothing (only invisible characters) left a double or edge space.
        return " ".join(out.split())
    return out


def _normalize_word(text: str) -> str:
    """:func:`normalize` without the word cache (one word, or any text)."""
    if _needs_fold().search(text) is not None:
        # Only the runs of characters that change go through the (per-character, slow) translate: a Thai or
        # Chinese message with one upper-case Latin word folds that word, not its 100 other characters.
        text = _needs_fold_runs().sub(_fold_run, text)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _fold_run(run: re.Match[str]) -> str:
    return run.group().translate(_FOLD_TABLE)


@lru_cache(maxsize=1)
def _needs_fold_runs() -> re.Pattern[str]:
    return re.compile(_needs_fold().pattern + "+")


class _WordTable(dict[str, str]):
    """Word -> its normalized form, filled on demand. Only short words are kept (a Thai or Chinese message is
    one long "word" that will not come again), and the table starts over when full, so it stays bounded."""

    _LIMIT = 50_000
    _LONGEST = 24

    def __missing__(self, word: str) -> str:
        normalized = _normalize_word(word)
        if len(word) <= self._LONGEST:
            if len(self) >= self._LIMIT:
                self.clear()
            self[word] = normalized
        return normalized


_WORDS = _WordTable()


@lru_cache(maxsize=1)
def _needs_fold() -> re.Pattern[str]:
    """A character class of every character whose own fold is not itself (plus all astral code points).

    Text without any of them (most Thai, Chinese and Japanese messages) skips the translate step, which would
    change nothing. Built on first use (about 0.1 s over the Basic Multilingual Plane), not at import.
    """
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for cp in range(0x10000):
        ch = chr(cp)
        needed = 0xD800 <= cp <= 0xDFFF or _fold(ch) != ch
        if needed and start is None:
            start = cp
        elif not needed and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, 0xFFFF))
    ranges.append((0x10000, 0x10FFFF))
    return re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]")


def _normalize_reference(text: str) -> str:
    """The definition of :func:`normalize`, applied to the whole text at once (slow; for tests)."""
    return " ".join(_fold(text).split())


def _segments(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into [start, end) spans: a character with the combining marks and joiners that follow it."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(text)):
        ch = text[i]
        cp = ord(ch)
        attached = (
            unicodedata.combining(ch) != 0
            or unicodedata.category(ch)[0] == "M"
            # Hangul medial vowels and final consonants compose with the jamo before them under NFC/NFKC.
            or 0x1160 <= cp <= 0x11FF
            or 0xD7B0 <= cp <= 0xD7FF
            # ZWJ/ZWNJ and variation selectors belong with their neighbours.
            or cp in (0x200C, 0x200D)
            or 0xFE00 <= cp <= 0xFE0F
        )
        if not attached:
            spans.append((start, i))
            start = i
    if text:
        spans.append((start, len(text)))
    return spans


def normalize_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """Return ``(normalized, starts, ends)``: ``normalized == normalize(text)``, and normalized character ``j``
    comes from ``text[starts[j]:ends[j]]``.

    A match ``normalized[a:b]`` therefore covers ``text[starts[a]:ends[b - 1]]``. A collapsed whitespace run
    maps to its first whitespace character. See the module docstring for the (never observed) fallback.
    """
    expected = normalize(text)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for s, e in _segments(text):
        segment = text[s:e]
        piece = segment.lower() if segment.isascii() else _fold(segment)
        chars.extend(piece)
        starts.extend([s] * len(piece))
        ends.extend([e] * len(piece))

    # Collapse whitespace runs and strip the ends, carrying the spans along.
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    pending_space: int | None = None
    for ch, s, e in zip(chars, starts, ends, strict=True):
        if ch.isspace():
            if pending_space is None:
                pending_space = s
            continue
        if pending_space is not None and out:
            out.append(" ")
            out_starts.append(pending_space)
            out_ends.append(pending_space + 1)
        pending_space = None
        out.append(ch)
        out_starts.append(s)
        out_ends.append(e)
    normalized = "".join(out)
    if normalized != expected:
        # Normalization was not segment-local for this text: keep matching exact, widen the spans.
        return expected, [0] * len(expected), [len(text)] * len(expected)
    return normalized, out_starts, out_ends
