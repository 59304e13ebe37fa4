"""Cheap necessary conditions ("gates") for regular expressions over space-separated tokens.

Running a few hundred regular expressions over every message is too slow; most of them
cannot match most messages. `gate(pattern)` reads the parsed pattern and returns sets of
words such that every match must contain at least one word of each set as a whole token:
`(?:want|need) to (?:kill|hurt) myself` gives {want, need}, {to}, {kill, hurt}, {myself}.
A pattern's regex runs only if its gate passes, which is a few C-speed set operations.

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
_MAX_WORDS = 64  # a disjunction larger than this is not worth checking


@dataclass(frozen=True)
class Gate:
    """Every set must share a word with the message's tokens for a match to be possible."""

    word_sets: tuple[frozenset[str], ...]

    def passes(self, tokens: frozenset[str]) -> bool:
        return all(not words.isdisjoint(tokens) for words in self.word_sets)


def gate(pattern: str, keep: int = 3) -> Gate:
    """The `keep` most selective word sets that every match of `pattern` must contain."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return Gate(())
    sets = [words for words in _required(list(parsed), True, True) if len(words) <= _MAX_WORDS]
    sets.sort(key=lambda words: (len(words), -min(len(word) for word in words)))
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
        else:
            bounded = False
    if run:
        out.extend(_words("".join(run), run_left, right))
    return out


def _words(literal: str, left: bool, right: bool) -> list[frozenset[str]]:
    """Whole words inside a literal run; the edges are whole only where bounded."""
    parts = literal.split(" ")
    whole = []
    for i, part in enumerate(parts):
        if part and (i > 0 or left) and (i < len(parts) - 1 or right):
            whole.append(frozenset({part}))
    return whole


def _bounded_after(items: list[Any], start: int, right: bool) -> bool:
    """Whether whatever follows position `start` begins at a token edge (a space, or the end)."""
    for op, av in items[start:]:
        if op is sre.LITERAL:
            return av == _SPACE
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
