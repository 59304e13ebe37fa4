"""Reply metrics on hand-made replies whose answers are worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from training.metrics import (
    distinct_n,
    guard_outcome,
    length_words,
    opening,
    opening_share,
    perplexity,
    reply_stats,
)

SEED_LIKE = [
    "I am sorry to hear that you are feeling low.",
    "I am sorry to hear that you are feeling anxious.",
    "I'm sorry to hear that. What happened?",
    "I am sorry to hear that you are feeling worthless.",
]


def test_opening_share_counts_the_most_common_first_five_words() -> None:
    assert opening("I am sorry, to HEAR that you") == "i am sorry to hear"
    assert opening_share(SEED_LIKE) == ("i am sorry to hear", 0.75)
    assert opening_share(["One two.", "Three four."]) == ("one two", 0.5)
    assert opening_share([]) == ("", 0.0)


def test_distinct_n_by_hand() -> None:
    replies = ["a b a", "b c"]
    # unigrams: a b a b c -> 3 unique / 5; bigrams: (a b) (b a) (b c) -> 3 / 3
    assert distinct_n(replies, 1) == pytest.approx(3 / 5)
    assert distinct_n(replies, 2) == pytest.approx(1.0)
    assert distinct_n(["same words", "same words"], 2) == pytest.approx(0.5)
    assert distinct_n(["one"], 2) == 0.0


def test_length_in_words() -> None:
    assert length_words(["one two three", "one", "don't stop now, ok"]) == pytest.approx((8 / 3, 3.0))
    assert length_words([]) == (0.0, 0.0)


def test_reply_stats_on_seed_like_replies() -> None:
    stats = reply_stats(SEED_LIKE)
    assert stats.count == 4
    assert stats.opening_share == 0.75
    assert stats.asks_question == 0.25
    assert stats.suggests_help == 0.0
    assert reply_stats(["Have you thought about seeing a counselor?"]).suggests_help == 1.0


def test_perplexity() -> None:
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(20)) == pytest.approx(20)
    assert perplexity(1000.0) == math.inf


def test_guard_outcome_counts_blocks_and_reasons() -> None:
    def check(reply: str, categories: frozenset[str], strict: bool) -> tuple[bool, Sequence[str]]:
        reasons = []
        if "pills" in reply:
            reasons.append("method")
        if strict and "diet" in reply and "eating_disorder" in categories:
            reasons.append("diet_advice")
        return not reasons, reasons

    replies = ["take the pills", "try a diet", "talk to someone", "diet and pills"]
    plain = guard_outcome(replies, check)
    assert (plain.checked, plain.blocked, plain.blocked_indices) == (4, 2, (0, 3))
    assert plain.reasons == {"method": 2}
    flagged = [frozenset({"eating_disorder"})] * 4
    strict = guard_outcome(replies, check, flagged, strict=True)
    assert strict.blocked_indices == (0, 1, 3)
    assert strict.reasons == {"method": 2, "diet_advice": 2}
    assert strict.any_blocked and not guard_outcome(["hello"], check).any_blocked
