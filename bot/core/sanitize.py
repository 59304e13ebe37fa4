"""Cleaning of inbound text before anything reads it.

Removes what can hide or disguise words (zero-width characters, bidirectional
overrides, control characters), repairs invalid surrogates, normalises to NFC and caps
the length. Newlines and tabs are kept; nothing else is changed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_INVISIBLE = re.compile(
    "["
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"  # control characters except \t \n \r
    "\u00ad\u034f\u061c\u180e"  # soft hyphen, grapheme joiner, Arabic letter mark, Mongolian separator
    "\u115f\u1160\u17b4\u17b5\u3164\uffa0"  # Hangul fillers, Khmer invisible vowels
    "\u180b-\u180d\u180f"  # Mongolian variation selectors
    "\u200b-\u200f"  # zero-width space, joiners, LRM/RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064\u2066-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated format
    "\ufeff\ufff9-\ufffb"  # BOM / zero-width no-break space, interlinear annotation
    "\U0001d173-\U0001d17a"  # musical formatting
    "\U000e0000-\U000e007f"  # tag characters
    "]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class CleanText:
    text: str
    truncated: bool


def clean(text: str, max_chars: int) -> CleanText:
    text = _SURROGATE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text).strip()
    truncated = len(text) > max_chars
    return CleanText(text[:max_chars] if truncated else text, truncated)
