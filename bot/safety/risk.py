"""Risk assessment of a user message, in the context of its session. No model involved.

`assess(text, history, locale)` normalises the message once (`bot.safety.normalize`),
matches the English, French and Spanish lexicons (`bot.safety.lexicon`) and combines
the hits with the session's earlier messages:

- the tier is the highest hit of this message, read in the session's context: rules
  about means, plans, places or goodbyes that only make sense after talk of suicide
  ("I'm at the tracks now") count when an earlier message said so;
- a retraction ("jk", "forget it", "c'était une blague") never lowers: the message that
  retracts keeps the highest earlier tier;
- several milder messages escalate: risk signals in three messages (this one included)
  give at least `elevated`; elevated signals in three messages give `high`.

The returned tier is this message's tier in context, not the session's maximum: a
benign message after a flagged one is `none` (the session keeps its own tier). The
function is pure and synchronous; patterns are compiled at import.

Each call re-reads the history, so what one message says on its own is memoised in a
bounded table keyed by a digest of the message: it holds rule hits and cue names, never
the text.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.safety.lexicon import LEXICONS
from bot.safety.levels import Category, RiskLevel
from bot.safety.normalize import expand, normalize
from bot.safety.rules import CompiledLexicon, Hit, Session, Text, compile_lexicon, match, session_cues, with_session

HISTORY_LIMIT = 20  # earlier messages considered; the conversation manager passes fewer
ESCALATION_MESSAGES = 3  # messages with signals that escalate a conversation by one tier
MEMO_SIZE = 4096  # messages whose own analysis is remembered
SELF_CATEGORIES = frozenset({Category.SUICIDE, Category.SELF_HARM})

_LEXICONS: tuple[CompiledLexicon, ...] = tuple(compile_lexicon(lexicon) for lexicon in LEXICONS)
_LANGUAGES = tuple(lexicon.language for lexicon in _LEXICONS)
_LOCALE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,3}))?")


@dataclass(frozen=True)
class Assessment:
    """The risk tier of one message in its session, and why.

    `reasons` are rule descriptions a moderator can read; they never quote the user.
    `language` is the language the message is written in ("en", "fr" or "es").
    """

    level: RiskLevel
    categories: tuple[Category, ...]
    reasons: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class _Own:
    """What one message says on its own. Holds no text: rule hits and cue names only."""

    hits: tuple[Hit, ...]
    language: str
    retraction: bool
    cues: Mapping[str, frozenset[str]]  # language -> session-scope cues present

    @property
    def suicidal(self) -> bool:
        """Talks about the writer's own suicide or self-harm (negated statements included)."""
        return any(
            hit.rule.category in SELF_CATEGORIES and hit.rule.needs is None and not hit.rule.third_party for hit in self.hits
        )


@dataclass
class _Message:
    own: _Own
    hits: list[Hit]
    level: RiskLevel

    def signals(self, minimum: RiskLevel) -> list[Hit]:
        return [hit for hit in self.hits if hit.level >= minimum]


class _Memo:
    """A bounded, thread-safe LRU of `_Own` keyed by a digest of (locale, text)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, _Own] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, locale: str | None) -> _Own:
        key = hashlib.blake2b(f"{locale or ''}\0{text}".encode(errors="surrogatepass"), digest_size=16).digest()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        own = _own(text, locale)
        with self._lock:
            self._items[key] = own
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return own


_MEMO = _Memo(MEMO_SIZE)


def assess(text: str, history: Sequence[str] = (), locale: str | None = None) -> Assessment:
    """Assess `text`, given the session's earlier user messages (`history`, oldest first)."""
    earlier: list[_Message] = []
    context = False
    cues: dict[str, frozenset[str]] = {}
    for previous in list(history)[-HISTORY_LIMIT:]:
        own = _MEMO.get(previous, locale)
        message = _in_session(own, cues, context)
        context = context or own.suicidal
        earlier.append(message)
        for language, names in own.cues.items():
            if names:
                cues[language] = cues.get(language, frozenset()) | names
    current = _in_session(_MEMO.get(text, locale), cues, context)
    level = current.level
    hits = current.signals(RiskLevel.CONCERN)
    categories = [category for hit in hits for category in hit.categories]
    reasons = [hit.reason for hit in sorted(hits, key=lambda hit: -hit.level)]

    highest_before = max((message.level for message in earlier), default=RiskLevel.NONE)
    if current.own.retraction and highest_before > level:
        level = highest_before
        categories += [c for message in earlier if message.level == highest_before for hit in message.signals(highest_before) for c in hit.categories]
        reasons.append(f"retraction after earlier {highest_before.label} statements: the earlier tier is kept")

    if current.level >= RiskLevel.CONCERN:
        escalated = _escalation([*earlier, current])
        if escalated is not None and escalated[0] > level:
            level, reason, contributing = escalated
            reasons.append(reason)
            categories += [c for message in contributing for hit in message.signals(RiskLevel.CONCERN) for c in hit.categories]

    return Assessment(level, tuple(dict.fromkeys(categories)), tuple(dict.fromkeys(reasons)), current.own.language)


def detect_language(text: str, locale: str | None = None) -> str:
    """The language `text` is written in: "en", "fr" or "es" (the locale breaks ties)."""
    return _language(normalize(text), _locale_language(locale))


def _own(text: str, locale: str | None) -> _Own:
    tokens = normalize(text)
    hits: list[Hit] = []
    cues: dict[str, frozenset[str]] = {}
    retraction = False
    for lexicon in _LEXICONS:
        normal = Text.of(expand(tokens, lexicon.lexicon.slang))
        hits.extend(match(lexicon, normal))
        cues[lexicon.language] = session_cues(lexicon, normal)
        retraction = retraction or lexicon.cue_in("retraction", normal)
    return _Own(tuple(hits), _language(tokens, _locale_language(locale)), retraction, cues)


def _in_session(own: _Own, cues: Mapping[str, frozenset[str]], context: bool) -> _Message:
    """A message's hits given its session (the session-scope cues of earlier messages, and
    whether they talked about suicide): session boosts, then context-dependent rules."""
    if not own.hits:
        return _Message(own, [], RiskLevel.NONE)
    hits = [with_session(hit, Session(cues[hit.language])) if hit.language in cues else hit for hit in own.hits]
    resolved = _resolve(hits, context or own.suicidal)
    return _Message(own, resolved, max((hit.level for hit in resolved), default=RiskLevel.NONE))


def _resolve(hits: list[Hit], suicidal_context: bool) -> list[Hit]:
    """Drop hits that need a context the session lacks, and fallbacks covered by a specific rule."""
    kept = [hit for hit in hits if hit.context_ok or suicidal_context]
    specific = [hit for hit in kept if not hit.rule.fallback]
    return [
        hit
        for hit in kept
        if not hit.rule.fallback
        or not any(
            other.language == hit.language
            and other.rule.category == hit.rule.category
            and other.start < hit.end
            and hit.start < other.end
            for other in specific
        )
    ]


def _escalation(messages: list[_Message]) -> tuple[RiskLevel, str, list[_Message]] | None:
    elevated = [message for message in messages if message.level >= RiskLevel.ELEVATED]
    if len(elevated) >= ESCALATION_MESSAGES:
        return RiskLevel.HIGH, f"elevated risk statements in {len(elevated)} messages of this conversation", elevated
    concerning = [message for message in messages if message.level >= RiskLevel.CONCERN]
    if len(concerning) >= ESCALATION_MESSAGES:
        return RiskLevel.ELEVATED, f"risk signals in {len(concerning)} messages of this conversation", concerning
    return None


def _locale_language(locale: str | None) -> str | None:
    if not locale:
        return None
    found = _LOCALE.match(locale)
    if found is None:
        return None
    language = found.group(1).lower()
    return language if language in _LANGUAGES else None


def _language(tokens: tuple[str, ...], hint: str | None) -> str:
    scores = {lexicon.language: 0 for lexicon in _LEXICONS}
    for token in tokens:
        for lexicon in _LEXICONS:
            if token in lexicon.lexicon.markers:
                scores[lexicon.language] += 1
    best = max(scores.values())
    if best == 0:
        return hint or "en"
    leaders = [language for language, score in scores.items() if score == best]
    if hint in leaders:
        return hint
    return leaders[0]
