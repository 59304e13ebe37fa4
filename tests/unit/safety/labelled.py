"""Loading the labelled message sets in tests/data/safety and scoring the assessment on them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety.levels import RiskLevel
from bot.safety.risk import assess

DATA = Path(__file__).resolve().parents[2] / "data" / "safety"
WRITTEN = ("labelled_en.jsonl", "labelled_fr.jsonl", "labelled_es.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl")
COUNSEL_CHAT = "counsel_chat_labelled.jsonl"


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    level: RiskLevel
    categories: tuple[str, ...]
    tag: str
    language: str
    history: tuple[str, ...] = ()


def load(name: str) -> list[Example]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        Example(
            id=row["id"],
            text=row["text"],
            level=RiskLevel.parse(row["level"]),
            categories=tuple(row.get("categories", ())),
            tag=row.get("tag", row.get("topic", "")),
            language=row.get("language", row["id"].split("-")[0] if not row["id"].startswith("cc") else "en"),
            history=tuple(row.get("history", ())),
        )
        for row in rows
    ]


def correct(label: RiskLevel, got: RiskLevel) -> bool:
    """The issue's criteria: imminent/high labels need >= high, elevated/concern need at least
    their tier, none needs < elevated (a concern on a none message is not a false positive)."""
    if label >= RiskLevel.HIGH:
        return got >= RiskLevel.HIGH
    if label >= RiskLevel.CONCERN:
        return got >= label
    return got < RiskLevel.ELEVATED


@dataclass
class Score:
    """Per-tier recall and the false-positive rate over a set of examples."""

    totals: dict[RiskLevel, int] = field(default_factory=dict)
    hits: dict[RiskLevel, int] = field(default_factory=dict)
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, examples: Iterable[Example]) -> Score:
        score = cls()
        for example in examples:
            got = assess(example.text, example.history).level
            score.totals[example.level] = score.totals.get(example.level, 0) + 1
            if correct(example.level, got):
                score.hits[example.level] = score.hits.get(example.level, 0) + 1
            else:
                score.misses.append((example.id, example.level.label, got.label))
        return score

    def recall(self, *levels: RiskLevel) -> float:
        total = sum(self.totals.get(level, 0) for level in levels)
        return sum(self.hits.get(level, 0) for level in levels) / total if total else 1.0

    @property
    def false_positive_rate(self) -> float:
        return 1.0 - self.recall(RiskLevel.NONE)

    def summary(self, name: str) -> str:
        n = sum(self.totals.values())
        parts = [
            f"{name} (n={n}):",
            f"imminent+high at >=high {self.recall(RiskLevel.IMMINENT, RiskLevel.HIGH):.3f}",
            f"imminent {self.recall(RiskLevel.IMMINENT):.3f}",
            f"high {self.recall(RiskLevel.HIGH):.3f}",
            f"elevated at >=elevated {self.recall(RiskLevel.ELEVATED):.3f}",
            f"concern at >=concern {self.recall(RiskLevel.CONCERN):.3f}",
            f"false positives (none at >=elevated) {self.false_positive_rate:.3f}",
        ]
        return " ".join(parts)
