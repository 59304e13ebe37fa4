"""Normalisation of a user message for the risk rules, done once per message.

`normalize(text)` returns the message as a tuple of tokens in a canonical form:

- Unicode NFKC, emoji mapped to words (💊 → "pills", 🔪 → "knife", 👋 → "bye"),
- case-folded, accents folded ("suicidé" → "suicide", "años" → "anos"),
- apostrophes: English contractions are fused ("don't" → "dont", "I'm" → "im"), French
  elisions become separate tokens ("j'ai" → "j ai", "m'ouvrir" → "m ouvrir"),
- leetspeak inside words ("k1ll" → "kill", "su1c1d3" → "suicide"), masked words
  ("k*ll" → "kill"), spelled-out words ("s.u.i.c.i.d.e", "k m s"),
- letters repeated for emphasis ("diiiie" → "die", "killlll" → "kill"),
- punctuation reduced to clause marks: "." ends a sentence, "," ends a clause.

Language-specific slang and misspellings ("kms", "jveux", "kiero") are expanded later, per
language, by `expand` with the language's table, on the same tokens.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

SENTENCE = "."
CLAUSE = ","

# Emoji that carry meaning for the rules. Skin-tone modifiers and variation selectors
# are stripped first, so one entry covers every variant.
EMOJI: Mapping[str, str] = {
    "\U0001F48A": "pills",  # pill
    "\U0001F489": "needle",  # syringe
    "\U0001F52A": "knife",  # kitchen knife
    "\U0001F5E1": "knife",  # dagger
    "\U0001FA92": "razor",  # razor
    "\u2702": "scissors",
    "\U0001FA78": "blood",  # drop of blood
    "\U0001F52B": "gun",  # pistol
    "\U0001FAA2": "rope",  # knot
    "\u26B0": "coffin",
    "\U0001FAA6": "grave",  # headstone
    "\U0001F480": "skull",
    "\u2620": "skull",
    "\U0001F602": "lol",
    "\U0001F923": "lol",
    "\U0001F639": "lol",
    "\U0001F62D": "crying",
    "\U0001F622": "crying",
    "\U0001F44B": "bye",  # waving hand
    "\U0001F309": "bridge",  # bridge at night
    "\U0001F686": "train",
    "\U0001F682": "train",
    "\U0001F684": "train",
    "\U0001F687": "train",
    "\U0001F3E2": "building",
    "\U0001F3D9": "building",
    "\U0001F494": "heartbroken",
    "\U0001F940": "wilted",
    "\U0001F92E": "vomit",
    "\U0001F377": "alcohol",
    "\U0001F37A": "alcohol",
    "\U0001F943": "alcohol",
    "\U0001F37E": "alcohol",
    "\U0001F691": "ambulance",
    "\U0001F198": "help",
    "\U0001F61E": "sad",
    "\U0001F614": "sad",
}
_STRIP = {0xFE0F: None, 0xFE0E: None, 0x200D: None, **{cp: None for cp in range(0x1F3FB, 0x1F400)}}
_EMOJI_RE = re.compile("|".join(re.escape(e) for e in sorted(EMOJI, key=len, reverse=True)))

_APOSTROPHES = re.compile(r"[\u2019\u2018\u02bc\u00b4`\u2032]")
_ELISION = re.compile(r"\b(qu|[jmtsldnc])'(?=[a-z])")
_OD = re.compile(r"\bod'?(d|ed|ing)?\b")  # "OD'd", "ODing": overdose shorthand
_SEPARATE = re.compile(r"[.!?;\u2026]+|[,:]+|[^\w\s.!?;,:*@$|+'\u2026]+")
_MEASURE = re.compile(
    r"\d+(?:[.,]\d+)?(?:st|nd|rd|th|s|mg|mcg|g|kg|kgs|kilos?|lb|lbs|ml|h|hrs?|mins?|am|pm|k|m|cm|mm|ft|yo|y|x|ans|anos|m\d+)?"
)
_SPELLED = re.compile(r"(?:[a-z][.\-_])+[a-z]\.?")
_EDGE = ".!?;,:\u2026\"()[]{}<>"
_INNER_BANG = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_SPELL_RUN = re.compile(r"(?<![^ ])[a-z](?: [a-z]){2,}(?![^ ])")  # three one-letter tokens in a row
_DOUBLE = re.compile(r"([a-z])\1")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "9": "g", "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_LEET_CHARS = frozenset("0134579@$!|+")

# Words the repeated-letter and leetspeak repairs may produce. A repair that yields one of
# these wins; otherwise the repair keeps the shape the writer most likely meant.
VOCAB: frozenset[str] = frozenset(
    """
    a all alone alive anymore are bad be bleed bleeding blood bye cut cutting dead death die
    died dies dying done end feel gone good goodbye hang harm hate help hurt i is it kill
    killed killing kms life live living me my myself need never no noose off over pills please
    really rope sad see self sleep so sorry still stop suicide suicidal take tell tired to took
    too want well will wish with
    adieu aide envie marre mort morte mourir moi suicide suicider suicidaire tuer veux vie vivre
    adios ayuda matar matarme morir muerto muerta quiero suicidarme suicidio vida vivir
    """.split()
)
_MASKABLE = (
    "kill killing killed suicide suicidal die dying dead death myself self harm cut cutting "
    "rape raped overdose hang noose unalive mourir suicider suicidaire tuer morir matarme "
    "suicidarme suicidio"
).split()
_SPELLABLE = VOCAB | frozenset(_MASKABLE) | {"kms", "kys", "ctb"}


# Cyrillic and Greek letters that look like Latin ones ("kіll" with a Cyrillic і), mapped
# back when a message also holds Latin letters: look-alikes must not hide words.
_HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁӏһкмтвнАВЕКМНОРСТХІЈЅοαει\u03baνρτυΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdlhkmtbhABEKMHOPCTXIJSoaeikvptuABEHIKMNOPTYX",
)
_LATIN = re.compile("[A-Za-z]")
# A line break inside a sentence (no closing punctuation before it, a lower-case word
# after it) is a space, so "kill\nmyself" stays one phrase; other line breaks end a sentence.
_SOFT_BREAK = re.compile(r"(?<![.!?;:\s])[ \t]*\n(?=[ \t]*[a-zà-ÿ])")


def normalize(text: str) -> tuple[str, ...]:
    """The message as canonical tokens; "." and "," tokens mark sentence and clause ends."""
    text = unicodedata.normalize("NFKC", text)
    if "\n" in text:
        text = _SOFT_BREAK.sub(" ", text)
    if not text.isascii():
        if _LATIN.search(text):
            text = text.translate(_HOMOGLYPHS)
        text = text.translate(_STRIP)
        text = _EMOJI_RE.sub(lambda m: f" {EMOJI[m.group()]} ", text)
        text = _fold_accents(text.casefold())
        text = _APOSTROPHES.sub("'", text)
    else:
        text = text.lower()
    text = text.replace("\n", " . ")
    if "'" in text:
        text = _OD.sub(_od, text)
        text = _ELISION.sub(r"\1 ", text)
    tokens: list[str] = []
    repeats = _REPEAT.search(text) is not None
    for raw in text.split():
        if raw.isalpha():
            tokens.append(_repair_repeats(raw) if repeats and _REPEAT.search(raw) else raw)
        else:
            _split_token(raw, tokens)
    if _SPELL_RUN.search(" ".join(tokens)) is None:
        return tuple(tokens)
    return tuple(_join_spelled(tokens))


def expand(tokens: Iterable[str], table: Mapping[str, str]) -> str:
    """Join tokens into one space-separated string, replacing slang with its expansion."""
    return " ".join(table.get(token, token) for token in tokens)


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _od(match: re.Match[str]) -> str:
    return {None: "overdose", "d": "overdosed", "ed": "overdosed", "ing": "overdosing"}[match.group(1)]


def _split_token(raw: str, out: list[str]) -> None:
    """Split one whitespace-delimited chunk into word and clause-mark tokens."""
    start = len(raw) - len(raw.lstrip(_EDGE))
    core = raw[start:].rstrip(_EDGE)
    _marks(raw[:start], out)
    if core:
        if "!" in core or "|" in core:
            core = _INNER_BANG.sub("i", core)
        if _SPELLED.fullmatch(core):
            out.append(re.sub(r"[.\-_]", "", core))
        elif _MEASURE.fullmatch(core):
            out.append(core)
        else:
            for piece in _SEPARATE.sub(lambda m: f" {_mark(m.group())} ", core).split():
                repaired = _repair(piece)
                if repaired:
                    out.append(repaired)
    _marks(raw[start + len(core) :], out)


def _marks(chars: str, out: list[str]) -> None:
    if any(ch in ".!?;\u2026" for ch in chars):
        out.append(SENTENCE)
    elif any(ch in ",:" for ch in chars):
        out.append(CLAUSE)


def _mark(chars: str) -> str:
    if chars[0] in ".!?;\u2026":
        return SENTENCE
    if chars[0] in ",:":
        return CLAUSE
    return " "


def _repair(piece: str) -> str:
    """Leetspeak, masks, stray apostrophes and emphasis inside one word."""
    if piece in (SENTENCE, CLAUSE):
        return piece
    if "'" in piece:
        piece = piece.replace("'", "")
    if "*" in piece:
        piece = _unmask(piece)
    if any(ch in _LEET_CHARS for ch in piece) and not _MEASURE.fullmatch(piece):
        piece = _unleet(piece)
    piece = piece.strip("*@$|+_")
    if _REPEAT.search(piece):
        piece = _repair_repeats(piece)
    return piece


def _unleet(piece: str) -> str:
    letters = sum(ch.isalpha() for ch in piece)
    if letters == 0:
        return piece
    mapped = piece.translate(_LEET)
    if mapped in VOCAB or (letters >= 2 and letters >= len(piece) - letters):
        return mapped
    return piece


def _unmask(piece: str) -> str:
    stripped = piece.strip("*")
    if not stripped or "*" not in stripped:
        return stripped or piece
    shape = re.compile(re.escape(stripped).replace(r"\*", "[a-z]"))
    for word in _MASKABLE:
        if shape.fullmatch(word):
            return word
    return stripped.replace("*", "")


def _repair_repeats(word: str) -> str:
    """Collapse emphasis: a run of three or more letters becomes one or two."""
    double = _REPEAT.sub(r"\1\1", word)
    single = _REPEAT.sub(r"\1", word)
    if single in VOCAB:
        return single
    if double in VOCAB:
        return double
    undoubled = _DOUBLE.sub(r"\1", double)
    if undoubled in VOCAB:
        return undoubled
    return single


def _join_spelled(tokens: list[str]) -> list[str]:
    """Join runs of one-letter tokens that spell a known word ("k m s", "s u i c i d e")."""
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        joined = "".join(run)
        out.extend([joined] if len(run) >= 3 and joined in _SPELLABLE else run)
        run = []
        if token:
            out.append(token)
    return out
