"""Benchmark: auto-reply rule evaluation with 10,000 keyword rules, next to a regex alternation baseline.

Run: ``.venv/bin/python bench/rules.py [--rules N] [--messages N] [--baseline-messages N]``

One rule per keyword (mostly whole-word, a share of contains / starts-with / exact, some negative keywords),
the corpus of ``bench/_corpus.py``. Figures, on one core, all in the same run:

* rebuild: compiling the organization's rule set (:class:`inbox.automation.engine.RuleSet`: one automaton over
  every keyword of every mode) from its rules, as a worker does when the version stamp moves;
* matching: :meth:`RuleMatcher.match` per raw message (normalization included) -> which rules matched;
* evaluation: :meth:`RuleSet.evaluate` per message (matching + trigger, conditions, priority, stop-after-match);
* baseline: ``\\b(?:kw1|kw2|...)\\b`` with ``re`` over pre-normalized texts (normalization not counted, so the
  ratio is conservative), timed on a subset and scaled.

Targets (issue 6): >= 100,000 msgs/s matching, >= 20x the baseline, < 200 ms to rebuild 10,000 rules. No
database: the rebuild from database rows adds one query (measured separately by the tests, not here).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._corpus import make_keywords, make_messages  # noqa: E402
from bench._timing import best_of  # noqa: E402
from inbox.automation.conditions import MessageContext  # noqa: E402
from inbox.automation.engine import CompiledRule, RuleSet  # noqa: E402
from signals.text import normalize  # noqa: E402

TARGET_RATE = 100_000
TARGET_RATIO = 20
TARGET_REBUILD_MS = 200


def make_rules(count: int) -> list[CompiledRule]:
    rng = random.Random(5)
    keywords = [k for k, _ in make_keywords(count)]
    modes = ["word"] * 7 + ["contains", "starts", "exact"]
    rules = []
    for i, keyword in enumerate(keywords):
        negative = (rng.choice(keywords),) if rng.random() < 0.05 else ()
        rules.append(
            CompiledRule(
                rule_id=i + 1,
                version_id=i + 1,
                version=1,
                name=f"rule {i}",
                enabled=True,
                trigger="keyword",
                keyword_mode=rng.choice(modes),
                keywords=(keyword,),
                negative_keywords=negative,
                conditions={"channel_kinds": ["whatsapp", "sandbox"]} if rng.random() < 0.2 else {},
                actions=({"type": "send_reply", "text": "hello"},),
                stop_after_match=rng.random() < 0.5,
            )
        )
    return rules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--baseline-messages", type=int, default=2_000)
    args = parser.parse_args()

    rules = make_rules(args.rules)
    messages = make_messages(args.messages, make_keywords(args.rules))
    print(f"corpus: {len(rules):,} keyword rules, {len(messages):,} messages")

    RuleSet(rules[:100])  # warm the normalization tables so the rebuild figure is a steady-state one
    ruleset: RuleSet | None = None

    def rebuild() -> None:
        nonlocal ruleset
        ruleset = RuleSet(rules)

    build = best_of(3, rebuild)
    assert ruleset is not None
    print(f"rebuild: {len(ruleset):,} rules, {len(ruleset.matcher):,} distinct keywords in {build * 1000:.0f} ms")

    match = ruleset.matcher.match
    matched = 0

    def run_match() -> None:
        nonlocal matched
        matched = sum(1 for m in messages if match(m)[0])

    elapsed = best_of(3, run_match)
    rate = len(messages) / elapsed
    print(f"matching: {rate:,.0f} msgs/s ({elapsed:.3f} s for {len(messages):,}; {matched:,} matched a rule)")

    ctx = MessageContext(
        channel_id=1, channel_kind="whatsapp", local_time=datetime(2026, 3, 2, 10, tzinfo=UTC), business_open=True
    )
    evaluate = ruleset.evaluate
    fired = 0

    def run_evaluate() -> None:
        nonlocal fired
        fired = sum(1 for m in messages if evaluate(event="message", text=m, ctx=ctx))

    eval_elapsed = best_of(3, run_evaluate)
    eval_rate = len(messages) / eval_elapsed
    print(f"evaluation: {eval_rate:,.0f} msgs/s (matching + conditions + order; {fired:,} messages fire a rule)")

    alternation = "|".join(
        re.escape(k) for k in sorted({normalize(k) for r in rules for k in r.keywords}, key=len, reverse=True)
    )
    started = time.perf_counter()
    baseline = re.compile(rf"\b(?:{alternation})\b")
    print(f"baseline build: regex alternation in {(time.perf_counter() - started) * 1000:.0f} ms")
    subset = [normalize(m) for m in messages[: args.baseline_messages]]
    findall = baseline.findall

    def run_regex() -> None:
        for text in subset:
            set(findall(text))

    base_elapsed = best_of(1, run_regex)
    base_rate = len(subset) / base_elapsed
    print(f"regex baseline: {base_rate:,.0f} msgs/s ({base_elapsed:.3f} s for {len(subset):,} pre-normalized, scaled)")

    ratio = rate / base_rate
    print(f"ratio: matching {ratio:,.1f}x the regex baseline; evaluation {eval_rate / base_rate:,.1f}x")
    ok = rate >= TARGET_RATE and ratio >= TARGET_RATIO and build * 1000 < TARGET_REBUILD_MS
    print(f"target >= {TARGET_RATE:,} msgs/s matching: {'met' if rate >= TARGET_RATE else 'NOT met'} ({rate:,.0f})")
    print(f"target >= {TARGET_RATIO}x regex: {'met' if ratio >= TARGET_RATIO else 'NOT met'} ({ratio:,.1f}x)")
    print(
        f"target < {TARGET_REBUILD_MS} ms rebuild: {'met' if build * 1000 < TARGET_REBUILD_MS else 'NOT met'} "
        f"({build * 1000:.0f} ms)"
    )
    verdict = "PASS" if ok else "MISS"
    print(f"{verdict}: rules matching {rate:,.0f} msgs/s, {ratio:,.1f}x regex, rebuild {build * 1000:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
