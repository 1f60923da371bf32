"""Pure extraction for signals: keyword flags and tracking IDs. No Django, no database, no message storage.

Keyword flags
    :class:`KeywordMatcher` is built once from an organization's curated list of ``(keyword, flag)`` pairs and
    finds every flag in a message in one Aho-Corasick pass (``pyahocorasick``), whatever the number of keywords.
    Keywords and text are both normalized by :func:`signals.text.normalize` (case, width, compatibility forms,
    diacritics where the script allows, whitespace), so ``PAYMENT``, ``ｐａｙｍｅｎｔ`` and ``páyment`` all match
    ``payment``, and ``cash on delivery`` matches across any whitespace.

    Word boundaries: an occurrence counts unless it cuts through a word. At each end of the occurrence, the
    keyword's edge character and the text character beyond it must not *both* be word characters
    (:func:`signals.text.is_word_char`: letters, numbers, combining marks) of a spaced script. As soon as either
    of the two is in a script written without spaces (:func:`signals.text.is_spaceless_script`: Thai, CJK, kana,
    Hangul...), substring matching applies there. Consequences, on purpose:

    * Whole words only in spaced scripts: ``payment`` does not match ``payments`` or ``prepayment``. List the
      plural and other forms that should count; a flag may be shared by several keywords.
    * ``ราคา`` matches inside ``สินค้านี้ราคาเท่าไหร่`` and ``価格`` inside ``この商品の価格は``.
    * A keyword edge that is not a word character (``#promo``, ``50%``, an emoji) needs no boundary on that side.

Tracking IDs
    :func:`extract_tracking` runs an ordered list of named :class:`Extractor` s: referral extractors read the
    provider's ad referral (``integrations.channels.base.Referral`` as a plain mapping), pattern extractors run an
    admin-editable regular expression over the first inbound messages. TikTok does not publish the format of its
    tracking token, so :data:`DEFAULT_EXTRACTORS` is data that admins can edit.

    Patterns are validated by :func:`validate_pattern` before they are saved. Python's ``re`` cannot be given a
    time limit (the ``regex`` package with ``timeout=`` is not a dependency), so the guard is three layers:
    static rejection of the constructs that cause exponential backtracking (nested variable quantifiers,
    alternation inside a repeated group, backreferences); a timed trial run, at validation, in a separate process
    that is killed after :data:`PATTERN_TRIAL_SECONDS`; and at run time a cap of :data:`MAX_TEXT_CHARS`
    characters per message, which bounds the polynomial cases the static rules let through.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from re import _constants as sre_constants  # type: ignore[attr-defined]  # stdlib internals, stable in 3.11
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any, Literal

import ahocorasick

from signals.text import is_spaceless_script, is_word_char, normalize, normalize_with_offsets

__all__ = [
    "DEFAULT_EXTRACTORS",
    "MAX_TEXT_CHARS",
    "Extractor",
    "KeywordMatcher",
    "Match",
    "TrackingMatch",
    "default_extractors",
    "extract_tracking",
    "extractors_from_data",
    "generic_keyword_warning",
    "matcher_for",
    "validate_pattern",
]

# --------------------------------------------------------------------------------------------------------------
# Keyword flags
# --------------------------------------------------------------------------------------------------------------


class _BlockTable(dict[str, bool]):
    """Whether a text character stops a match at its side: a word character of a spaced script.

    A dict filled on demand, because ``table[ch]`` is the cheapest thing the hot loop can do; bounded like
    :class:`signals.text._FoldTable`.
    """

    _LIMIT = 50_000

    def __missing__(self, ch: str) -> bool:
        blocked = is_word_char(ch) and not is_spaceless_script(ch)
        if len(self) < self._LIMIT:
            self[ch] = blocked
        return blocked


_BLOCKS = _BlockTable({chr(i): chr(i).isalnum() for i in range(128)})


@dataclass(frozen=True)
class Match:
    """One occurrence: ``text[start:end]`` of the original (not normalized) text matched ``keyword``."""

    flag: str
    keyword: str
    start: int
    end: int


class KeywordMatcher:
    """All keywords of one curated list, compiled into one automaton. Immutable and safe to share across threads.

    Build it once per list version (:func:`matcher_for` caches); building 10,000 keywords takes tens of ms.
    """

    def __init__(self, keywords: Iterable[tuple[str, str] | str]) -> None:
        """``keywords``: ``(keyword, flag)`` pairs, or bare keywords. An empty flag defaults to the normalized
        keyword. Keywords that normalize to nothing (only whitespace or invisible characters) are skipped and
        listed in :attr:`skipped`.
        """
        by_keyword: dict[str, dict[str, str]] = {}  # normalized keyword -> {flag: original keyword}
        skipped: list[str] = []
        for item in keywords:
            keyword, flag = (item, "") if isinstance(item, str) else item
            norm = normalize(keyword)
            if not norm:
                skipped.append(keyword)
                continue
            by_keyword.setdefault(norm, {}).setdefault(flag or norm, keyword)
        self.skipped: tuple[str, ...] = tuple(skipped)
        self.flags: frozenset[str] = frozenset(f for flags in by_keyword.values() for f in flags)
        self._automaton = ahocorasick.Automaton()
        for norm, flags in by_keyword.items():
            # Only an edge that is a word character of a spaced script can be cut from its neighbour, so only
            # those edges are checked at match time.
            check_left = is_word_char(norm[0]) and not is_spaceless_script(norm[0])
            check_right = is_word_char(norm[-1]) and not is_spaceless_script(norm[-1])
            value = (tuple(flags), len(norm), check_left, check_right, tuple(flags.items()))
            self._automaton.add_word(norm, value)
        self._empty = not by_keyword
        if not self._empty:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        """The number of distinct normalized keywords."""
        return len(self._automaton)

    def matches(self, text: str) -> frozenset[str]:
        """The flags of every keyword present in ``text`` (see the module docstring for the matching rules)."""
        if self._empty:
            return frozenset()
        t = normalize(text)
        last = len(t) - 1
        found: set[str] = set()
        blocks = _BLOCKS
        # The hot loop: one automaton pass, then two dict lookups per raw occurrence at most.
        for end, (flags, length, check_left, check_right, _) in self._automaton.iter(t):
            if check_left:
                before = end - length
                if before >= 0 and blocks[t[before]]:
                    continue
            if check_right and end < last and blocks[t[end + 1]]:
                continue
            found.update(flags)
        return frozenset(found)

    def find(self, text: str) -> list[Match]:
        """Every occurrence, one :class:`Match` per flag, ordered by position, with offsets into ``text``.

        For highlighting (the auto-reply sandbox). Slower than :meth:`matches`: it also maps offsets back.
        """
        if self._empty:
            return []
        t, starts, ends = normalize_with_offsets(text)
        last = len(t) - 1
        out: list[Match] = []
        for end, (_, length, check_left, check_right, flag_keywords) in self._automaton.iter(t):
            start = end - length + 1
            if check_left and start > 0 and _BLOCKS[t[start - 1]]:
                continue
            if check_right and end < last and _BLOCKS[t[end + 1]]:
                continue
            for flag, keyword in flag_keywords:
                out.append(Match(flag=flag, keyword=keyword, start=starts[start], end=ends[end]))
        out.sort(key=lambda m: (m.start, -m.end, m.flag))
        return out


@lru_cache(maxsize=64)
def matcher_for(keywords: tuple[tuple[str, str], ...]) -> KeywordMatcher:
    """The :class:`KeywordMatcher` for ``keywords``, built once per process for each distinct tuple.

    Pass the same tuple (e.g. kept next to the list's version number) to hit the cache; hashing a tuple of
    10,000 pairs costs well under a millisecond, building it tens of milliseconds.
    """
    return KeywordMatcher(keywords)


# Generic words, already in normalized form (no case, no Latin diacritics). A keyword flag raised by "yes" or
# "hello" appears in nearly every conversation, so it says nothing about intent and dilutes the statistics.
_GENERIC_WORDS = frozenset(
    normalize(w)
    for w in (
        # English
        "yes", "yeah", "yep", "yup", "no", "nope", "ok", "okay", "k", "hi", "hey", "hello", "hallo", "thanks",
        "thank you", "thx", "ty", "please", "pls", "sure", "fine", "good", "great", "bye", "good morning",
        "good afternoon", "good evening", "how are you", "what", "why", "how", "who", "where", "when", "the",
        "and", "is", "it", "this", "that", "you", "me", "info",
        # Indonesian / Malay
        "ya", "iya", "yaa", "tidak", "gak", "ga", "nggak", "enggak", "halo", "hai", "terima kasih", "makasih",
        "trims", "oke", "baik", "kak", "kakak", "min", "gan", "selamat pagi", "selamat siang", "selamat malam",
        "apa", "bisa",
        # Vietnamese (normalized: diacritics gone)
        "có", "không", "vâng", "dạ", "ạ", "ừ", "chào", "xin chào", "chào bạn", "cảm ơn", "cám ơn", "bạn",
        "shop", "ad",
        # Thai
        "ครับ", "คับ", "ค่ะ", "คะ", "จ้า", "จ้ะ", "นะ", "สวัสดี", "สวัสดีครับ", "สวัสดีค่ะ", "ขอบคุณ",
        "ขอบคุณครับ", "ขอบคุณค่ะ", "ใช่", "ไม่", "ไม่ใช่", "โอเค", "ได้", "ค่ะ", "แอดมิน",
        # Filipino, Spanish, Portuguese
        "po", "opo", "salamat", "si", "sí", "hola", "gracias", "sim", "não", "obrigado", "obrigada", "oi", "olá",
    )
)  # fmt: skip


def generic_keyword_warning(keyword: str) -> str | None:
    """A sentence for the admin when ``keyword`` is too generic to be a useful flag, else ``None``.

    Warns for: nothing left after normalization, a single character, a Latin word under 3 letters, anything
    without a letter or digit (``?``, ``!!``, an emoji), and common greetings, yes/no and thanks in English,
    Indonesian, Vietnamese, Thai and a few other languages. It is a warning, not a refusal.
    """
    norm = normalize(keyword)
    why = "appears in most conversations, so the flag says nothing about intent and dilutes the statistics"
    if not norm:
        return "This keyword is empty once spaces and invisible characters are removed."
    if len(norm) == 1:
        return f"“{keyword}” is a single character: it {why}."
    if not any(is_word_char(c) for c in norm):
        return f"“{keyword}” has no letter or digit: it {why}."
    if norm in _GENERIC_WORDS:
        return f"“{keyword}” is a generic word (greeting, yes/no, thanks): it {why}."
    if norm.isascii() and norm.isalpha() and len(norm) < 3:
        return f"“{keyword}” is a very short word: it matches often by chance and {why}."
    return None


# --------------------------------------------------------------------------------------------------------------
# Tracking IDs
# --------------------------------------------------------------------------------------------------------------

#: Each message is cut to this many characters before patterns run: a pre-filled first message carries its
#: token near the start, and the cap bounds the time a pattern with polynomial backtracking can take.
MAX_TEXT_CHARS = 1_000
#: The longest pattern an admin may save.
MAX_PATTERN_CHARS = 500
#: How long a pattern may take over all adversarial inputs in the validation trial.
PATTERN_TRIAL_SECONDS = 1.0

#: Fields of a referral mapping a referral extractor may read (``integrations.channels.base.Referral``), or
#: ``data.<key>`` for one of the provider fields kept in ``Referral.data`` (``data.source_id``).
REFERRAL_FIELDS = ("click_id", "ad_id", "campaign_id", "ref", "source")

#: The default extractors, as data (rows an admin can edit; order matters: the first match wins).
#: The text patterns are sensible guesses, because TikTok does not publish its token format: ``ttclid=...``
#: (TikTok's click-id parameter, when a pre-filled message carries the landing URL), ``#TT-XXXXXX`` and
#: ``[ref:XXXX]`` (tokens a business may put into its ad's pre-filled message).
DEFAULT_EXTRACTORS: tuple[Mapping[str, str], ...] = (
    {"name": "referral_click_id", "kind": "referral", "field": "click_id"},
    {"name": "referral_ad_id", "kind": "referral", "field": "ad_id"},
    {"name": "referral_ref", "kind": "referral", "field": "ref"},
    {"name": "text_ttclid", "kind": "pattern", "pattern": r"(?i)(?<![a-z0-9])ttclid[=:] ?([a-z0-9._~-]{8,256})"},
    {"name": "text_hash_tt", "kind": "pattern", "pattern": r"(?i)#TT-([a-z0-9]{6,32})(?![a-z0-9])"},
    {"name": "text_bracket_ref", "kind": "pattern", "pattern": r"(?i)\[ref: ?([a-z0-9_-]{4,64})\]"},
)


@dataclass(frozen=True)
class Extractor:
    """One named way to find a tracking ID. ``kind="referral"`` reads ``field`` of the referral;
    ``kind="pattern"`` searches ``pattern`` in the texts and takes its capturing group (or the whole match).

    Construction validates (statically, without the timed trial): a bad row raises ``ValueError``.
    """

    name: str
    kind: Literal["referral", "pattern"]
    pattern: str = ""
    field: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("An extractor needs a name.")
        if self.kind == "referral":
            if self.field not in REFERRAL_FIELDS and not (self.field.startswith("data.") and len(self.field) > 5):
                allowed = ", ".join(REFERRAL_FIELDS)
                raise ValueError(
                    f"Extractor {self.name!r}: unknown referral field {self.field!r} (use {allowed} or data.<key>)."
                )
        elif self.kind == "pattern":
            try:
                _check_pattern(self.pattern)
            except ValueError as exc:
                raise ValueError(f"Extractor {self.name!r}: {exc}") from None
        else:
            raise ValueError(f"Extractor {self.name!r}: kind must be 'referral' or 'pattern', not {self.kind!r}.")

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Extractor:
        """Build from a stored row (``name``, ``kind``, ``pattern`` or ``field``); unknown keys are ignored."""
        return cls(
            name=str(row.get("name", "")),
            kind=row.get("kind", ""),  # type: ignore[arg-type]  # checked in __post_init__
            pattern=str(row.get("pattern", "") or ""),
            field=str(row.get("field", "") or ""),
        )


def extractors_from_data(rows: Iterable[Mapping[str, Any]]) -> list[Extractor]:
    """Build an ordered extractor list from stored rows, raising ``ValueError`` on the first invalid one."""
    return [Extractor.from_dict(row) for row in rows]


def default_extractors() -> list[Extractor]:
    """:data:`DEFAULT_EXTRACTORS` as :class:`Extractor` objects."""
    return extractors_from_data(DEFAULT_EXTRACTORS)


@dataclass(frozen=True)
class TrackingMatch:
    """The attribution found: which extractor, the tracking ID, where from, and the ad/campaign when known."""

    extractor: str
    tracking_id: str
    source: Literal["referral", "text"]
    ad_id: str = ""
    campaign_id: str = ""


def _referral_value(referral: Mapping[str, Any], field: str) -> str:
    if field.startswith("data."):
        data = referral.get("data") or {}
        value = data.get(field[5:]) if isinstance(data, Mapping) else None
    else:
        value = referral.get(field)
    return "" if value is None else str(value).strip()


def extract_tracking(
    referral: Mapping[str, Any] | None, texts: Sequence[str], extractors: Sequence[Extractor]
) -> TrackingMatch | None:
    """The first tracking ID found, or ``None``.

    Order: every referral extractor (in list order) before any pattern extractor, because the provider's
    referral is authoritative and a customer can edit a pre-filled message; among pattern extractors, list order
    first, then message order (``texts`` oldest first). Each text is cut to :data:`MAX_TEXT_CHARS`. ``ad_id`` and
    ``campaign_id`` come from the referral when it has them, whichever extractor matched.
    """
    referral = referral or {}
    ad_id = _referral_value(referral, "ad_id")
    campaign_id = _referral_value(referral, "campaign_id")
    if referral:
        for extractor in extractors:
            if extractor.kind == "referral":
                value = _referral_value(referral, extractor.field)
                if value:
                    return TrackingMatch(extractor.name, value, "referral", ad_id, campaign_id)
    capped = [text[:MAX_TEXT_CHARS] for text in texts if text]
    for extractor in extractors:
        if extractor.kind != "pattern":
            continue
        compiled = _compiled(extractor.pattern)
        for text in capped:
            found = compiled.search(text)
            if found:
                value = (found.group(1) if compiled.groups else found.group(0)) or ""
                value = value.strip()
                if value:
                    return TrackingMatch(extractor.name, value, "text", ad_id, campaign_id)
    return None


# --- pattern validation ---------------------------------------------------------------------------------------

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)


def _walk(items: Any, inside_repeat: bool) -> None:
    """Reject the constructs that make a backtracking engine take exponential time."""
    for op, av in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise ValueError(
                "backreferences (\\1, (?P=name), (?(1)...)) are not allowed: they can take exponential time."
            )
        if op in _REPEATS:
            low, high, sub = av
            variable = high != low and high > 1
            if variable and inside_repeat:
                raise ValueError(
                    "a repeated group contains another variable quantifier (like (a+)+ or (\\w*x)*); this nesting "
                    "can take exponential time. Remove the inner or the outer quantifier."
                )
            _walk(sub, inside_repeat or variable)
        elif op == _POSSESSIVE or op == sre_constants.ATOMIC_GROUP:
            continue  # possessive and atomic constructs never backtrack into themselves
        elif op == sre_constants.BRANCH:
            if inside_repeat:
                raise ValueError(
                    "alternation (a|b) inside a repeated group can take exponential time; use a character class "
                    "([ab]) or move the alternation out of the repetition."
                )
            for branch in av[1]:
                _walk(branch, inside_repeat)
        elif op == sre_constants.SUBPATTERN:
            _walk(av[-1], inside_repeat)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(av[1], inside_repeat)


def _check_pattern(pattern: str) -> re.Pattern[str]:
    """Static checks of :func:`validate_pattern`; returns the compiled pattern."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"The pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_CHARS}.")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ValueError(f"Not a valid regular expression: {exc.msg}{where}.") from None
    if compiled.groups > 1:
        raise ValueError(
            f"The pattern has {compiled.groups} capturing groups; use at most one, around the tracking ID, and "
            "(?:...) for any other grouping."
        )
    _walk(sre_parser.parse(pattern), inside_repeat=False)
    return compiled


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return _check_pattern(pattern)


def _probe_chars(items: Any, out: set[str]) -> None:
    """Collect characters the pattern itself matches: adversarial inputs are built from them."""
    for op, av in items:
        if op == sre_constants.LITERAL:
            out.add(chr(av))
        elif op == sre_constants.IN:
            for item_op, item_av in av:
                if item_op == sre_constants.LITERAL:
                    out.add(chr(item_av))
                elif item_op == sre_constants.RANGE:
                    out.add(chr(item_av[0]))
        elif op in _REPEATS or op == _POSSESSIVE:
            _probe_chars(av[2], out)
        elif op == sre_constants.SUBPATTERN:
            _probe_chars(av[-1], out)
        elif op == sre_constants.BRANCH:
            for branch in av[1]:
                _probe_chars(branch, out)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _probe_chars(av[1], out)
        elif op == sre_constants.ATOMIC_GROUP:
            _probe_chars(av, out)


# Runs in a child process with -I (isolated: no site, no environment); reads the pattern and inputs as JSON.
_TRIAL_SCRIPT = """
import json, re, sys
job = json.load(sys.stdin)
compiled = re.compile(job["pattern"])
for text in job["inputs"]:
    compiled.search(text)
"""


def _adversarial_inputs(pattern: str) -> list[str]:
    chars: set[str] = {"a", "1", " ", "-", "_"}
    _probe_chars(sre_parser.parse(pattern), chars)
    inputs = []
    for ch in sorted(chars):
        inputs.append(ch * MAX_TEXT_CHARS)
        inputs.append(ch * (MAX_TEXT_CHARS - 1) + "\x00")
    mixed = "".join(sorted(chars))
    inputs.append((mixed * (MAX_TEXT_CHARS // len(mixed) + 1))[:MAX_TEXT_CHARS])
    return inputs


def validate_pattern(pattern: str, *, trial: bool = True) -> None:
    """Return ``None`` if ``pattern`` may be saved as a tracking-ID pattern, else raise ``ValueError`` with a
    sentence an admin can act on.

    Checks: non-empty and at most :data:`MAX_PATTERN_CHARS` characters; compiles; at most one capturing group
    (the ID); none of the constructs that cause catastrophic backtracking (see :func:`_walk`). With ``trial``
    (the default, for saving), the pattern also runs over adversarial inputs of :data:`MAX_TEXT_CHARS`
    characters built from its own characters, in a child process killed after :data:`PATTERN_TRIAL_SECONDS`:
    this catches the polynomial blow-ups (``.*.*.*x``) the static rules let through. The trial costs one
    interpreter start (some tens of milliseconds).
    """
    _check_pattern(pattern)
    if not trial:
        return
    job = json.dumps({"pattern": pattern, "inputs": _adversarial_inputs(pattern)})
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _TRIAL_SCRIPT],
            input=job,
            capture_output=True,
            text=True,
            timeout=PATTERN_TRIAL_SECONDS + 1.0,  # plus the interpreter's start-up
        )
    except subprocess.TimeoutExpired:
        raise ValueError(
            f"The pattern takes too long (over {PATTERN_TRIAL_SECONDS:g} s) on a {MAX_TEXT_CHARS}-character "
            "message; simplify it, e.g. avoid several .* or \\w* in a row."
        ) from None
    if done.returncode != 0:
        raise ValueError(f"The pattern failed its trial run: {done.stderr.strip().splitlines()[-1:]}")
