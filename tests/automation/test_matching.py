"""Keyword modes, negative keywords and patterns of the one-automaton rule matcher (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.automation.matching import KeywordSpec, PatternError, RuleMatcher, highlight, validate_pattern
from signals.extract import KeywordMatcher
from signals.text import is_spaceless_script, is_word_char, normalize

pytestmark = pytest.mark.core


def fires(mode: str, keywords: list[str], text: str, negative: list[str] = ()) -> bool:
    hits, _ = RuleMatcher([KeywordSpec("r", mode, tuple(keywords), tuple(negative))]).match(text)
    return "r" in hits


@pytest.mark.parametrize(
    "text, expected",
    [
        ("How much is the PRICE?", True),
        ("ｐｒｉｃｅ please", True),
        ("prices", False),
        ("overpriced", False),
        ("price-list", True),
        ("", False),
    ],
)
def test_whole_word(text, expected):
    assert fires("word", ["price"], text) is expected


@pytest.mark.parametrize(
    "text, expected", [("prepayment done", True), ("PÁY now", True), ("p a y", False), ("paid", False)]
)
def test_contains_matches_inside_words(text, expected):
    assert fires("contains", ["pay"], text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [("Hi there", True), ("  hi", True), ("👋 Hi!", True), ("hiking boots", False), ("oh hi", False)],
)
def test_starts_with(text, expected):
    assert fires("starts", ["hi"], text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [("hello", True), ("  HELLO!! ", True), ("héllo?", True), ("hello there", False), ("well hello", False)],
)
def test_exact_message(text, expected):
    assert fires("exact", ["hello"], text) is expected


def test_multi_word_phrase_matches_across_any_whitespace():
    assert fires("word", ["cash on delivery"], "Do you do cash   on\ndelivery?")


def test_spaceless_scripts_match_inside_runs_of_letters():
    assert fires("word", ["ราคา"], "สินค้านี้ราคาเท่าไหร่")
    assert fires("word", ["価格"], "この商品の価格は")
    assert fires("word", ["결제"], "결제는 어떻게 하나요")


def test_negative_keyword_stops_the_rule():
    assert fires("word", ["price"], "what is the price")
    assert not fires("word", ["price"], "what is the price of shipping", negative=["shipping"])
    # Negative keywords of a whole-word rule are whole words too.
    assert fires("word", ["price"], "price for shippingcontainer", negative=["shipping"])
    hits, negated = RuleMatcher([KeywordSpec("r", "word", ("price",), ("refund",))]).match("price refund")
    assert hits == {} and negated == {"r"}


def test_regex_mode_runs_on_normalized_text():
    assert fires("regex", [r"order\s*#?\d{4,}"], "My ORDER #12345 is late")
    assert not fires("regex", [r"order\s*#?\d{4,}"], "order 12")


def test_many_rules_share_one_automaton_and_keep_their_own_modes():
    matcher = RuleMatcher(
        [KeywordSpec(1, "word", ("pay",)), KeywordSpec(2, "contains", ("pay",)), KeywordSpec(3, "exact", ("pay",))]
    )
    assert len(matcher) == 1
    assert set(matcher.match("prepayment")[0]) == {2}
    assert set(matcher.match("pay")[0]) == {1, 2, 3}
    assert set(matcher.match("pay now")[0]) == {1, 2}


def test_find_gives_spans_in_the_original_text_for_highlighting():
    text = "Ｐｒｉｃｅ of the Straße?"
    hits, _ = RuleMatcher([KeywordSpec("r", "word", ("price", "strasse"))]).find(text)
    spans = hits["r"].spans
    assert [text[a:b] for a, b in spans] == ["Ｐｒｉｃｅ", "Straße"]
    assert highlight(text, spans) == [("Ｐｒｉｃｅ", True), (" of the ", False), ("Straße", True), ("?", False)]


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("", "empty"),
        ("(", "Not a valid"),
        ("x" * 400, "characters long"),
        ("(a+)+$", "too long"),
        ("(\\w+\\s?)*$", "too long"),
    ],
)
def test_bad_patterns_are_refused_when_saved(pattern, message):
    with pytest.raises(PatternError, match=message):
        validate_pattern(pattern)


def test_reasonable_pattern_is_accepted():
    validate_pattern(r"\border\s*#?\d{4,10}\b")


# --- properties ---------------------------------------------------------------------------------------------


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_normalization_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


spaced_letters = st.characters(
    categories=["Ll", "Lu"], max_codepoint=0x052F, exclude_characters="ıİſ"
)  # Latin, Greek, Cyrillic


@given(
    keyword=st.text(spaced_letters, min_size=2, max_size=6),
    before=st.text(spaced_letters, max_size=3),
    after=st.text(spaced_letters, max_size=3),
)
@settings(max_examples=300, deadline=None)
def test_whole_word_never_matches_inside_a_word_in_spaced_scripts(keyword, before, after):
    norm = normalize(keyword)
    if not norm or not all(is_word_char(c) and not is_spaceless_script(c) for c in norm):
        return
    text = before + keyword + after
    if (before or after) and normalize(text) != norm:
        # The keyword is glued to other letters: as a whole word it must not match there, unless it also
        # occurs as a whole word (which a glued single word cannot).
        assert not fires("word", [keyword], text)
    assert fires("word", [keyword], f"x {keyword} y")


@given(keywords=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8), text=st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_whole_word_mode_agrees_with_the_signals_matcher(keywords, text):
    ours = RuleMatcher([KeywordSpec(i, "word", (k,)) for i, k in enumerate(keywords)]).match(text)[0]
    theirs = KeywordMatcher([(k, str(i)) for i, k in enumerate(keywords)]).matches(text)
    assert {str(i) for i in ours} == set(theirs)


def _naive_hits(specs: list[KeywordSpec], text: str) -> tuple[dict, set]:
    """The modes spelled out occurrence by occurrence (``str.find``), as the reference for the automaton."""
    t = normalize(text)

    def blocking(ch: str) -> bool:
        return is_word_char(ch) and not is_spaceless_script(ch)

    word_positions = [i for i, ch in enumerate(t) if is_word_char(ch)]
    first, last = (word_positions[0], word_positions[-1]) if word_positions else (len(t), -1)

    def occurs(keyword: str, mode: str) -> bool:
        k = normalize(keyword)
        at = t.find(k) if k else -1
        while at >= 0:
            end = at + len(k) - 1
            cut_left = blocking(k[0]) and at > 0 and blocking(t[at - 1])
            cut_right = blocking(k[-1]) and end < len(t) - 1 and blocking(t[end + 1])
            if (
                mode == "contains"
                or (mode == "word" and not cut_left and not cut_right)
                or (mode == "starts" and at <= first and not cut_right)
                or (mode == "exact" and at <= first and end >= last)
            ):
                return True
            at = t.find(k, at + 1)
        return False

    hits: dict = {}
    negated = set()
    for spec in specs:
        negative_mode = "contains" if spec.mode == "contains" else "word"
        if any(occurs(k, negative_mode) for k in spec.negative):
            negated.add(spec.key)
            continue
        matched = [k for k in spec.keywords if occurs(k, spec.mode)]
        if matched:
            hits[spec.key] = matched
    return hits, negated


MODE_WORDS = ["pay", "payment", "price", "ราคา", "価格", "a b", "#promo", "50%", "ok", "ment", "ย"]
MODE_TEXT = "abcdemnopty  .,!?#%5\nÁáđราคาย価格🙂"


@given(
    rules=st.lists(
        st.tuples(
            st.sampled_from(["word", "contains", "starts", "exact"]),
            st.lists(st.one_of(st.sampled_from(MODE_WORDS), st.text(MODE_TEXT, min_size=1, max_size=4)), max_size=3),
            st.lists(st.sampled_from(MODE_WORDS), max_size=1),
        ),
        min_size=1,
        max_size=6,
    ),
    text=st.lists(st.one_of(st.sampled_from(MODE_WORDS), st.text(MODE_TEXT, max_size=6)), max_size=8).map("".join),
)
@settings(max_examples=400, deadline=None)
def test_every_mode_agrees_with_a_naive_scan(rules, text):
    specs = [KeywordSpec(i, mode, tuple(kws), tuple(neg)) for i, (mode, kws, neg) in enumerate(rules)]
    hits, negated = RuleMatcher(specs).match(text)
    expected_hits, expected_negated = _naive_hits(specs, text)
    assert negated == expected_negated
    assert {key: set(words) for key, words in hits.items()} == {key: set(words) for key, words in expected_hits.items()}
