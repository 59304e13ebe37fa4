"""Crisis resources: selection by /country, locale and default; every number pinned."""

from __future__ import annotations

import pytest

from bot.safety.levels import RiskLevel
from bot.safety.resources import (
    INTERNATIONAL,
    TABLE,
    crisis_message,
    known_country,
    language_for,
    resources_for,
    resources_message,
    vetted_numbers,
)

# Every contact in the table, pinned. Changing a number means changing this line, with a source.
PINNED = {
    "US": ("911", ["call or text 988", "text HOME to 741741"]),
    "CA": ("911", ["call or text 988", "1-800-668-6868"]),
    "GB": ("999", ["116 123", "text SHOUT to 85258"]),
    "IE": ("112 or 999", ["116 123", "1800 247 247", "text HELLO to 50808"]),
    "FR": ("112 (SAMU: 15)", ["3114", "09 72 39 40 50"]),
    "BE": ("112", ["0800 32 123", "1813"]),
    "ES": ("112", ["024", "717 003 717"]),
    "MX": ("911", ["800 911 2000"]),
    "AU": ("000", ["13 11 14", "1300 22 4636", "1800 55 1800"]),
    "NZ": ("111", ["call or text 1737", "0800 543 354"]),
    "DE": ("112", ["0800 111 0 111", "0800 111 0 222"]),
}


def test_every_number_in_the_table_is_pinned() -> None:
    assert set(TABLE) == set(PINNED)
    for code, (emergency, contacts) in PINNED.items():
        assert TABLE[code].emergency == emergency, code
        assert [h.contact for h in TABLE[code].helplines] == contacts, code
    assert INTERNATIONAL.helplines[0].contact == "findahelpline.com"


def test_required_countries_are_covered() -> None:
    for code in ("US", "CA", "GB", "IE", "FR", "ES", "AU"):
        assert known_country(code) and known_country(code.lower())
    assert not known_country("ZZ")


@pytest.mark.parametrize(
    ("country", "locale", "default", "expected"),
    [
        ("GB", "fr-FR", "US", "GB"),  # the user's /country wins
        (None, "en-AU", "US", "AU"),  # then the locale's region
        (None, "fr", None, None),  # a bare language names no country: never guess one
        (None, "fr", "CA", "CA"),
        (None, "es-MX", None, "MX"),
        (None, "en", "IE", "IE"),  # then the configured default
        ("ZZ", "xx", None, None),  # then the international fallback
        (None, None, None, None),
    ],
)
def test_selection_order(country: str | None, locale: str | None, default: str | None, expected: str | None) -> None:
    assert resources_for(country, locale, default).country == expected


def test_language_for_locales() -> None:
    assert [language_for(x) for x in ("fr-CA", "es_419", "en-GB", None, "de")] == ["fr", "es", "en", "en", "en"]


def test_imminent_puts_the_emergency_number_first() -> None:
    text = crisis_message(RiskLevel.IMMINENT, TABLE["US"], "en")
    assert text.splitlines()[0] == "Please get help now: call 911, or ask someone near you to call."
    assert text.index("911") < text.index("988")
    high = crisis_message(RiskLevel.HIGH, TABLE["US"], "en")
    assert high.index("988") < high.index("911")


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_crisis_messages_are_translated_and_scripted(language: str) -> None:
    for level in (RiskLevel.ELEVATED, RiskLevel.HIGH, RiskLevel.IMMINENT):
        text = crisis_message(level, TABLE["FR"], language)
        assert "3114" in text and "112" in text
    assert ("appelez" in crisis_message(RiskLevel.HIGH, TABLE["FR"], "fr")) and ("llama" in crisis_message(RiskLevel.HIGH, TABLE["ES"], "es"))


def test_international_fallback_message() -> None:
    text = resources_message(INTERNATIONAL, "en")
    assert "findahelpline.com" in text and "emergency number" in text


def test_vetted_numbers_are_digits_only() -> None:
    numbers = vetted_numbers()
    assert {"116123", "988", "3114", "131114", "999"} <= numbers
    assert all(n.isdigit() for n in numbers)


def test_numbers_named_in_descriptions_are_pinned_and_vetted() -> None:
    in_descriptions = {h.description for r in TABLE.values() for h in r.helplines if any(c.isdigit() for c in h.description)}
    assert in_descriptions == {"young people; or text CONNECT to 686868", "suicide and self-harm crisis support; or text HELP to 51444", "young people aged 5 to 25"}
    assert {"686868", "51444"} <= vetted_numbers()
