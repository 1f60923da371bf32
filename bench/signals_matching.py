"""Benchmark: keyword matching with 10,000 curated keywords, KeywordMatcher against a regex alternation.

Run: ``.venv/bin/python bench/signals_matching.py [--messages N] [--keywords N] [--baseline-messages N]``

Both sides find the set of flags per message on one core. The KeywordMatcher figure is end to end
(normalization of the raw message included); the baseline, ``\\b(?:kw1|kw2|...)\\b`` compiled with ``re``, runs on
texts normalized beforehand (normalization not counted), so the ratio is conservative. The alternation is slow,
so it is timed on a subset of the messages (``--baseline-messages``) and its rate is scaled from there.
Targets (issue "Signals to TikTok"): >= 100,000 msgs/s and >= 20x the regex baseline.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._corpus import make_keywords, make_messages  # noqa: E402
from bench._timing import best_of  # noqa: E402
from signals.extract import KeywordMatcher  # noqa: E402
from signals.text import normalize  # noqa: E402

TARGET_RATE = 100_000
TARGET_RATIO = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--baseline-messages", type=int, default=2_000)
    args = parser.parse_args()

    keywords = make_keywords(args.keywords)
    messages = make_messages(args.messages, keywords)
    non_ascii = sum(not m.isascii() for m in messages)
    print(
        f"corpus: {len(keywords):,} keywords, {len(messages):,} messages "
        f"(mean {sum(map(len, messages)) / len(messages):.0f} chars, {non_ascii / len(messages):.0%} non-ASCII)"
    )

    started = time.perf_counter()
    matcher = KeywordMatcher(keywords)
    build = time.perf_counter() - started
    print(f"build: KeywordMatcher of {len(matcher):,} keywords in {build * 1000:.0f} ms")

    matches = matcher.matches
    results: list[frozenset[str]] = []

    def run_matcher() -> None:
        results.clear()
        results.extend(matches(m) for m in messages)

    elapsed = best_of(3, run_matcher)
    rate = len(messages) / elapsed
    flagged = sum(1 for r in results if r)
    print(
        f"KeywordMatcher.matches: {rate:,.0f} msgs/s ({elapsed:.3f} s for {len(messages):,}, best of 3; "
        f"{flagged:,} messages flagged)"
    )

    # Baseline: one alternation, longest keywords first so the regex prefers them, over pre-normalized texts.
    flag_of = {}
    for keyword, flag in keywords:
        flag_of.setdefault(normalize(keyword), flag)
    alternation = "|".join(re.escape(k) for k in sorted(flag_of, key=len, reverse=True))
    started = time.perf_counter()
    regex = re.compile(rf"\b(?:{alternation})\b")
    print(f"build: regex alternation in {(time.perf_counter() - started) * 1000:.0f} ms")
    subset = [normalize(m) for m in messages[: args.baseline_messages]]
    findall = regex.findall

    def run_regex() -> None:
        for text in subset:
            {flag_of[k] for k in findall(text)}  # noqa: B018  # the work being measured

    base_elapsed = best_of(1, run_regex)
    base_rate = len(subset) / base_elapsed
    print(
        f"regex baseline: {base_rate:,.0f} msgs/s ({base_elapsed:.3f} s for a subset of {len(subset):,} "
        f"pre-normalized messages, scaled)"
    )

    ratio = rate / base_rate
    print(f"ratio: {ratio:,.1f}x the regex baseline")
    print(f"target >= {TARGET_RATE:,} msgs/s: {'met' if rate >= TARGET_RATE else 'NOT met'} ({rate:,.0f})")
    print(f"target >= {TARGET_RATIO}x regex: {'met' if ratio >= TARGET_RATIO else 'NOT met'} ({ratio:,.1f}x)")
    ok = rate >= TARGET_RATE and ratio >= TARGET_RATIO
    print(f"{'PASS' if ok else 'MISS'}: keyword matching {rate:,.0f} msgs/s, {ratio:,.1f}x regex")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
