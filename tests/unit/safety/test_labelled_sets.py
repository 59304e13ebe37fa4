"""The issue's targets, measured on the labelled sets in tests/data/safety.

Written sets: messages written and labelled for this project (en/fr/es, every phenomenon
of the issue, many hard negatives; holdout*.jsonl were written after the first rules, to
measure generalisation). Counsel-chat: real questions from ../shared/data (MIT, licence
beside the file), labelled by reading them against the tier table.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bot.safety.levels import Category, RiskLevel
from bot.safety.risk import assess
from tests.unit.safety.labelled import COUNSEL_CHAT, DATA, WRITTEN, Example, Score, load

REQUIRED_TAGS = {
    "negation", "negation_means", "third_party", "recent_attempt", "past_attempt", "conditional", "conditional_threat",
    "euphemism", "algospeak", "leetspeak", "misspelling", "emoji", "idiom", "tech", "gaming", "fiction", "news", "essay",
    "medication", "farewell", "attempt_now", "at_place", "means", "plan", "rehearsal", "command_hallucination",
    "underweight_loss", "child_abuse", "violence_now", "passive", "denied_intent", "nssi", "ed_behaviour", "numbing",
    "abuse", "hopeless", "burden", "entrapment", "bereaved", "hard_negative", "repeated_letters",
}


def _written() -> list[Example]:
    return [example for name in WRITTEN for example in load(name)]


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[risk] {line}")


def test_written_set_covers_the_issue() -> None:
    examples = _written()
    assert len(examples) >= 300
    assert len({example.id for example in examples}) == len(examples)
    languages = Counter(example.language for example in examples)
    assert languages["fr"] >= 100 and languages["es"] >= 100 and languages["en"] >= 200
    assert REQUIRED_TAGS <= {example.tag for example in examples}
    levels = Counter(example.level for example in examples)
    assert all(levels[level] >= 25 for level in RiskLevel)
    assert levels[RiskLevel.NONE] >= 100  # many hard negatives
    for example in examples:
        assert {Category(category) for category in example.categories} or example.level <= RiskLevel.CONCERN


def test_counsel_chat_sample_is_labelled() -> None:
    examples = load(COUNSEL_CHAT)
    assert len(examples) >= 250
    assert (DATA / "COUNSEL_CHAT_LICENSE").read_text().startswith("MIT License")
    assert Counter(example.level for example in examples)[RiskLevel.ELEVATED] >= 50


@pytest.mark.parametrize("name", ["written", "counsel-chat", "all"])
def test_targets(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    examples = {"written": _written(), "counsel-chat": load(COUNSEL_CHAT), "all": _written() + load(COUNSEL_CHAT)}[name]
    score = Score.of(examples)
    _report(capsys, score.summary(name))
    assert score.recall(RiskLevel.IMMINENT, RiskLevel.HIGH) >= 0.95, score.misses
    assert score.recall(RiskLevel.ELEVATED) >= 0.90, score.misses
    assert score.false_positive_rate <= 0.05, score.misses


def test_conversations() -> None:
    rows = [json.loads(line) for line in (DATA / "conversations.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 15
    failures = []
    for row in rows:
        got = assess(row["text"], tuple(row["history"])).level
        if got is not RiskLevel.parse(row["level"]) and not (
            RiskLevel.parse(row["level"]) >= RiskLevel.HIGH and got >= RiskLevel.HIGH
        ):
            failures.append((row["id"], row["level"], got.label))
    assert not failures
