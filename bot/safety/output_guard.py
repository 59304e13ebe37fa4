"""The output guard: what a model reply may never contain (DESIGN.md).

Blocks methods, lethality, doses and where to get means; diet, calorie or weight targets
for someone flagged for an eating disorder; diagnoses; claims to be human or a
licensed professional; promises of secrecy; phone numbers outside the vetted table.
`strict` (safe mode, after a flag) also blocks any mention of common means.
A blocked reply is replaced by `safe_fallback`; the caller logs the reasons.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.safety.levels import Category
from bot.safety.resources import vetted_numbers


@dataclass(frozen=True)
class GuardResult:
    allowed: bool
    reasons: tuple[str, ...]


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_DOSE = r"\b\d+(?:[.,]\d+)?\s?(?:mg|milligrams?|g|grams?|mcg|ml|pills?|tablets?|capsules?|comprimés?|pastillas?|pilules?)\b"
_METHODS = _rx(
    _DOSE,
    r"\b(?:lethal|fatal|deadly|toxic)\s+(?:dose|amount|quantity|level)",
    r"\bdose\s+(?:létale|mortelle|letal|mortal)\b",
    r"\bhow\s+(?:many|much)\s+(?:pills|tablets|paracetamol|tylenol|acetaminophen|ibuprofen|insulin)",
    r"\boverdos(?:e|ing)\s+on\b",
    r"\b(?:hang(?:ing)?\s+(?:yourself|oneself)|noose|tie\s+a\s+knot|ligature)",
    r"\b(?:slit|cut)\s+(?:your|the)\s+(?:wrists?|throat|veins?)",
    r"\bcut\s+(?:deeper|vertically|along\s+the\s+vein)",
    r"\b(?:jump(?:ing)?\s+(?:off|from)|leap\s+from)\s+(?:a|the)\s+(?:bridge|building|roof|cliff|balcony)",
    r"\bcarbon\s+monoxide|\bexhaust\s+fumes|\bcharcoal\s+burning",
    r"\bpainless\s+(?:way|method)|\bquick(?:est)?\s+way\s+to\s+die|\bsure\s+way\s+to\s+die",
    r"\b(?:where|how)\s+(?:to|can\s+you|you\s+can)\s+(?:buy|get|obtain|find)\s+(?:a\s+)?(?:gun|firearm|rope|pills|poison|barbiturates|pentobarbital)",
    r"\bsuicide\s+(?:method|kit|bag)",
)
_MEANS = _rx(
    r"\b(?:pills?|tablets?|overdose|rope|noose|gun|firearm|razor|blade|bridge|poison|bleach|pesticide|train\s+tracks?)\b",
)
_EATING = _rx(
    r"\b\d{3,4}\s?(?:k?cal(?:orie)?s?|calories)\b",
    r"\b(?:calorie|caloric)\s+(?:deficit|target|limit|goal|count)",
    r"\blose\s+\d+\s?(?:kg|kilos?|pounds?|lbs?)\b",
    r"\b(?:target|goal)\s+weight\b|\bBMI\s+(?:of|below|under)\s+\d+",
    r"\b(?:fasting|fast\s+for)\s+\d+\s+(?:hours|days)|\bskip(?:ping)?\s+meals\b|\bdiet\s+plan\b",
)
_CONDITIONS = (
    r"(?:bipolar(?:\s+disorder)?|(?:major\s+|clinical\s+)?depression|depressive\s+disorder|bpd|borderline(?:\s+personality)?"
    r"|ptsd|c-ptsd|ocd|adhd|schizophreni\w*|(?:an?\s+)?anxiety\s+disorder|(?:a\s+)?personality\s+disorder"
    r"|(?:an\s+)?eating\s+disorder|anorexi\w*|bulimi\w*|psychosis|psychotic|autis\w*|narcissis\w*|trouble\s+bipolaire"
    r"|trastorno\s+bipolar|dépression|depresión)"
)
_DIAGNOSIS = _rx(
    rf"\byou\s+(?:have|are\s+suffering\s+from|suffer\s+from|(?:probably|clearly|definitely|likely)\s+have|might\s+have|seem\s+to\s+have)\s+(?:a\s+|an\s+)?{_CONDITIONS}",
    rf"\byou(?:'re|\s+are)\s+(?:clearly\s+|probably\s+|definitely\s+)?(?:bipolar|schizophrenic|psychotic|autistic|narcissistic|anorexic|bulimic|depressed\s+clinically)",
    r"\b(?:i\s+(?:would\s+)?diagnose\s+you|my\s+diagnosis\s+is|diagnosis\s+(?:is|would\s+be))",
    rf"\b(?:vous\s+(?:avez|souffrez\s+d['e]\s*)|tu\s+as)\s+(?:un\s+|une\s+|la\s+)?{_CONDITIONS}",
    rf"\b(?:tienes|usted\s+tiene|padeces)\s+(?:un\s+|una\s+)?{_CONDITIONS}",
)
_PROFESSIONAL = r"(?:therapist|psychologist|psychiatrist|counsell?or|doctor|physician|clinician|social\s+worker|mental\s+health\s+professional)"
_CLAIMS = _rx(
    rf"\b(?:i\s*am|i'm)\s+(?:a|an|your)\s+(?:licensed\s+|certified\s+|registered\s+|qualified\s+|real\s+)?{_PROFESSIONAL}",
    rf"\bas\s+(?:a|an|your)\s+(?:licensed\s+|certified\s+|registered\s+|qualified\s+)?{_PROFESSIONAL}",
    r"\b(?:i\s*am|i'm)\s+(?:a\s+)?(?:real\s+)?(?:human|person)\b(?!\s+(?:rights|being\s+like\s+you))",
    r"\bi(?:'m|\s+am)\s+not\s+(?:an?\s+)?(?:ai|bot|robot|machine|computer\s+program|language\s+model)",
    r"\bje\s+suis\s+(?:un\s+|une\s+|votre\s+)?(?:thérapeute|psychologue|psychiatre|médecin|humain|humaine|vraie\s+personne)",
    r"\bsoy\s+(?:un\s+|una\s+|tu\s+)?(?:terapeuta|psicólog[oa]|psiquiatra|médic[oa]|humano|humana|persona\s+real)",
)
_SECRECY = _rx(
    r"\bi\s+(?:won't|will\s+not|promise\s+not\s+to|would\s+never)\s+tell\s+(?:anyone|anybody|a\s+soul)",
    r"\b(?:this|it)\s+(?:stays|will\s+stay|can\s+stay)\s+(?:just\s+)?between\s+(?:us|you\s+and\s+me)",
    r"\bour\s+(?:little\s+)?secret\b",
    r"\bi\s+(?:promise|swear)\s+(?:to\s+keep|i'll\s+keep|i\s+will\s+keep)\s+(?:this|it|your\s+secret)",
    r"\b(?:entre\s+nous|je\s+ne\s+le\s+dirai\s+à\s+personne|no\s+se\s+lo\s+diré\s+a\s+nadie|entre\s+nosotros)\b",
)
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s().\-]{4,}\d(?![\w])")

_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_METHODS, "method, dose or means of self-harm"),
    (_DIAGNOSIS, "a diagnosis"),
    (_CLAIMS, "claims to be human or a professional"),
    (_SECRECY, "a promise of secrecy"),
)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u2019", "'")


def check(reply: str, *, flagged_categories: frozenset[Category] = frozenset(), strict: bool = False) -> GuardResult:
    """Whether `reply` may be sent; the reasons when it may not."""
    text = _normalise(reply)
    reasons = [reason for pattern, reason in _CHECKS if pattern.search(text)]
    if strict and _MEANS.search(text) and "method, dose or means of self-harm" not in reasons:
        reasons.append("mentions means of harm in safe mode")
    if Category.EATING_DISORDER in flagged_categories and _EATING.search(text):
        reasons.append("diet, calorie or weight targets for someone flagged for an eating disorder")
    allowed_numbers = vetted_numbers()
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(digits) >= 6 and digits not in allowed_numbers:
            reasons.append("a phone number that is not a vetted helpline")
            break
    return GuardResult(not reasons, tuple(reasons))


_FALLBACK = {
    "en": "I want to be careful with what I say here. I'm an AI, not a therapist, but I'm here to listen. Could you tell me a bit more about what's going on for you right now?",
    "fr": "Je veux faire attention à ce que je dis ici. Je suis une IA, pas un thérapeute, mais je suis là pour vous écouter. Pouvez-vous m'en dire un peu plus sur ce que vous vivez en ce moment ?",
    "es": "Quiero tener cuidado con lo que digo aquí. Soy una IA, no un terapeuta, pero estoy aquí para escucharte. ¿Me cuentas un poco más de lo que te está pasando ahora mismo?",
}
_FALLBACK_FLAGGED = {
    "en": " If you are in danger, please use /resources to reach someone now.",
    "fr": " Si vous êtes en danger, utilisez /resources pour joindre quelqu'un maintenant.",
    "es": " Si estás en peligro, usa /resources para contactar con alguien ahora.",
}


def safe_fallback(language: str, flagged: bool) -> str:
    """The reply sent instead of a blocked one."""
    text = _FALLBACK.get(language, _FALLBACK["en"])
    return text + (_FALLBACK_FLAGGED.get(language, _FALLBACK_FLAGGED["en"]) if flagged else "")
