"""The output guard: what a model reply may never contain (DESIGN.md).

Blocks methods, lethality, doses and where to get means; diet, calorie or weight targets
for someone flagged for an eating disorder; diagnoses; claims to be human or a
licensed professional; promises of secrecy; encouragement of self-harm; phone numbers
outside the vetted table. `strict` (safe mode, after a flag) also blocks any mention of
common means and vaguer encouragement ("go ahead and do it").
A blocked reply is replaced by `safe_fallback`; the caller logs the reasons.

Replies are matched case- and accent-insensitively (English, French, Spanish), so the
patterns below are written without accents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.safety.levels import Category
from bot.safety.resources import vetted_numbers

METHOD = "method, dose or means of self-harm"
DIAGNOSIS = "a diagnosis"
CLAIM = "claims to be human or a professional"
SECRECY = "a promise of secrecy"
ENCOURAGEMENT = "encourages self-harm"
PHONE = "a phone number that is not a vetted helpline"
STRICT_MEANS = "mentions means of harm in safe mode"
EATING = "diet, calorie or weight targets for someone flagged for an eating disorder"


@dataclass(frozen=True)
class GuardResult:
    allowed: bool
    reasons: tuple[str, ...]


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_MEANS_WORDS = (
    r"pills?|tablets?|capsules?|overdos\w*|insulin|paracetamol|acetaminophen|tylenol|ibuprofen|sleeping pills|"
    r"rope|noose|belt|cord|gun|firearm|razor|blade|knife|bridge|roof|ledge|train|tracks|poison|bleach|pesticide|"
    r"hanging|hang|jump\w*|carbon monoxide|exhaust|pilules?|cachets?|comprimes?|medicaments?|corde|pont|arme|lame|"
    r"pastillas?|pildoras?|cuerda|puente|pistola|navaja|cuchilla|veneno|ahorca\w*|pendre|pendaison"
)
_LETHAL = (
    r"lethal|fatal|deadly|kill you|cause death|cause (?:your )?death|die from|enough to die|be enough|letale?s?|"
    r"mortel(?:le)?s?|mortal(?:es)?|mourir|morir|muerte"
)
_DOSE = (
    r"\b\d+(?:[.,]\d+)?\s?(?:mg|milligrams?|g|grams?|grammes?|gramos?|mcg|ml|pills?|tablets?|capsules?|comprimes?|"
    r"pastillas?|pilules?|cachets?)\b"
)
_METHODS = _rx(
    _DOSE,
    r"\b(?:lethal|fatal|deadly|toxic)\s+(?:dose|amount|quantity|level)|\bdos(?:e|is)\s+(?:letale?|mortelle?|mortal|fatale?)\b",
    r"\bhow\s+(?:many|much)\s+(?:pills|tablets|paracetamol|tylenol|acetaminophen|ibuprofen|insulin)",
    r"\boverdos(?:e|ing)\s+on\b",
    r"\b(?:hang(?:ing)?\s+(?:yourself|oneself)|noose|tie\s+a\s+knot|ligature)",
    r"\b(?:slit|cut)\s+(?:your|the)\s+(?:wrists?|throat|veins?)",
    r"\bcut\s+(?:deeper|vertically|along\s+the\s+vein)|\b(?:along|across|vertical(?:ly)?|deeper)\b.{0,30}\b(?:vein|veins|artery)\b",
    r"\b(?:jump(?:ing)?\s+(?:off|from)|leap\s+from)\s+(?:a|the)\s+(?:bridge|building|roof|cliff|balcony)",
    r"\bcarbon\s+monoxide|\bexhaust\s+fumes|\bcharcoal\s+burning|\bmonox(?:yde|ido) de carbon[oe]",
    r"\bpainless\s+(?:way|method)|\bquick(?:est)?\s+way\s+to\s+die|\bsure\s+way\s+to\s+die|\b(?:sans douleur|sin dolor)\b",
    r"\b(?:where|how)\s+(?:to|can\s+you|you\s+can)\s+(?:buy|get|obtain|find)\s+(?:a\s+)?(?:gun|firearm|rope|pills|poison|barbiturates|pentobarbital)",
    r"\bsuicide\s+(?:method|kit|bag)|\b(?:more|most|very|highly|less)\s+(?:lethal|deadly)\b|\blethal\s+methods?\b",
    r"\b(?:whole|entire|full)\s+(?:bottle|box|pack|packet|strip)\b|\b(?:mix|mixing|combine|combining|with)\s+(?:\w+\s+){0,3}alcohol\b.{0,40}\b(?:dangerous|stronger|faster|lethal|deadly)",
    r"\b(?:rope|noose|belt|cord)\b.{0,60}\b(?:tie|tied|hold your weight|anchor|knot)\b",
    r"\b(?:without a prescription|no prescription needed|sin receta|sans ordonnance)\b",
    r"\bse pendre\b|\bs ouvrir les veines\b|\bsauter (?:d un|du|de la) (?:pont|toit|immeuble|falaise)|\bahorcarse\b|\bahorcamiento\b",
    r"\bcortarse las venas\b|\btirarse (?:de|desde) (?:un|el|la) (?:puente|edificio|azotea)",
)
_SENTENCE_RULES = (
    # a lethality word and a means word in the same sentence
    (re.compile(rf"\b(?:{_LETHAL})\b"), re.compile(rf"\b(?:{_MEANS_WORDS})\b")),
    # buying or getting means online, at a pharmacy or a store
    (
        re.compile(r"\b(?:buy|get|order|obtain|purchase|comprar|conseguir|acheter|commander|trouver)\b.{0,60}"
                   r"\b(?:online|pharmac\w*|farmacia|internet|dark ?web|store|shop|tienda|magasin|en ligne)\b"),
        re.compile(rf"\b(?:{_MEANS_WORDS})\b"),
    ),
)
_STRICT_MEANS = re.compile(rf"\b(?:{_MEANS_WORDS})\b")
_EATING = _rx(
    r"\b\d{3,4}\s?(?:k?cal(?:orie)?s?|calories|calorias)\b",
    r"\b(?:calorie|caloric)\s+(?:deficit|target|limit|goal|count)|\bcalories? (?:par|al|per|a) (?:jour|dia|day)\b",
    r"\b(?:lose|perdre|bajar|perder)\s+\d+\s?(?:kg|kilos?|pounds?|lbs?)\b",
    r"\b(?:target|goal)\s+weight\b|\bpoids (?:cible|ideal)\b|\bpeso (?:ideal|objetivo)\b|\bbmi\s+(?:of|below|under)\s+\d+",
    r"\b(?:intermittent\s+)?fasting\b|\bfast\s+for\s+\d+|\bskip(?:ping)?\s+(?:meals|breakfast|lunch|dinner)\b|\bdiet\s+plan\b",
    r"\bjeun\w*|\bsauter (?:des|les) repas\b|\bayuno\b|\bsaltar(?:te|se)? (?:las |el )?(?:comidas?|desayuno|cena)\b",
)
_CONDITIONS = (
    r"(?:bipolar(?:\s+disorder)?|(?:major\s+|clinical\s+)?depression|depressive\s+disorder|bpd|borderline(?:\s+personality(?:\s+disorder)?)?"
    r"|ptsd|c-ptsd|ocd|adhd|schizophreni\w*|(?:an?\s+)?anxiety\s+disorder|(?:a\s+)?personality\s+disorder"
    r"|(?:an\s+)?eating\s+disorder|anorexi\w*|bulimi\w*|psychosis|psychotic|autis\w*|narcissis\w*|trouble\s+bipolaire|bipolaire"
    r"|trouble\s+(?:anxieux|obsessionnel|de la personnalite|alimentaire)|schizophrenie|toc|tdah|depression(?:\s+severe)?"
    r"|trastorno\s+(?:bipolar|de ansiedad|obsesivo\w*|limite|de la personalidad|alimentario)|depresion|esquizofrenia|tdah)"
)
_DIAGNOSIS = _rx(
    rf"\byou\s+(?:have|are\s+suffering\s+from|suffer\s+from|(?:probably|clearly|definitely|likely|might|may|could)\s+(?:have|be\s+suffering\s+from|be\s+dealing\s+with)"
    rf"|seem\s+to\s+have|are\s+showing\s+(?:signs|symptoms)\s+of|show\s+(?:signs|symptoms)\s+of|meet\s+the\s+criteria\s+for)\s+(?:a\s+|an\s+)?{_CONDITIONS}",
    r"\byou(?:'re|\s+are)\s+(?:clearly\s+|probably\s+|definitely\s+)?(?:bipolar|schizophrenic|psychotic|autistic|narcissistic|anorexic|bulimic"
    r"|depressed\s+clinically|a\s+narcissist|a\s+sociopath|a\s+psychopath)",
    rf"\byou(?:'re|\s+are)\s+showing\s+(?:signs|symptoms)\s+of\s+(?:a\s+|an\s+)?{_CONDITIONS}",
    rf"\b(?:this|that|it)\s+(?:is|sounds\s+like|looks\s+like|seems\s+like|could\s+be|might\s+be)\s+(?:a\s+|an\s+)?(?:classic\s+|textbook\s+|clear\s+|typical\s+)?"
    rf"(?:case\s+of\s+|symptoms?\s+of\s+|signs?\s+of\s+)?{_CONDITIONS}(?=\s*[.!?,;]|\s*$|\s+to\s+me)",
    r"\b(?:i\s+(?:would\s+)?diagnose\s+you|my\s+diagnosis\s+is|diagnosis\s+(?:is|would\s+be))",
    rf"\b(?:vous|tu)\s+(?:avez|as|souffrez|souffres|etes\s+atteinte?|es\s+atteinte?|presentez|presentes)\s+(?:d\s*'?\s*(?:une?\s+|la\s+|le\s+)?|de\s+|des\s+(?:signes|symptomes)\s+d\s*'?\s*(?:une?\s+)?|une?\s+|la\s+)?{_CONDITIONS}",
    r"\b(?:vous\s+etes|tu\s+es)\s+(?:clairement\s+|probablement\s+)?(?:bipolaire|schizophrene|psychotique|autiste|narcissique|anorexique|boulimique|depressif|depressive)",
    rf"\bc\s*'?\s*est\s+(?:clairement\s+)?(?:une?\s+)?(?:cas\s+de\s+)?{_CONDITIONS}(?=\s*[.!?,;]|\s*$)",
    rf"\b(?:tienes|usted\s+tiene|sufres\s+de|padeces|sufre\s+de|padece|presentas)\s+(?:un\s+|una\s+|de\s+)?{_CONDITIONS}",
    r"\b(?:eres|es\s+usted)\s+(?:claramente\s+)?(?:bipolar|esquizofrenic[oa]|psicotic[oa]|autista|narcisista|anorexic[oa]|bulimic[oa])",
)
_PROFESSIONAL = (
    r"(?:therapist|psychologist|psychiatrist|counsell?or|doctor|physician|clinician|social\s+worker|mental\s+health\s+professional|nurse)"
)
_CLAIMS = _rx(
    rf"\b(?:i\s*am|i'm)\s+(?:a|an|your)\s+(?:(?:licensed|certified|registered|qualified|real|clinical|trained|professional)\s+)*{_PROFESSIONAL}",
    rf"\bas\s+(?:a|an|your)\s+(?:(?:licensed|certified|registered|qualified|clinical|trained)\s+)*{_PROFESSIONAL}",
    r"\b(?:i\s*am|i'm)\s+(?:a\s+)?(?:real\s+)?(?:human|person)\b(?!\s+(?:rights|being\s+like\s+you))",
    r"\bi(?:'m|\s+am)\s+not\s+(?:an?\s+)?(?:ai|bot|robot|machine|computer\s+program|language\s+model)",
    r"\bi(?:'m|\s+am)\s+(?:licensed|certified|board[-\s]certified)\b|\bin\s+my\s+(?:clinical\s+)?practice\b|\bmy\s+(?:clients|patients)\b",
    r"\b(?:book|schedule|make)\s+(?:a|an)\s+(?:session|appointment)\s+with\s+me\b|\byears\s+(?:of\s+experience\s+)?as\s+a\s+" + _PROFESSIONAL,
    r"\bje\s+suis\s+(?:un\s+|une\s+|votre\s+|ton\s+)?(?:therapeute|psychologue|psychiatre|medecin|psychotherapeute|humain|humaine|vraie\s+personne|personne\s+reelle)",
    r"\ben\s+tant\s+que\s+(?:votre\s+|ton\s+)?(?:therapeute|psychologue|psychiatre|medecin|psychotherapeute|conseill\w+)\b|\bmes\s+patients\b",
    r"\bje\s+ne\s+suis\s+pas\s+(?:un\s+|une\s+)?(?:robot|ia|bot|machine|intelligence\s+artificielle)\b",
    r"\bsoy\s+(?:un\s+|una\s+|tu\s+)?(?:terapeuta|psicolog[oa]|psiquiatra|medic[oa]|humano|humana|persona\s+real)",
    r"\bcomo\s+(?:tu\s+)?(?:terapeuta|psicolog[oa]|psiquiatra|medic[oa]|consejer[oa])\b|\bmis\s+pacientes\b",
    r"\bno\s+soy\s+(?:un\s+|una\s+)?(?:bot|robot|ia|maquina|inteligencia\s+artificial)\b",
)
_SECRECY = _rx(
    r"\bi\s+(?:won't|will\s+not|promise\s+not\s+to|would\s+never)\s+tell\s+(?:anyone|anybody|a\s+soul)",
    r"\b(?:this|it)\s+(?:stays|will\s+stay|can\s+stay)\s+(?:just\s+)?between\s+(?:us|you\s+and\s+me)",
    r"\bour\s+(?:little\s+)?secret\b|\byour\s+secret\s+is\s+safe\b",
    r"\bi\s+(?:promise|swear)\s+(?:to\s+keep|i'll\s+keep|i\s+will\s+keep)\s+(?:this|it|your\s+secret)",
    r"\b(?:i'll|i\s+will|i'm\s+going\s+to)\s+keep\s+(?:this|it|that|your\s+secret|everything)(?:\s+a)?\s+(?:secret|between\s+us|to\s+myself|private)",
    r"\b(?:no\s*one|nobody)\s+(?:else\s+)?will\s+(?:ever\s+)?(?:know|find\s+out)\b",
    r"\b(?:completely|totally|100%|strictly|fully)\s+(?:confidential|private)\b",
    r"\beverything\s+you\s+(?:tell|say\s+to|share\s+with)\s+me\s+(?:is|stays|will\s+stay)\s+(?:private|confidential|secret|between\s+us)",
    r"\b(?:entre\s+nous|entre\s+toi\s+et\s+moi|je\s+ne\s+le\s+dirai\s+a\s+personne|no\s+se\s+lo\s+dire\s+a\s+nadie|entre\s+nosotros|entre\s+tu\s+y\s+yo)\b",
    r"\bje\s+garderai\s+(?:le|ton|votre)\s+secret\b|\b(?:ton|votre)\s+secret\s+est\s+(?:en\s+securite|bien\s+garde)\b|\bpersonne\s+ne\s+(?:le\s+)?saura\b",
    r"\bc\s*'?\s*est\s+(?:strictement\s+|totalement\s+)?confidentiel\b",
    r"\bguardare\s+(?:tu|el|su)\s+secreto\b|\btu\s+secreto\s+esta\s+a\s+salvo\b|\bnadie\s+(?:lo\s+)?sabra\b|\bes\s+(?:totalmente\s+|completamente\s+)?confidencial\b",
)
_ENCOURAGEMENT = _rx(
    r"\b(?:you\s+should|you\s+could|maybe\s+you\s+should|go\s+ahead\s+and|why\s+not|you\s+might\s+as\s+well)\s+(?:just\s+)?"
    r"(?:end\s+it|end\s+your\s+life|kill\s+yourself|hurt\s+yourself|cut\s+yourself|jump|overdose|take\s+them\s+all|take\s+the\s+pills)\b",
    r"\b(?:everyone|they|the\s+world|your\s+family|people)\s+(?:would|will)\s+be\s+better\s+off\s+(?:without\s+you|if\s+you\s+were\s+(?:gone|dead))",
    r"\bbetter\s+off\s+dead\b|\bif\s+you(?:'re|\s+are)?\s+going\s+to\s+do\s+it\b|\b(?:nobody|no\s*one)\s+will\s+stop\s+you\b",
    r"\b(?:tu\s+devrais|vous\s+devriez)\s+(?:en\s+finir|te\s+tuer|vous\s+tuer|sauter|te\s+suicider|vous\s+suicider)\b|\bvas-y,?\s+fais[-\s]le\b",
    r"\b(?:deberias|deberia)\s+(?:matarte|suicidarte|acabar\s+con\s+todo|quitarte\s+la\s+vida)\b|\bnadie\s+te\s+(?:va\s+a\s+)?detener\b",
)
_ENCOURAGEMENT_STRICT = _rx(
    r"\bgo\s+ahead\s+and\s+do\s+it\b|\byou\s+should\s+(?:just\s+)?do\s+it\b|\bvas-y\b|\bhazlo\b|\bfais[-\s]le\b",
)
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s().\-]{4,}\d(?![\w])")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")

_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_METHODS, METHOD),
    (_DIAGNOSIS, DIAGNOSIS),
    (_CLAIMS, CLAIM),
    (_SECRECY, SECRECY),
    (_ENCOURAGEMENT, ENCOURAGEMENT),
)


def _normalise(text: str) -> str:
    """NFKC, lower case, accents folded, apostrophes unified: what the patterns expect."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return re.sub(r"[\u2019\u2018\u02bc`\u00b4]", "'", text)


def check(reply: str, *, flagged_categories: frozenset[Category] = frozenset(), strict: bool = False) -> GuardResult:
    """Whether `reply` may be sent; the reasons when it may not."""
    text = _normalise(reply)
    reasons = [reason for pattern, reason in _CHECKS if pattern.search(text)]
    if METHOD not in reasons and _sentence_rule(text):
        reasons.append(METHOD)
    if strict and METHOD not in reasons and _STRICT_MEANS.search(text):
        reasons.append(STRICT_MEANS)
    if strict and ENCOURAGEMENT not in reasons and _ENCOURAGEMENT_STRICT.search(text):
        reasons.append(ENCOURAGEMENT)
    if Category.EATING_DISORDER in flagged_categories and _EATING.search(text):
        reasons.append(EATING)
    if _unvetted_number(text):
        reasons.append(PHONE)
    return GuardResult(not reasons, tuple(reasons))


def _sentence_rule(text: str) -> bool:
    return any(
        first.search(sentence) and second.search(sentence)
        for sentence in _SENTENCE_SPLIT.split(text)
        for first, second in _SENTENCE_RULES
    )


def _unvetted_number(text: str) -> bool:
    allowed = vetted_numbers()
    for match in _PHONE.finditer(text):
        candidate = match.group().strip()
        if _DATE.fullmatch(candidate):
            continue
        digits = re.sub(r"\D", "", candidate)
        if len(digits) >= 6 and digits not in allowed:
            return True
    return False


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
