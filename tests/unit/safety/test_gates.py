"""Gates must be sound: whenever a pattern matches a text, its gate passes for that text."""

from __future__ import annotations

import bisect
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety import risk
from bot.safety.gates import Gate, features, gate, prefix_finder
from bot.safety.normalize import expand, normalize
from bot.safety.rules import Text
from tests.unit.safety.labelled import COUNSEL_CHAT, WRITTEN, load


def test_gates_name_required_words() -> None:
    assert gate(r"(?:want|need) (?:to )?(?:kill|hurt) myself").word_sets[0] == frozenset({"myself"})
    assert frozenset({"want", "need"}) in gate(r"(?:want|need) (?:to )?(?:kill|hurt) myself").word_sets
    assert set(gate(r"stockpil\w+ (?:\w+ ){0,3}(?:pills|meds)").word_sets) == {frozenset({"pills", "meds"}), frozenset({"stockpil*"})}
    assert set(gate(r"(?:suicidal|suicide) thoughts").word_sets) == {frozenset({"thoughts"}), frozenset({"suicid*"})}


def test_unprovable_patterns_have_no_gate() -> None:
    assert gate(r"\w+ing").word_sets == ()
    assert gate(r"[a-z]+").word_sets == ()
    assert Gate(()).passes(frozenset())


def test_prefix_features_include_nested_prefixes() -> None:
    finder = prefix_finder(frozenset({"suicid", "purg", "unaliv", "unalive"}))
    assert features(frozenset({"x"}), "i keep purging . suicidal", finder) == {"x", "purg*", "suicid*"}
    assert features(frozenset(), "unalive myself", finder) == {"unaliv*", "unalive*"}
    assert features(frozenset(), "unsuicidal", finder) == frozenset()


def test_every_pattern_is_sound_on_the_labelled_data() -> None:
    texts = [example.text for name in (*WRITTEN, COUNSEL_CHAT) for example in load(name)]
    for lexicon in risk._LEXICONS:
        normal = [Text.of(expand(normalize(text), lexicon.lexicon.slang)) for text in texts]
        joined = " . ".join(text.value for text in normal)
        starts = [0]
        for text in normal[:-1]:
            starts.append(starts[-1] + len(text.value) + 3)
        present = [features(text.tokens, text.value, lexicon.prefixes) for text in normal]
        for entry in [*lexicon.always, *{id(e): e for es in lexicon.index.values() for e in es}.values()]:
            for found in entry.regex.finditer(joined):
                i = bisect.bisect_right(starts, found.start()) - 1
                if found.end() <= starts[i] + len(normal[i].value):
                    assert entry.gate.passes(present[i]), (entry.rule.id, entry.regex.pattern[:80], normal[i].value)


WORDS = ["i", "want", "to", "kill", "myself", "me", "not", "suicidal", "suicide", "pills", "stockpiling", "my", "a", "x"]
PATTERNS = [
    r"(?:want|need) (?:to )?(?:kill|hurt) myself",
    r"(?:suicidal|suicide) (?:thoughts|pills)",
    r"stockpil\w+ (?:\w+ ){0,3}(?:pills|meds)",
    r"(?:i|me) (?:\w+ ){0,2}(?:want|need)(?: to)?",
    r"(?<!not )want to (?:kill|x)(?! me)",
    r"(?:(?:really|just) )*want to (?:die|kill myself)",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
def test_gates_are_sound_on_random_texts(words: list[str]) -> None:
    text = " ".join(words)
    tokens = frozenset(words)
    for pattern in PATTERNS:
        derived = gate(pattern)
        finder = prefix_finder(derived.prefixes)
        if re.search(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])", text):
            assert derived.passes(features(tokens, text, finder)), (pattern, text)
