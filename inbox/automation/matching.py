"""Pure keyword matching for auto-reply rules: one Aho-Corasick automaton for every keyword of an organization.

No Django here. Text and keywords are normalized by :func:`signals.text.normalize` (case, width, diacritics,
whitespace), the same definition the signals keyword matcher uses, and word boundaries follow the same rule
(:func:`signals.text.is_word_char` and :func:`signals.text.is_spaceless_script`): an occurrence is cut from its
neighbour only when both characters are word characters of a spaced script. The modes:

* ``contains``: the phrase anywhere, even inside a word (``pay`` matches ``prepayment``).
* ``word``: whole words only in spaced scripts (``pay`` does not match ``payment``); substring in Thai, CJK...
  Identical to :class:`signals.extract.KeywordMatcher` (tested by hypothesis).
* ``starts``: only punctuation or emoji before the phrase, and a word boundary after it.
* ``exact``: the whole message is the phrase, give or take punctuation and emoji around it (``price?``).
* ``regex``: a pattern (``regex`` package, with a per-search time limit) searched in the *normalized* text.

Negative keywords are matched as whole words (as substrings for a ``contains`` rule): a rule whose negative
keyword occurs does not fire.

Why not :class:`signals.extract.KeywordMatcher` itself: it implements only the ``word`` mode and does not expose
where an occurrence sits in the message, which ``starts`` and ``exact`` need. This module keeps one automaton for
all modes and reuses the signals normalization and boundary predicates, so both matchers agree on "a word".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick
import regex

from signals.text import is_spaceless_script, is_word_char, normalize, normalize_with_offsets

MODES = ("contains", "word", "starts", "exact", "regex")
_CONTAINS, _WORD, _STARTS, _EXACT = 0, 1, 2, 3
_MODE_CODE = {"contains": _CONTAINS, "word": _WORD, "starts": _STARTS, "exact": _EXACT}

#: A message is cut to this many characters before regular expressions run on it.
REGEX_MAX_TEXT = 2_000
#: Time limit of one regular-expression search at run time (seconds); a timeout counts as "no match".
REGEX_TIMEOUT = 0.05
#: Longest pattern, and time limit of the adversarial trial when a pattern is saved.
MAX_PATTERN_CHARS = 300
PATTERN_TRIAL_SECONDS = 0.2


class _Blocks(dict[str, bool]):
    """Whether a character cuts a match at its side: a word character of a spaced script (filled on demand)."""

    def __missing__(self, ch: str) -> bool:
        blocked = is_word_char(ch) and not is_spaceless_script(ch)
        if len(self) < 50_000:
            self[ch] = blocked
        return blocked


_BLOCKS = _Blocks({chr(i): chr(i).isalnum() for i in range(128)})


@dataclass(frozen=True)
class KeywordSpec:
    """The keyword part of one rule: its mode, keywords and negative keywords (as the admin typed them)."""

    key: Any  # the caller's handle (a rule index or id)
    mode: str
    keywords: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()


@dataclass
class Hit:
    """A rule whose keywords matched: the keywords (as typed) and, in find mode, spans in the original text."""

    keywords: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)


class PatternError(ValueError):
    """A regular expression that cannot be saved, with a sentence the admin can act on."""


def validate_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile ``pattern`` for the ``regex`` mode or raise :class:`PatternError`.

    Checks length, syntax, and runs a trial over adversarial inputs built from the pattern's own characters with
    the ``regex`` package's timeout, so a catastrophic pattern is refused when it is saved, not in a worker.
    """
    if not pattern or not pattern.strip():
        raise PatternError("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"The pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_CHARS}.")
    try:
        compiled = regex.compile(pattern, regex.V0)
    except regex.error as exc:
        raise PatternError(f"Not a valid regular expression: {exc}.") from None
    chars = sorted({c for c in pattern if c.isalnum()} | {"a", "1", " ", "-", "x"})
    trial = [c * REGEX_MAX_TEXT for c in chars] + [(c * (REGEX_MAX_TEXT - 1)) + "!" for c in chars]
    mixed = "".join(chars)
    trial.append((mixed * (REGEX_MAX_TEXT // len(mixed) + 1))[:REGEX_MAX_TEXT])
    try:
        for text in trial:
            compiled.search(text, timeout=PATTERN_TRIAL_SECONDS)
    except TimeoutError:
        raise PatternError(
            "The pattern takes too long on a long message (it backtracks too much); simplify it, e.g. avoid "
            "nested repetitions like (a+)+ or several .* in a row."
        ) from None
    return compiled


class _WordChars(dict[str, bool]):
    """:func:`signals.text.is_word_char` as a dict filled on demand (a lookup is cheaper than a call)."""

    def __missing__(self, ch: str) -> bool:
        word = is_word_char(ch)
        if len(self) < 50_000:
            self[ch] = word
        return word


_WORD_CHARS = _WordChars()


def _word_bounds(t: str) -> tuple[int, int]:
    """Index of the first and last word character of ``t`` (``(len, -1)`` when there is none)."""
    word = _WORD_CHARS
    if t and word[t[0]] and word[t[-1]]:
        return 0, len(t) - 1  # most messages start and end with a word character
    first, last = len(t), -1
    for i, ch in enumerate(t):
        if word[ch]:
            first = i
            break
    for i in range(len(t) - 1, first - 1, -1):
        if word[t[i]]:
            last = i
            break
    return first, last


class RuleMatcher:
    """Every keyword of every rule of one organization in one automaton, plus the rules' regular expressions.

    Immutable once built and safe to share between threads. :meth:`match` is the hot path (no offsets);
    :meth:`find` also returns where each keyword sits in the original text, for highlighting.
    """

    def __init__(self, specs: Iterable[KeywordSpec]) -> None:
        table: dict[str, list[tuple[Any, int, bool, str]]] = {}
        self._regexes: list[tuple[Any, regex.Pattern[str], str]] = []
        self.keyed: set[Any] = set()  # rules with at least one positive keyword or pattern
        for spec in specs:
            if spec.mode == "regex":
                for pattern in spec.keywords:
                    self._regexes.append((spec.key, regex.compile(pattern, regex.V0), pattern))
                    self.keyed.add(spec.key)
                neg_mode = _WORD
            else:
                code = _MODE_CODE[spec.mode]
                for keyword in spec.keywords:
                    norm = normalize(keyword)
                    if norm:
                        table.setdefault(norm, []).append((spec.key, code, False, keyword))
                        self.keyed.add(spec.key)
                neg_mode = _CONTAINS if code == _CONTAINS else _WORD
            for keyword in spec.negative:
                norm = normalize(keyword)
                if norm:
                    table.setdefault(norm, []).append((spec.key, neg_mode, True, keyword))
        self._automaton = ahocorasick.Automaton()
        for norm, entries in table.items():
            check_left = is_word_char(norm[0]) and not is_spaceless_script(norm[0])
            check_right = is_word_char(norm[-1]) and not is_spaceless_script(norm[-1])
            # Split by what the hot loop must check: positive whole-word entries (boundaries), positive contains
            # entries (nothing), and the rest (starts / exact / negative: positions and word bounds).
            words = tuple((k, kw) for k, mode, neg, kw in entries if mode == _WORD and not neg)
            always = tuple((k, kw) for k, mode, neg, kw in entries if mode == _CONTAINS and not neg)
            if not check_left and not check_right:
                always, words = always + words, ()  # no edge can be cut: every occurrence counts
            # Positive starts / exact entries count only at the start of the message; negative entries anywhere.
            anchored = tuple(
                (k, mode == _STARTS, kw) for k, mode, neg, kw in entries if mode in (_STARTS, _EXACT) and not neg
            )
            negatives = tuple((k, mode == _WORD) for k, mode, neg, _kw in entries if neg)
            self._automaton.add_word(norm, (len(norm), check_left, check_right, words, always, anchored, negatives))
        self._empty = not table
        if not self._empty:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._automaton)

    def match(self, text: str) -> tuple[dict[Any, list[str]], set[Any]]:
        """``(hits, negated)``: rules whose keywords match ``text`` -> the keywords (as typed), and the rules one of
        whose negative keywords occurs (those are left out of ``hits``)."""
        t = normalize(text)
        found: list[tuple[Any, str]] = []
        negated: set[Any] = set()
        if not self._empty and t:
            # The hot path (every inbound message): one automaton pass, at most two dict lookups per raw
            # occurrence for its boundaries; find() is the same walk with offsets.
            extend = found.extend
            add = found.append
            blocks = _BLOCKS
            last_index = len(t) - 1
            bounds: tuple[int, int] | None = None
            for end, (length, check_left, check_right, words, always, anchored, negatives) in self._automaton.iter(t):
                if always:
                    extend(always)
                if words and not (
                    (check_left and end >= length and blocks[t[end - length]])
                    or (check_right and end < last_index and blocks[t[end + 1]])
                ):
                    extend(words)
                if anchored:
                    if bounds is None:
                        bounds = _word_bounds(t)
                    if end - length < bounds[0]:  # starts at or before the first word character
                        cut_right = check_right and end < last_index and blocks[t[end + 1]]
                        for key, starts_mode, keyword in anchored:
                            if not (cut_right if starts_mode else end < bounds[1]):
                                add((key, keyword))
                if negatives:
                    cut = (check_left and end >= length and blocks[t[end - length]]) or (
                        check_right and end < last_index and blocks[t[end + 1]]
                    )
                    for key, whole_word in negatives:
                        if not (whole_word and cut):
                            negated.add(key)
        hits: dict[Any, list[str]] = {}
        for key, keyword in found:
            words_of = hits.get(key)
            if words_of is None:
                hits[key] = [keyword]
            elif keyword not in words_of:
                words_of.append(keyword)
        if self._regexes and t:
            for key, found_match in self._regex_matches(t):
                hits.setdefault(key, []).append(found_match.group(0))
        for key in negated:
            hits.pop(key, None)
        return hits, negated

    def find(self, text: str) -> tuple[dict[Any, Hit], set[Any]]:
        """Like :meth:`match`, with the ``[start, end)`` spans of the matches in the original ``text``."""
        t, starts, ends = normalize_with_offsets(text)
        found: list[tuple[Any, str, int, int]] = []
        negated: set[Any] = set()
        if not self._empty and t:
            last_index = len(t) - 1
            bounds: tuple[int, int] | None = None
            blocks = _BLOCKS
            for end, (length, check_left, check_right, words, always, anchored, negatives) in self._automaton.iter(t):
                start = end - length + 1
                cut = (check_left and start > 0 and blocks[t[start - 1]]) or (
                    check_right and end < last_index and blocks[t[end + 1]]
                )
                found.extend((key, keyword, start, end) for key, keyword in always)
                if not cut:
                    found.extend((key, keyword, start, end) for key, keyword in words)
                if anchored:
                    if bounds is None:
                        bounds = _word_bounds(t)
                    cut_right = check_right and end < last_index and blocks[t[end + 1]]
                    for key, starts_mode, keyword in anchored:
                        if start <= bounds[0] and not (cut_right if starts_mode else end < bounds[1]):
                            found.append((key, keyword, start, end))
                for key, whole_word in negatives:
                    if not (whole_word and cut):
                        negated.add(key)
        hits: dict[Any, Hit] = {}
        for key, keyword, start, end in found:
            hit = hits.setdefault(key, Hit())
            hit.keywords.append(keyword)
            hit.spans.append((starts[start], ends[end]))
        if self._regexes and t:
            for key, found_match in self._regex_matches(t):
                hit = hits.setdefault(key, Hit())
                hit.keywords.append(found_match.group(0))
                hit.spans.append((starts[found_match.start()], ends[found_match.end() - 1]))
        for key in negated:
            hits.pop(key, None)
        return hits, negated

    def _regex_matches(self, t: str) -> list[tuple[Any, regex.Match[str]]]:
        """The rules' patterns that match the normalized text (a timeout or an empty match counts as none)."""
        capped = t[:REGEX_MAX_TEXT]
        out: list[tuple[Any, regex.Match[str]]] = []
        for key, compiled, _pattern in self._regexes:
            try:
                found_match = compiled.search(capped, timeout=REGEX_TIMEOUT)
            except TimeoutError:
                found_match = None
            if found_match is not None and found_match.end() > found_match.start():
                out.append((key, found_match))
        return out


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(piece, matched)`` parts, merging overlapping spans (for the sandbox page)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[tuple[str, bool]] = []
    at = 0
    for start, end in merged:
        if start > at:
            parts.append((text[at:start], False))
        parts.append((text[start:end], True))
        at = end
    if at < len(text):
        parts.append((text[at:], False))
    return parts
