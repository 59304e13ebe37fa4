"""Cheap necessary conditions ("gates") for regular expressions over space-separated tokens.

Running a few hundred regular expressions over every message is too slow; most of them
cannot match most messages. `gate(pattern)` reads the parsed pattern and returns sets of
words such that every match must contain at least one word of each set as a whole token:
`(?:want|need) to (?:kill|hurt) myself` gives {want, need}, {to}, {kill, hurt}, {myself}.
A pattern's regex runs only if its gate passes, which is a few C-speed set operations.
A word ending in "*" is a token prefix ("suicid*" from `suicid(?:al|e)`); `features`
lists the whole tokens and the gate prefixes present in a message.

The derivation is sound or silent: where it cannot prove a word is a whole token (inside
a character class, next to `\\w*`, in a lookaround), it proves nothing and the pattern
simply runs. A pattern with no gate always runs.
"""

from __future__ import annotations

import re
import re._constants as sre  # the parser's opcodes (private, stable across 3.11-3.13)
import re._parser as sre_parse
from dataclasses import dataclass
from typing import Any

_SPACE = ord(" ")
_ZERO_WIDTH = (sre.ASSERT, sre.ASSERT_NOT, sre.AT)  # lookarounds and anchors consume nothing
_MAX_WORDS = 64  # a disjunction larger than this is not worth checking
PREFIX_MIN = 3  # shortest token prefix worth a gate
# Words so frequent that a set containing one rarely rules anything out (en, fr, es).
COMMON = frozenset(
    """
    a an the and or but to of in on at for with is are was be been it its i im ive id me my you your he she they we
    this that so not no do dont just have has had will would can if as by from all out up about
    je j ai me ma mon mes le la les l de des du et est pas ne n un une en que qui ce c se sa son il elle y a
    el los las lo mi mis tu su sus yo es no que y en por para con un una al del ya se te le les
    """.split()
)


@dataclass(frozen=True)
class Gate:
    """Every set must share a word with the message's tokens for a match to be possible."""

    word_sets: tuple[frozenset[str], ...]

    def passes(self, features: frozenset[str]) -> bool:
        return all(not words.isdisjoint(features) for words in self.word_sets)

    @property
    def prefixes(self) -> frozenset[str]:
        return frozenset(word[:-1] for words in self.word_sets for word in words if word.endswith("*"))


@dataclass(frozen=True)
class PrefixFinder:
    """Finds which gate prefixes start a token of a text (all of them, nested ones too)."""

    prefixes: frozenset[str]
    lengths: tuple[int, ...]
    regex: re.Pattern[str]

    def found(self, text: str) -> set[str]:
        return {
            token[:length] + "*"
            for token in self.regex.findall(text)
            for length in self.lengths
            if token[:length] in self.prefixes
        }


def prefix_finder(prefixes: frozenset[str]) -> PrefixFinder | None:
    """A finder for `prefixes`, or None when there are none."""
    if not prefixes:
        return None
    body = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len, reverse=True))
    regex = re.compile(rf"(?<![a-z0-9])(?:{body})[a-z0-9]*")
    return PrefixFinder(prefixes, tuple(sorted({len(prefix) for prefix in prefixes})), regex)


def features(tokens: frozenset[str], text: str, finder: PrefixFinder | None) -> frozenset[str]:
    """The tokens of `text` plus "prefix*" for every gate prefix that starts one of them."""
    if finder is None:
        return tokens
    return tokens | finder.found(text)


def gate(pattern: str, keep: int = 3) -> Gate:
    """The `keep` most selective word sets that every match of `pattern` must contain."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return Gate(())
    sets = [words for words in _required(list(parsed), True, True) if len(words) <= _MAX_WORDS]
    sets.sort(key=lambda words: (bool(words & COMMON), len(words), -min(len(word) for word in words)))
    return Gate(tuple(sets[:keep]))


def _required(items: list[Any], left: bool, right: bool) -> list[frozenset[str]]:
    """Word sets required by a sequence; `left`/`right`: the sequence starts/ends at a token edge."""
    out: list[frozenset[str]] = []
    run: list[str] = []
    run_left = left
    bounded = left  # whether the next item starts at a token edge
    for index, (op, av) in enumerate(items):
        if op is sre.LITERAL:
            if not run:
                run_left = bounded
            run.append(chr(av))
            bounded = av == _SPACE
            continue
        if run:
            out.extend(_words("".join(run), run_left, False))
            run = []
        after = _bounded_after(items, index + 1, right)
        if op is sre.SUBPATTERN:
            out.extend(_required(list(av[-1]), bounded, after))
            bounded = _ends_with_space(av[-1]) or False
        elif op is sre.BRANCH:
            alternatives = [_required(list(alt), bounded, after) for alt in av[1]]
            if alternatives and all(alternatives):
                best = [min(sets, key=len) for sets in alternatives]
                out.append(frozenset().union(*best))
            bounded = all(_ends_with_space(alt) for alt in av[1])
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, inner = av
            if low >= 1 and high == 1:
                out.extend(_required(list(inner), bounded, after))
            ends = _ends_with_space(inner)
            bounded = (ends and bounded) if low == 0 else ends
        elif op not in _ZERO_WIDTH:
            bounded = False
    if run:
        out.extend(_words("".join(run), run_left, right))
    return out


def _words(literal: str, left: bool, right: bool) -> list[frozenset[str]]:
    """Whole words inside a literal run; the edges are whole only where bounded. A word
    bounded only on the left is a token prefix, written with a trailing "*"."""
    parts = literal.split(" ")
    words = []
    for i, part in enumerate(parts):
        starts = i > 0 or left
        ends = i < len(parts) - 1 or right
        if part and starts and ends:
            words.append(frozenset({part}))
        elif starts and len(part) >= PREFIX_MIN and part.isalnum():
            words.append(frozenset({part + "*"}))
    return words


def _bounded_after(items: list[Any], start: int, right: bool) -> bool:
    """Whether whatever follows position `start` begins at a token edge (a space, or the end)."""
    for op, av in items[start:]:
        if op in _ZERO_WIDTH:
            continue
        if op is sre.LITERAL:
            return bool(av == _SPACE)
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] == 0:
            if not _starts_with_space(av[2]):
                return False
            continue
        return False
    return right


def _ends_with_space(items: Any) -> bool:
    seq = list(items)
    if not seq:
        return False
    op, av = seq[-1]
    if op is sre.LITERAL:
        return bool(av == _SPACE)
    if op is sre.SUBPATTERN:
        return _ends_with_space(av[-1])
    if op is sre.BRANCH:
        return all(_ends_with_space(alt) for alt in av[1])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _ends_with_space(av[2])
    return False


def _starts_with_space(items: Any) -> bool:
    seq = list(items)
    if not seq:
        return False
    op, av = seq[0]
    if op is sre.LITERAL:
        return bool(av == _SPACE)
    if op is sre.SUBPATTERN:
        return _starts_with_space(av[-1])
    if op is sre.BRANCH:
        return all(_starts_with_space(alt) for alt in av[1])
    return False
