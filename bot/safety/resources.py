"""Vetted crisis resources by country, and the scripted crisis messages (never generated).

Every number here is pinned by a test (tests/unit/safety/test_resources_table.py); change
one only with a source, and change the test with it. Selection: the user's /country,
then the platform locale's region, then DEFAULT_COUNTRY, then the international entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.safety.levels import RiskLevel


@dataclass(frozen=True)
class Helpline:
    name: str
    contact: str  # what to dial or text, as people write it ("116 123", "text HOME to 741741")
    description: str
    hours: str = "24/7"
    number: str | None = None  # digits only, for the output guard's allow-list


@dataclass(frozen=True)
class CountryResources:
    country: str | None  # None: the international fallback
    name: str
    emergency: str
    helplines: tuple[Helpline, ...]


def _line(name: str, contact: str, description: str, hours: str = "24/7") -> Helpline:
    digits = re.sub(r"\D", "", contact)
    return Helpline(name, contact, description, hours, digits or None)


TABLE: dict[str, CountryResources] = {
    "US": CountryResources("US", "United States", "911", (
        _line("988 Suicide & Crisis Lifeline", "call or text 988", "free, confidential crisis support"),
        _line("Crisis Text Line", "text HOME to 741741", "free crisis support by text"),
    )),
    "CA": CountryResources("CA", "Canada", "911", (
        _line("9-8-8 Suicide Crisis Helpline", "call or text 988", "free suicide crisis support, English and French"),
        _line("Kids Help Phone", "1-800-668-6868", "young people; or text CONNECT to 686868"),
    )),
    "GB": CountryResources("GB", "United Kingdom", "999", (
        _line("Samaritans", "116 123", "free, to talk about anything that is upsetting you"),
        _line("Shout", "text SHOUT to 85258", "free crisis support by text"),
    )),
    "IE": CountryResources("IE", "Ireland", "112 or 999", (
        _line("Samaritans", "116 123", "free, to talk about anything that is upsetting you"),
        _line("Pieta", "1800 247 247", "suicide and self-harm crisis support; or text HELP to 51444"),
        _line("50808", "text HELLO to 50808", "free crisis support by text"),
    )),
    "FR": CountryResources("FR", "France", "112 (SAMU: 15)", (
        _line("3114, numéro national de prévention du suicide", "3114", "gratuit, professionnels formés"),
        _line("SOS Amitié", "09 72 39 40 50", "écoute anonyme"),
    )),
    "BE": CountryResources("BE", "Belgium", "112", (
        _line("Centre de Prévention du Suicide", "0800 32 123", "gratuit, en français"),
        _line("Zelfmoordlijn", "1813", "gratis, in het Nederlands"),
    )),
    "ES": CountryResources("ES", "España", "112", (
        _line("Línea 024 de atención a la conducta suicida", "024", "gratuita y confidencial"),
        _line("Teléfono de la Esperanza", "717 003 717", "escucha y apoyo emocional"),
    )),
    "MX": CountryResources("MX", "México", "911", (
        _line("Línea de la Vida", "800 911 2000", "gratuita, apoyo emocional y en crisis"),
    )),
    "AU": CountryResources("AU", "Australia", "000", (
        _line("Lifeline", "13 11 14", "crisis support and suicide prevention"),
        _line("Beyond Blue", "1300 22 4636", "mental health support"),
        _line("Kids Helpline", "1800 55 1800", "young people aged 5 to 25"),
    )),
    "NZ": CountryResources("NZ", "New Zealand", "111", (
        _line("1737, Need to talk?", "call or text 1737", "free, trained counsellors"),
        _line("Lifeline Aotearoa", "0800 543 354", "free crisis support"),
    )),
    "DE": CountryResources("DE", "Deutschland", "112", (
        _line("TelefonSeelsorge", "0800 111 0 111", "kostenlos, anonym"),
        _line("TelefonSeelsorge", "0800 111 0 222", "kostenlos, anonym"),
    )),
}

INTERNATIONAL = CountryResources(None, "International", "your local emergency number (112 works from mobiles in many countries)", (
    Helpline("Find A Helpline", "findahelpline.com", "free, confidential helplines in over 130 countries", "varies"),
))



def language_for(locale: str | None) -> str:
    """"en", "fr" or "es" from a platform locale such as "fr-CA" or "es_419"."""
    if locale:
        language = re.split(r"[-_]", locale.strip().lower(), maxsplit=1)[0]
        if language in ("fr", "es"):
            return language
    return "en"


def known_country(code: str) -> bool:
    return code.strip().upper() in TABLE


def _country_from_locale(locale: str | None) -> str | None:
    if not locale:
        return None
    parts = re.split(r"[-_]", locale.strip())
    if len(parts) > 1 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1].upper()
    # A bare language ("fr") does not say where someone is: a French speaker may be in
    # Canada or Belgium, and a wrong country's number is worse than the international list.
    return None


def resources_for(country: str | None, locale: str | None, default_country: str | None) -> CountryResources:
    for candidate in (country, _country_from_locale(locale), default_country):
        if candidate and candidate.upper() in TABLE:
            return TABLE[candidate.upper()]
    return INTERNATIONAL


def vetted_numbers() -> frozenset[str]:
    """Every number in the table, digits only (the output guard allows these and no others)."""
    numbers = {h.number for r in TABLE.values() for h in r.helplines if h.number}
    numbers |= {re.sub(r"\D", "", part) for r in TABLE.values() for part in re.findall(r"\d[\d ]*", r.emergency)}
    # text lines named in descriptions ("or text CONNECT to 686868") are vetted too
    numbers |= {re.sub(r"\D", "", part) for r in TABLE.values() for h in r.helplines for part in re.findall(r"\d[\d ]*\d", h.description)}
    return frozenset(n for n in numbers if n)


_WORDS = {
    "en": {
        "emergency_first": "If your life is in danger right now, call {emergency} now.",
        "elevated": "It sounds like you're going through something really painful, and you don't have to carry it alone. People you can reach:",
        "high": "I'm really concerned about your safety. Please reach out to someone now:",
        "imminent": "Please get help now: call {emergency}, or ask someone near you to call.",
        "then": "You can also reach:",
        "emergency": "If you might act on these thoughts, call {emergency}.",
        "flagged": "I've flagged this conversation for our human moderators. I'm an AI and can't call anyone for you.",
        "resources": "Support you can reach ({name}):",
        "hours": "hours",
    },
    "fr": {
        "emergency_first": "Si votre vie est en danger en ce moment, appelez le {emergency} maintenant.",
        "elevated": "On dirait que vous traversez quelque chose de très douloureux, et vous n'avez pas à le porter seul·e. Vous pouvez joindre :",
        "high": "Je suis vraiment inquiet pour votre sécurité. Contactez quelqu'un maintenant :",
        "imminent": "Demandez de l'aide maintenant : appelez le {emergency}, ou demandez à quelqu'un près de vous d'appeler.",
        "then": "Vous pouvez aussi joindre :",
        "emergency": "Si vous risquez de passer à l'acte, appelez le {emergency}.",
        "flagged": "J'ai signalé cette conversation à nos modérateurs humains. Je suis une IA et je ne peux appeler personne pour vous.",
        "resources": "Soutien joignable ({name}) :",
        "hours": "horaires",
    },
    "es": {
        "emergency_first": "Si tu vida está en peligro ahora mismo, llama al {emergency} ahora.",
        "elevated": "Parece que estás pasando por algo muy doloroso, y no tienes que cargarlo a solas. Puedes contactar con:",
        "high": "Me preocupa mucho tu seguridad. Por favor, contacta con alguien ahora:",
        "imminent": "Pide ayuda ahora: llama al {emergency}, o pide a alguien cerca de ti que llame.",
        "then": "También puedes contactar con:",
        "emergency": "Si crees que podrías actuar, llama al {emergency}.",
        "flagged": "He señalado esta conversación a nuestros moderadores humanos. Soy una IA y no puedo llamar a nadie por ti.",
        "resources": "Apoyo disponible ({name}):",
        "hours": "horario",
    },
}


def _helpline_lines(resources: CountryResources, words: dict[str, str]) -> list[str]:
    lines = []
    for h in resources.helplines:
        hours = f" ({words['hours']}: {h.hours})" if h.hours != "24/7" else " (24/7)"
        lines.append(f"• {h.name}: {h.contact}{hours}, {h.description}")
    if resources.country is not None:
        lines.append(f"• {INTERNATIONAL.helplines[0].name}: {INTERNATIONAL.helplines[0].contact}")
    return lines


def crisis_message(level: RiskLevel, resources: CountryResources, language: str) -> str:
    """The scripted message for a risky message. Imminent puts the emergency number first."""
    words = _WORDS.get(language, _WORDS["en"])
    emergency = resources.emergency
    if level >= RiskLevel.IMMINENT:
        parts = [words["imminent"].format(emergency=emergency), "", words["then"], *_helpline_lines(resources, words)]
    elif level >= RiskLevel.HIGH:
        parts = [words["high"], *_helpline_lines(resources, words), "", words["emergency"].format(emergency=emergency)]
    else:
        parts = [words["elevated"], *_helpline_lines(resources, words), "", words["emergency_first"].format(emergency=emergency)]
    return "\n".join([*parts, "", words["flagged"]])


def resources_message(resources: CountryResources, language: str) -> str:
    """The answer to /resources."""
    words = _WORDS.get(language, _WORDS["en"])
    return "\n".join(
        [
            words["emergency_first"].format(emergency=resources.emergency),
            "",
            words["resources"].format(name=resources.name),
            *_helpline_lines(resources, words),
        ]
    )
