"""signals.extract.KeywordMatcher and generic_keyword_warning."""

from __future__ import annotations

import re
from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st

from signals.extract import KeywordMatcher, Match, generic_keyword_warning, matcher_for
from signals.text import is_spaceless_script, is_word_char, normalize


@lru_cache(maxsize=1)
def _blocking_class() -> str:
    """A regex character class of the characters that block a match: word characters of spaced scripts.

    Built independently of the matcher's own tables, from the two public predicates.
    """
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(0x110000):
        ch = chr(cp)
        blocking = not (0xD800 <= cp <= 0xDFFF) and is_word_char(ch) and not is_spaceless_script(ch)
        if blocking and start is None:
            start = cp
        elif not blocking and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]"


def naive_matches(pairs: list[tuple[str, str]], text: str) -> frozenset[str]:
    """The reference: normalize, then one regex per keyword with lookarounds at the edges that need them."""
    blocking = _blocking_class()
    normalized = normalize(text)
    found = set()
    for keyword, flag in pairs:
        kw = normalize(keyword)
        if not kw:
            continue
        left = f"(?<!{blocking})" if re.fullmatch(blocking, kw[0]) else ""
        right = f"(?!{blocking})" if re.fullmatch(blocking, kw[-1]) else ""
        if re.search(left + re.escape(kw) + right, normalized):
            found.add(flag or kw)
    return frozenset(found)


WORDS = ["payment", "pay", "cash on delivery", "ราคา", "ส่งฟรี", "価格", "注文", "thanh toán", "giá", "🔥",
         "#promo", "50%", "결제", "cod", "ok", "a b", "ment", "ยืนยัน"]  # fmt: skip
TEXT_ALPHABET = "abcdeimnopty  .,!?#%5\nÁáàảãạđêếệôơưราคาส่งฟรีเท่าไหร่ยืนยัน価格注文のは결제는🔥🙂"
keyword_lists = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(alphabet=TEXT_ALPHABET, min_size=1, max_size=6)),
    min_size=1,
    max_size=12,
)
texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(alphabet=TEXT_ALPHABET, max_size=8)), max_size=10).map(
    "".join
)


def test_case_width_and_diacritics_match() -> None:
    m = KeywordMatcher([("payment", "")])
    for text in ["PAYMENT please", "ｐａｙｍｅｎｔ", "páyment!", "(Payment)", "pay\u200bment"]:
        assert m.matches(text) == {"payment"}, text


def test_whole_words_only_in_spaced_scripts() -> None:
    # Documented choice: plural and derived forms must be listed, "payment" never matches inside a word.
    m = KeywordMatcher([("payment", "pay")])
    for text in ["payments", "prepayment", "prepayments", "payment2", "épayment"]:
        assert m.matches(text) == frozenset(), text
    assert KeywordMatcher([("payment", "pay"), ("payments", "pay")]).matches("payments due") == {"pay"}


def test_spaceless_scripts_match_as_substrings() -> None:
    m = KeywordMatcher([("ราคา", "price"), ("価格", "price"), ("결제", "payment")])
    assert m.matches("สินค้านี้ราคาเท่าไหร่คะ") == {"price"}
    assert m.matches("この商品の価格はいくらですか") == {"price"}
    assert m.matches("결제는 어떻게 하나요") == {"payment"}
    # Latin keyword right next to Thai: the Thai neighbour does not block.
    assert KeywordMatcher(["cod"]).matches("ส่งcodได้ไหม") == {"cod"}


def test_multiword_keywords_accept_any_whitespace() -> None:
    m = KeywordMatcher([("cash on delivery", "cod")])
    assert m.matches("is CASH\ton \n delivery possible?") == {"cod"}
    assert m.matches("cash-on-delivery") == frozenset()


def test_edges_that_are_not_word_characters_need_no_boundary() -> None:
    m = KeywordMatcher(["#promo", "50%", "🔥"])
    assert m.matches("code#promo today, 50%off 🔥🔥") == {"#promo", "50%", "🔥"}


def test_flags_shared_and_defaulted() -> None:
    m = KeywordMatcher([("Payment", ""), ("bayar", "payment"), ("thanh toán", "payment"), ("  ", "x")])
    assert m.flags == {"payment"}
    assert m.skipped == ("  ",)
    assert m.matches("mau bayar kak") == {"payment"}
    assert m.matches("Thanh toan ngay") == {"payment"}
    assert KeywordMatcher([]).matches("anything") == frozenset()
    assert KeywordMatcher([]).find("anything") == []


def test_find_reports_original_offsets() -> None:
    m = KeywordMatcher([("payment", "pay"), ("ราคา", "price"), ("thanh toán", "")])
    text = "ＰＡＹＭＥＮＴ  and ราคา, Thanh  Toán!"
    found = m.find(text)
    assert [(f.flag, text[f.start : f.end]) for f in found] == [
        ("pay", "ＰＡＹＭＥＮＴ"),
        ("price", "ราคา"),
        ("thanh toan", "Thanh  Toán"),
    ]
    assert found[0] == Match(flag="pay", keyword="payment", start=0, end=7)


def test_ten_thousand_keywords_and_cache() -> None:
    pairs = tuple((f"word{i}x", f"flag{i}") for i in range(10_000))
    m = matcher_for(pairs)
    assert matcher_for(pairs) is m
    assert len(m) == 10_000
    assert m.matches("say word42x and word9999x, not word1xx") == {"flag42", "flag9999"}


@settings(max_examples=300, deadline=None)
@given(
    keyword=st.sampled_from(WORDS) | st.text(alphabet="abcdefghijklmnopáéđ", min_size=3, max_size=10),
    before=st.text(alphabet=TEXT_ALPHABET, max_size=20),
    after=st.text(alphabet=TEXT_ALPHABET, max_size=20),
    separator=st.sampled_from([" ", "\n", ", ", "! ", " 🔥 ", "\t"]),
)
def test_keyword_embedded_with_boundaries_is_found(keyword: str, before: str, after: str, separator: str) -> None:
    m = KeywordMatcher([(keyword, "flag")])
    assert "flag" in m.matches(before + separator + keyword.upper() + separator + after)
    assert any(f.flag == "flag" for f in m.find(before + separator + keyword + separator + after))


@settings(max_examples=400, deadline=None)
@given(keywords=keyword_lists, text=texts)
def test_equals_naive_reference(keywords: list[str], text: str) -> None:
    pairs = [(k, "") for k in keywords]
    m = KeywordMatcher(pairs)
    assert m.matches(text) == naive_matches(pairs, text)
    assert {f.flag for f in m.find(text)} == m.matches(text)


@settings(max_examples=200, deadline=None)
@given(
    word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8),
    prefix=st.text(alphabet="abcdefghijklmnopqrstuvwxyzé0123456789", max_size=3),
    suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyzé0123456789", max_size=3),
)
def test_whole_word_never_matches_inside_a_latin_word(word: str, prefix: str, suffix: str) -> None:
    if not prefix and not suffix:
        return
    assert KeywordMatcher([word]).matches(f"x {prefix}{word}{suffix} y") == frozenset()


def test_generic_keyword_warnings() -> None:
    for keyword in ["yes", "Hi", "OK", "hello", "thanks", "no", "?", "a", "ab", "🔥", "ya", "halo", "có", "vâng",
                    "Vâng", "ครับ", "ค่ะ", "สวัสดี", "terima kasih", "  "]:  # fmt: skip
        assert generic_keyword_warning(keyword), keyword
    for keyword in ["payment", "cash on delivery", "ราคา", "thanh toán", "価格", "cod", "ongkir"]:
        assert generic_keyword_warning(keyword) is None, keyword
