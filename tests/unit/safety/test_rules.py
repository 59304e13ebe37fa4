"""The lexicons are well-formed data, and each rule matches its own examples."""

from __future__ import annotations

import pytest

from bot.safety.levels import RiskLevel
from bot.safety.lexicon import LEXICONS
from bot.safety.normalize import expand, normalize
from bot.safety.rules import Lexicon, Rule, Session, Text, compile_lexicon, match

COMPILED = [compile_lexicon(lexicon) for lexicon in LEXICONS]
RULES = [(compiled, rule) for compiled in COMPILED for rule in compiled.lexicon.rules]


def test_languages_and_unique_ids() -> None:
    assert [lexicon.language for lexicon in LEXICONS] == ["en", "fr", "es"]
    ids = [rule.id for _, rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.id.startswith(f"{compiled.language}.") for compiled, rule in RULES)


@pytest.mark.parametrize(("compiled", "rule"), RULES, ids=[rule.id for _, rule in RULES])
def test_rule_matches_its_examples(compiled, rule: Rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.reason and rule.reason[0].islower() and "{" not in rule.reason
    assert rule.patterns
    for example in rule.examples:
        text = Text.of(expand(normalize(example), compiled.lexicon.slang))
        assert any(hit.rule.id == rule.id for hit in match(compiled, text, Session())), example


def test_rules_that_need_context_or_raise_categories_are_declared() -> None:
    # every language has rules for every tier of the table
    for compiled in COMPILED:
        levels = {rule.level for rule in compiled.lexicon.rules}
        assert {RiskLevel.CONCERN, RiskLevel.ELEVATED, RiskLevel.HIGH, RiskLevel.IMMINENT} <= levels


def _minimal(**changes: object) -> Lexicon:
    cues = {"negation": "not", "pseudo_negation": "not only", "clause_break": "but", "retraction": "jk"}
    rule = Rule(id="xx.test", category=LEXICONS[0].rules[0].category, level=RiskLevel.HIGH, reason="test", patterns=("want {X}",))
    fields: dict[str, object] = {"language": "xx", "markers": frozenset(), "slang": {}, "macros": {"X": "to die"}, "cues": cues, "rules": (rule,)}
    fields.update(changes)
    return Lexicon(**fields)  # type: ignore[arg-type]


def test_compile_rejects_broken_lexicons() -> None:
    compile_lexicon(_minimal())
    with pytest.raises(ValueError, match="lacks the 'retraction' cue"):
        compile_lexicon(_minimal(cues={"negation": "not", "pseudo_negation": "x", "clause_break": "but"}))
    bad_rule = Rule(id="xx.bad", category=LEXICONS[0].rules[0].category, level=RiskLevel.HIGH, reason="bad", patterns=("x",), drop_if=("nope",))
    with pytest.raises(ValueError, match="unknown cue 'nope'"):
        compile_lexicon(_minimal(rules=(bad_rule,)))
    with pytest.raises(KeyError):
        compile_lexicon(_minimal(macros={}))
