"""Risk tiers and categories: the vocabulary shared by the safety layer, the core and the store."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class RiskLevel(IntEnum):
    """Ordered risk tiers (DESIGN.md, "Risk tiers"). Compare with <, >=, max()."""

    NONE = 0
    CONCERN = 1
    ELEVATED = 2
    HIGH = 3
    IMMINENT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> RiskLevel:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown risk level {value!r}") from None

    @property
    def flags(self) -> bool:
        """Whether a message at this tier raises a moderator flag."""
        return self >= RiskLevel.ELEVATED

    @property
    def urgent(self) -> bool:
        """Urgent flags are re-paged until claimed."""
        return self >= RiskLevel.HIGH


class Category(StrEnum):
    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    HARM_TO_OTHERS = "harm_to_others"
    ABUSE = "abuse"
    CHILD_SAFETY = "child_safety"
    EATING_DISORDER = "eating_disorder"
    SUBSTANCE = "substance"
    PSYCHOSIS = "psychosis"
