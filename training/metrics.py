"""Reply metrics for the seed's complaints, on plain strings (no model needed).

The seed's model opened nearly every reply with "I am sorry to hear that you are
feeling...": `opening_share` measures that directly (the share of replies starting with
the most common first five words). `distinct_n` is corpus-level distinct-n (unique
n-grams over all n-grams, Li et al. 2016); low values mean stock phrasing.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

_WORD = re.compile(r"[\w']+")
_HELP = re.compile(
    r"\b(therap(?:ist|y)|counsel(?:or|lor|ing)|doctor|physician|psychologist|psychiatrist|professional|"
    r"helpline|hotline|crisis line|gp)\b",
    re.IGNORECASE,
)


def words(text: str) -> list[str]:
    """Lower-cased words, apostrophes kept ("don't"), punctuation dropped."""
    return _WORD.findall(text.casefold())


def opening(text: str, n: int = 5) -> str:
    return " ".join(words(text)[:n])


def opening_share(replies: Sequence[str], n: int = 5) -> tuple[str, float]:
    """The most common opening (first `n` words) and the share of replies that start with it.

    Empty input gives ("", 0.0). Ties go to the opening seen first.
    """
    if not replies:
        return "", 0.0
    counts = Counter(opening(reply, n) for reply in replies)
    phrase, count = counts.most_common(1)[0]
    return phrase, count / len(replies)


def distinct_n(replies: Iterable[str], n: int) -> float:
    """Unique n-grams / total n-grams over all replies (0.0 when there are none)."""
    total = 0
    unique: set[tuple[str, ...]] = set()
    for reply in replies:
        tokens = words(reply)
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        total += len(grams)
        unique.update(grams)
    return len(unique) / total if total else 0.0


def length_words(replies: Sequence[str]) -> tuple[float, float]:
    """Mean and median reply length in words."""
    if not replies:
        return 0.0, 0.0
    lengths = [len(words(reply)) for reply in replies]
    return statistics.fmean(lengths), float(statistics.median(lengths))


def asks_question_share(replies: Sequence[str]) -> float:
    return sum("?" in reply for reply in replies) / len(replies) if replies else 0.0


def suggests_help_share(replies: Sequence[str]) -> float:
    """Share of replies that point to a person or service who can help."""
    return sum(bool(_HELP.search(reply)) for reply in replies) / len(replies) if replies else 0.0


def perplexity(mean_loss: float) -> float:
    return math.exp(mean_loss) if mean_loss < 700 else math.inf


@dataclass(frozen=True)
class GuardOutcome:
    checked: int
    blocked: int
    reasons: dict[str, int] = field(default_factory=dict)
    blocked_indices: tuple[int, ...] = ()

    @property
    def any_blocked(self) -> bool:
        return self.blocked > 0


GuardCheck = Callable[[str, frozenset[str], bool], tuple[bool, Sequence[str]]]


def guard_outcome(
    replies: Sequence[str], check: GuardCheck, flagged: Sequence[frozenset[str]] | None = None, *, strict: bool = False
) -> GuardOutcome:
    """Run every reply through the output guard; count blocks and their reasons.

    `check(reply, flagged_categories, strict)` returns (allowed, reasons); `flagged`
    gives each reply's flagged categories (none when omitted).
    """
    reasons: Counter[str] = Counter()
    blocked: list[int] = []
    for index, reply in enumerate(replies):
        categories = flagged[index] if flagged is not None else frozenset()
        allowed, why = check(reply, categories, strict)
        if not allowed:
            blocked.append(index)
            reasons.update(str(reason) for reason in why)
    return GuardOutcome(len(replies), len(blocked), dict(reasons), tuple(blocked))


@dataclass(frozen=True)
class ReplyStats:
    """Every reply metric for one set of replies."""

    count: int
    opening_phrase: str
    opening_share: float
    distinct_1: float
    distinct_2: float
    mean_words: float
    median_words: float
    asks_question: float
    suggests_help: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reply_stats(replies: Sequence[str]) -> ReplyStats:
    phrase, share = opening_share(replies)
    mean, median = length_words(replies)
    return ReplyStats(
        count=len(replies),
        opening_phrase=phrase,
        opening_share=share,
        distinct_1=distinct_n(replies, 1),
        distinct_2=distinct_n(replies, 2),
        mean_words=mean,
        median_words=median,
        asks_question=asks_question_share(replies),
        suggests_help=suggests_help_share(replies),
    )
