"""Look-alike letters and line breaks inside a phrase must not hide risk."""

from __future__ import annotations

import pytest

from bot.safety.levels import RiskLevel
from bot.safety.normalize import normalize
from bot.safety.risk import assess


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill\nmyself",
        "I want to k\u0456ll myself",  # Cyrillic і
        "I want to \u043a\u0456ll myself",  # Cyrillic к and і
        "I want to kill mys\u0435lf",  # Cyrillic е
        "I want to \u03baill myself",  # Greek kappa
        "i want to\r\nend my life",
    ],
)
def test_disguised_risk_is_still_high(text: str) -> None:
    assert assess(text.replace("\r\n", "\n")).level >= RiskLevel.HIGH


def test_line_breaks_between_sentences_still_separate_them() -> None:
    assert "." in normalize("I had a bad day.\nMyself, I will go home")
    assert assess("I had a bad day.\nMyself, I think I will go home").level is RiskLevel.NONE


def test_text_without_latin_letters_is_left_alone() -> None:
    assert normalize("\u042f \u0445\u043e\u0447\u0443 \u0441\u043f\u0430\u0442\u044c") == (
        "\u044f",
        "\u0445\u043e\u0447\u0443",
        "\u0441\u043f\u0430\u0442\u044c",
    )
