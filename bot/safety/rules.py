"""The rule language of the risk assessment, and the matcher that applies it.

A language's lexicon (`bot.safety.lexicon.en`, `.fr`, `.es`) is data: `Rule`s made of
regular-expression patterns over normalised text, plus named cue patterns (negation,
time, hyperbole, fiction, weapon, minor...). This module compiles a lexicon once, at
import, and matches one normalised message against it.

How a rule's level is decided for one match, in order:
1. `drop_if`: a named cue in the same sentence (fiction, a trivial reason...) drops it;
   `requires`: a cue that must be in the sentence for the rule to count.
2. `timed`: a time expression in the sentence (just now / recently / long ago) picks
   the level from the rule's table; "ten years ago" and "three weeks ago" differ.
3. `boosts`: a cue in the sentence, the message or the session raises the level
   (a weapon with a threat, a minor with abuse, "tonight" with an intent).
4. `softened`: a hyperbole cue in the sentence (a game, embarrassment) caps the level.
5. `negated`: a negation cue in the few words before the match, in the same clause,
   lowers the level to `negated`. `negated=None` means negation is ignored: negation
   never cancels means, plans or attempts.
Patterns are written so that they match the form they describe ("want to die") and
not its negation; pseudo-negations ("can't stop", "don't know if") are not negations.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from bot.safety.gates import Gate, PrefixFinder, features, gate, prefix_finder
from bot.safety.levels import Category, RiskLevel

NEGATION_WINDOW = 4  # words before a match in which a negation cue negates it


class TimeClass(Enum):
    """When something happened or will happen, as a time expression says."""

    NOW = "now"  # right now, tonight, just, an hour ago, last night
    RECENT = "recent"  # yesterday .. months ago, last week, this year
    PAST = "past"  # before, once, in the past, used to (no date)
    LONG_AGO = "long_ago"  # years ago, as a child, when I was a teenager

    @property
    def words(self) -> str:
        return {"now": "just now", "recent": "recent", "past": "in the past", "long_ago": "long ago"}[self.value]


class Scope(Enum):
    SENTENCE = "sentence"
    MESSAGE = "message"
    SESSION = "session"  # the message and the session's earlier messages


class Context(Enum):
    """What a rule needs from the conversation to count at all."""

    SUICIDAL = "suicidal"  # a statement about suicide or self-harm, here or earlier in the session


@dataclass(frozen=True)
class Boost:
    """Raise a hit to `level` when `cue` is present in `scope` (and add `category`)."""

    cue: str
    level: RiskLevel
    scope: Scope = Scope.SENTENCE
    category: Category | None = None
    reason: str = ""


@dataclass(frozen=True)
class Rule:
    """One risk signal. `reason` is what a moderator reads; it never quotes the user."""

    id: str
    category: Category
    level: RiskLevel
    reason: str
    patterns: tuple[str, ...]
    negated: RiskLevel | None = RiskLevel.NONE
    timed: Mapping[TimeClass, RiskLevel] | None = None
    boosts: tuple[Boost, ...] = ()
    softened: RiskLevel | None = None
    drop_if: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # cues that must all be in the sentence
    needs: Context | None = None
    context_cue: str | None = None  # a cue in the message that satisfies `needs` too
    fallback: bool = False  # yields to an overlapping hit of another rule of its category
    third_party: bool = False  # about someone else: not a statement about the writer
    also: tuple[Category, ...] = ()  # further categories the signal belongs to
    examples: tuple[str, ...] = ()  # messages the rule must match (checked by the tests)


@dataclass(frozen=True)
class Lexicon:
    """One language's rules. `cues` are named patterns; `macros` are `{NAME}` snippets."""

    language: str
    markers: frozenset[str]  # frequent words that identify the language
    slang: Mapping[str, str]
    macros: Mapping[str, str]
    cues: Mapping[str, str]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Hit:
    """One rule matched at [start, end) of the text in `language`, with its decided level."""

    rule: Rule
    level: RiskLevel
    start: int
    end: int
    negated: bool
    reason: str
    language: str
    context_ok: bool  # the rule needs no session context, or its context cue is in the message
    added: tuple[Category, ...] = ()  # categories added by boosts
    boostable: bool = True  # not about the past: session boosts may still raise it

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(dict.fromkeys((self.rule.category, *self.rule.also, *self.added)))


@dataclass
class _Compiled:
    rule: Rule
    patterns: list[tuple[re.Pattern[str], Gate]]


@dataclass(frozen=True)
class _Entry:
    """One pattern of one rule, with its gate; `order` keeps matching deterministic."""

    order: int
    rule: Rule
    regex: re.Pattern[str]
    gate: Gate


@dataclass
class CompiledLexicon:
    lexicon: Lexicon
    rules: list[_Compiled]
    cues: dict[str, re.Pattern[str]]
    times: list[tuple[TimeClass, re.Pattern[str]]] = field(default_factory=list)
    always: list[_Entry] = field(default_factory=list)  # patterns without a gate
    index: dict[str, list[_Entry]] = field(default_factory=dict)  # word -> patterns whose first gate set has it
    prefixes: PrefixFinder | None = None  # finds the gate prefixes in a text
    session_cue_names: frozenset[str] = frozenset()  # cues used by session-scope boosts
    cue_gates: dict[str, Gate] = field(default_factory=dict)

    def cue_in(self, name: str, text: Text) -> bool:
        """Whether cue `name` occurs anywhere in `text` (gated, so usually no regex runs)."""
        return self.cue_gates[name].passes(text.tokens) and self.cues[name].search(text.value) is not None

    def candidates(self, text: Text) -> list[_Entry]:
        """The patterns whose gate passes for this text."""
        present = features(text.tokens, text.value, self.prefixes)
        found: dict[int, _Entry] = {entry.order: entry for entry in self.always}
        for feature in present:
            for entry in self.index.get(feature, ()):
                found[entry.order] = entry
        return [found[order] for order in sorted(found) if found[order].gate.passes(present)]

    @property
    def language(self) -> str:
        return self.lexicon.language


def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    """Expand macros and compile every pattern once. Raises `re.error` on a bad pattern."""
    cues = {name: _compile((_expand(pattern, lexicon.macros),)) for name, pattern in lexicon.cues.items()}
    for needed in ("negation", "pseudo_negation", "clause_break", "retraction"):
        if needed not in cues:
            raise ValueError(f"lexicon {lexicon.language} lacks the {needed!r} cue")
    rules = []
    for rule in lexicon.rules:
        expanded = [_expand(p, lexicon.macros) for p in rule.patterns]
        rules.append(_Compiled(rule, [(_compile((p,)), gate(p)) for p in expanded]))
    for compiled_rule in rules:
        rule = compiled_rule.rule
        named = (*rule.drop_if, *rule.requires, *(boost.cue for boost in rule.boosts), *filter(None, [rule.context_cue]))
        for cue in named:
            if cue not in cues:
                raise ValueError(f"rule {rule.id} uses unknown cue {cue!r}")
        if any(boost.scope is Scope.SESSION for boost in rule.boosts) and (rule.negated is not None or rule.softened is not None):
            raise ValueError(f"rule {rule.id}: session-scope boosts need negated=None and softened=None")
    times = [(tc, cues[f"time_{tc.value}"]) for tc in TimeClass if f"time_{tc.value}" in cues]
    compiled = CompiledLexicon(lexicon, rules, cues, times)
    compiled.cue_gates = {
        name: Gate(tuple(words for words in gate(_expand(pattern, lexicon.macros)).word_sets if not any(w.endswith("*") for w in words)))
        for name, pattern in lexicon.cues.items()
    }
    compiled.session_cue_names = frozenset(
        boost.cue for rule in lexicon.rules for boost in rule.boosts if boost.scope is Scope.SESSION
    )
    patterns = [(compiled_rule.rule, regex, required) for compiled_rule in rules for regex, required in compiled_rule.patterns]
    for order, (rule, regex, required) in enumerate(patterns):
        entry = _Entry(order, rule, regex, required)
        if not required.word_sets:
            compiled.always.append(entry)
            continue
        for word in required.word_sets[0]:
            compiled.index.setdefault(word, []).append(entry)
    compiled.prefixes = prefix_finder(frozenset().union(*(regex_gate.prefixes for _, _, regex_gate in patterns)))
    return compiled


def _expand(pattern: str, macros: Mapping[str, str]) -> str:
    for _ in range(4):  # macros may use macros
        if "{" not in pattern:
            break
        pattern = _MACRO.sub(lambda m: f"(?:{macros[m.group(1)]})", pattern)
    if _MACRO.search(pattern):
        raise ValueError(f"macros nested too deep in {pattern[:60]!r}")
    return pattern


_MACRO = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


_SENTENCE_MARK = re.compile(r"(?<![^ ])\.(?![^ ])")
_CLAUSE_MARK = re.compile(r"(?<![^ ])[.,](?![^ ])")
_ALNUM = re.compile(r"[a-z0-9]+")


class Text:
    """One message in one language's normal form: its tokens, and (when a rule matches)
    its sentence and clause marks."""

    def __init__(self, value: str) -> None:
        self.value = value
        words = value.split()
        tokens = set(words)
        for word in words:
            if not word.isalnum() and word not in ".,":  # "0.5mg": the regexes see "0" and "5mg" too
                tokens.update(_ALNUM.findall(word))
        self.tokens = frozenset(tokens)

    @classmethod
    def of(cls, value: str) -> Text:
        return cls(value)

    @functools.cached_property
    def sentence_marks(self) -> list[int]:
        return [found.start() for found in _SENTENCE_MARK.finditer(self.value)]

    @functools.cached_property
    def clause_marks(self) -> list[int]:
        return [found.start() for found in _CLAUSE_MARK.finditer(self.value)]

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        i = bisect.bisect_left(self.sentence_marks, start)
        lo = self.sentence_marks[i - 1] + 1 if i > 0 else 0
        j = bisect.bisect_left(self.sentence_marks, end)
        hi = self.sentence_marks[j] if j < len(self.sentence_marks) else len(self.value)
        return lo, hi

    def clause_start(self, start: int) -> int:
        i = bisect.bisect_left(self.clause_marks, start)
        return self.clause_marks[i - 1] + 1 if i > 0 else 0


@dataclass(frozen=True)
class Session:
    """What the matcher may know of earlier messages: the session-scope cues they contain."""

    cues: frozenset[str] = frozenset()


def session_cues(lexicon: CompiledLexicon, text: Text) -> frozenset[str]:
    """The names of the session-scope cues present in `text` (what later messages may use)."""
    return frozenset(name for name in lexicon.session_cue_names if lexicon.cue_in(name, text))


def with_session(hit: Hit, session: Session) -> Hit:
    """`hit` raised by the session-scope boosts its rule has, given earlier messages' cues.

    Only rules whose session boosts are not capped by negation or hyperbole may have them
    (checked at compile time), so raising afterwards gives what matching with the session
    would have given."""
    if not hit.boostable or not session.cues:
        return hit
    level, added, notes = hit.level, list(hit.added), []
    for boost in hit.rule.boosts:
        if boost.scope is Scope.SESSION and boost.cue in session.cues:
            if boost.category is not None:
                added.append(boost.category)
            if level < boost.level:
                level = boost.level
                if boost.reason:
                    notes.append(f"{boost.reason}, earlier in the session")
    if level == hit.level and tuple(added) == hit.added:
        return hit
    reason = hit.reason if not notes else f"{hit.reason} ({', '.join(notes)})"
    return dataclasses.replace(hit, level=level, added=tuple(dict.fromkeys(added)), reason=reason)


def match(lexicon: CompiledLexicon, text: Text, session: Session = Session()) -> list[Hit]:
    """Every rule hit in `text` (including hits lowered to NONE, which still count as context)."""
    hits: list[Hit] = []
    seen: set[tuple[str, int, int]] = set()
    for entry in lexicon.candidates(text):
        for found in entry.regex.finditer(text.value):
            span = (entry.rule.id, found.start(), found.end())
            if span in seen:
                continue
            seen.add(span)
            hit = _evaluate(lexicon, entry.rule, found, text)
            if hit is not None:
                hits.append(with_session(hit, session))
    return hits


def _evaluate(lexicon: CompiledLexicon, rule: Rule, found: re.Match[str], text: Text) -> Hit | None:
    value = text.value
    lo, hi = text.sentence(found.start(), found.end())
    sentence = value[lo:hi]
    cues = lexicon.cues
    if any(cues[name].search(sentence) for name in rule.drop_if):
        return None
    if not all(cues[name].search(sentence) for name in rule.requires):
        return None
    level = rule.level
    notes: list[str] = []
    added: list[Category] = []
    when = _time_class(lexicon, sentence, found.start() - lo, found.end() - lo) if rule.timed is not None else None
    if rule.timed is not None and when is not None and when in rule.timed:
        level = rule.timed[when]
        notes.append(when.words)
    if when not in (TimeClass.PAST, TimeClass.LONG_AGO):
        for boost in rule.boosts:
            if not _cue_in(cues[boost.cue], boost.scope, sentence, value):
                continue
            if boost.category is not None:
                added.append(boost.category)
            if level < boost.level:
                level = boost.level
                if boost.reason:
                    notes.append(boost.reason)
    if rule.softened is not None and level > rule.softened and "hyperbole" in cues and cues["hyperbole"].search(sentence):
        level = rule.softened
        notes.append("hyperbole context")
    negated = _negated(lexicon, text, found.start())
    if negated and rule.negated is not None:
        level = min(level, rule.negated)
        notes.append("negated")
    reason = rule.reason if not notes else f"{rule.reason} ({', '.join(notes)})"
    context_ok = rule.needs is None or (rule.context_cue is not None and cues[rule.context_cue].search(value) is not None)
    boostable = when not in (TimeClass.PAST, TimeClass.LONG_AGO)
    return Hit(rule, level, found.start(), found.end(), negated, reason, lexicon.language, context_ok, tuple(added), boostable)


def _cue_in(cue: re.Pattern[str], scope: Scope, sentence: str, message: str) -> bool:
    if scope is Scope.SENTENCE:
        return cue.search(sentence) is not None
    if cue.search(message):
        return True
    return False  # session-scope cues of earlier messages are applied by `with_session`


def _time_class(lexicon: CompiledLexicon, sentence: str, start: int, end: int) -> TimeClass | None:
    """The time expression in the sentence nearest to the match, if any."""
    best: tuple[int, TimeClass] | None = None
    for time_class, cue in lexicon.times:
        for found in cue.finditer(sentence):
            distance = start - found.end() if found.end() <= start else max(0, found.start() - end)
            if best is None or distance < best[0]:
                best = (distance, time_class)
    return best[1] if best else None


def _negated(lexicon: CompiledLexicon, text: Text, start: int) -> bool:
    """A negation cue within the last few words before `start`, in the same clause."""
    value = text.value
    clause_from = text.clause_start(start)
    window = value[clause_from:start]
    breaks = list(lexicon.cues["clause_break"].finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    words = window.split()[-NEGATION_WINDOW:]
    if not words:
        return False
    window = " ".join(words)
    window = lexicon.cues["pseudo_negation"].sub(" ", window)
    return lexicon.cues["negation"].search(window) is not None
