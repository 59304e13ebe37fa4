"""Text cleaning rules for scraped counseling answers.

Each function takes one text and returns the cleaned text with a count of what it
changed, so `training.data` can report per step how much each rule did. The rules are
written against what the counsel-chat scrape actually contains: sentences glued
together where the scraper dropped line breaks ("hang out with.Seriously"), links and
phone numbers of the therapist's practice, and signatures with credentials
("Be well.Robin J. Landwehr, DBH, LPC, NCC").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Quotes, dashes and spaces the scrape carries in several encodings; NFKC keeps curly
# quotes, so they are mapped by hand.
_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": " - ",
        "\u2026": "...",
        "\u00a0": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)
_SPACES = re.compile(r"[ \t\f\v]+")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# Bare domains need a lower-case TLD, so a glued "with.Us" is not taken for a link.
URL_RE = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|info|ca|uk|au)\b(?:/\S*)?"
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[email\s*protected\]", re.IGNORECASE)
PHONE_RE = re.compile(
    r"(?<![\w/])(?:"
    r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"  # North American
    r"|1-\d{3}-\d-[A-Z]-[A-Z]{4,}"  # vanity numbers: 1-800-4-A-CHILD
    r"|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}"  # international
    r"|0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4}"  # national trunk prefix: 0800 123 4567
    r")(?![\w/])"
)

# Glued sentences: a word of two or more lower-case letters, closing punctuation
# (maybe with a closing quote or bracket on either side), then a capital letter with
# no space between.
# Two letters keep "e.g.X", "U.S.A" and "Ph.D" intact.
_GLUED = re.compile(r"([a-z]{2}['\")\]]*[.!?;:,]['\")\]]*|:\))(?=[A-Z])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")

_CREDENTIALS = (
    "LCSW|LICSW|LMSW|LSW|MSW|LPC|LPCC|LPCS|LPC-S|LCPC|LMHC|LMHCA|LMFT|MFT|LCADC|CADC|CASAC|LMAC|"
    "NCC|DBH|PhD|Ph\\.D\\.?|PsyD|Psy\\.D\\.?|EdD|Ed\\.D\\.?|MA|M\\.A\\.?|MS|M\\.S\\.?|MEd|M\\.Ed\\.?|"
    "RN|MD|LAC|LADC|ATR|RPT|CST|CSAT|CEAP|CPC|NCPsyA|LP"
)
# "Name Surname, CRED, CRED" or "Name CRED CRED" at the very end of an answer.
_SIGNATURE = re.compile(
    r"(?:^|(?<=[\s.!?,]))[~-]?\s*"
    r"[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3},?"
    rf"(?:[\s,]+(?:{_CREDENTIALS}))+\.?\s*$"
)
_TILDE_SIGNATURE = re.compile(r"(?:^|\s)~\s*[A-Z][\w'.-]*(?:\s*\([^)]*\))?\s*$")
_CLOSERS = (
    "be well",
    "best",
    "best wishes",
    "best wishes to you",
    "warm regards",
    "warmest regards",
    "my very warmest regards to you",
    "kind regards",
    "regards",
    "warmly",
    "sincerely",
    "respectfully",
    "blessings",
    "cheers",
    "take care",
    "all the best",
)
_CLOSER = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?:" + "|".join(re.escape(c) for c in sorted(_CLOSERS, key=len, reverse=True)) + r")"
    r"\s*[.,!]*\s*$",
    re.IGNORECASE,
)


def normalise(text: str) -> tuple[str, int]:
    """NFKC, plain quotes and dashes, single spaces, at most one blank line.

    Returns the text and 1 if it changed, else 0.
    """
    out = unicodedata.normalize("NFKC", text.translate(_CHAR_MAP))
    out = out.replace("\r\n", "\n").replace("\r", "\n")
    out = _SPACES.sub(" ", out)
    out = _SPACE_AROUND_NEWLINE.sub("\n", out)
    out = _MANY_NEWLINES.sub("\n\n", out).strip()
    return out, int(out != text)


def repair_glued(text: str) -> tuple[str, int]:
    """Insert the space the scrape lost between sentences; links are left alone.

    Returns the text and the number of spaces inserted.
    """
    pieces: list[str] = []
    repairs = 0
    last = 0
    for match in _contact_spans(text):
        fixed, count = _GLUED.subn(r"\1 ", text[last : match[0]])
        pieces.append(fixed)
        pieces.append(text[match[0] : match[1]])
        repairs += count
        last = match[1]
    fixed, count = _GLUED.subn(r"\1 ", text[last:])
    pieces.append(fixed)
    return "".join(pieces), repairs + count


def scrub(text: str) -> tuple[str, int]:
    """Remove sentences that carry a URL, an e-mail address or a phone number, and a
    therapist's sign-off (closing formula, name and credentials) at the end.

    Sentences go whole: blanking the number alone would leave "please call  and" for
    the model to learn. Returns the text and the number of items removed.
    """
    removed = 0
    lines: list[str] = []
    for line in text.split("\n"):
        kept: list[str] = []
        for sentence in split_sentences(line):
            hits = len(URL_RE.findall(sentence)) + len(EMAIL_RE.findall(sentence)) + len(PHONE_RE.findall(sentence))
            if hits:
                removed += hits
            else:
                kept.append(sentence)
        if kept or not line.strip():
            lines.append(" ".join(kept))
    out = _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
    out, signoffs = strip_signoff(out)
    return out, removed + signoffs


def strip_signoff(text: str) -> tuple[str, int]:
    """Strip a trailing signature and the closing formula before it, repeatedly."""
    removed = 0
    while True:
        stripped = _SIGNATURE.sub("", text).rstrip()
        stripped = _TILDE_SIGNATURE.sub("", stripped).rstrip()
        stripped = _CLOSER.sub("", stripped).rstrip()
        if stripped == text.rstrip():
            return stripped, removed
        removed += 1
        text = stripped


def split_sentences(text: str) -> list[str]:
    """Split on sentence-final punctuation followed by space, and on line breaks."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def contains_contact(text: str) -> bool:
    """Whether the text still holds a URL, an e-mail address or a phone number."""
    return bool(URL_RE.search(text) or EMAIL_RE.search(text) or PHONE_RE.search(text))


def word_count(text: str) -> int:
    return len(text.split())


def _contact_spans(text: str) -> Iterable[tuple[int, int]]:
    spans = sorted(m.span() for regex in (URL_RE, EMAIL_RE) for m in regex.finditer(text))
    end = -1
    for start, stop in spans:
        if start >= end:
            yield start, stop
            end = stop
