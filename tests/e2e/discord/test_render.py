"""Rendering rules the Discord adapter relies on, checked as properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord.render import MESSAGE_LIMIT, discord_length, escape, parse_thread_ref, split, thread_ref

# Markdown, mention and quote syntax, emoji (two UTF-16 units), whitespace; no ":" so no URLs.
_ALPHABET = st.sampled_from(list("ab *_~`|>#-[]()@<\\\n\t") + ["everyone", "here", "😀", "é"])
texts = st.lists(_ALPHABET, max_size=400).map("".join)
long_texts = st.lists(st.sampled_from(["word ", "\\", "*", "\n", "😀", "x" * 50, "\n\n"]), max_size=300).map("".join)


def shown(content: str) -> str:
    """What Discord displays: a backslash shows the next character as typed."""
    return re.sub(r"\\(.)", r"\1", content, flags=re.DOTALL)


@given(texts)
def test_escaped_text_displays_exactly_as_written(text: str) -> None:
    assert shown(escape(text)) == text


@given(texts)
def test_nothing_can_mention_or_format(text: str) -> None:
    escaped = escape(text)
    assert not re.search(r"(?<!\\)(\\\\)*@(everyone|here)", escaped)
    assert not re.search(r"(?<!\\)(\\\\)*<", escaped)


@settings(max_examples=200)
@given(long_texts, st.integers(min_value=20, max_value=MESSAGE_LIMIT))
def test_split_respects_the_limit_keeps_every_character_and_never_splits_an_escape(text: str, limit: int) -> None:
    escaped = escape(text)
    chunks = split(escaped, limit)
    assert all(chunk and discord_length(chunk) <= limit for chunk in chunks)
    assert "".join("".join(chunks).split()) == "".join(escaped.split())
    for chunk in chunks:
        run = len(chunk) - len(chunk.rstrip("\\"))
        assert run % 2 == 0, "a chunk ends with a dangling escape"


def test_split_prefers_paragraphs_then_lines_then_spaces() -> None:
    paragraph = "a" * 1200
    assert split(f"{paragraph}\n\n{paragraph}") == [paragraph, paragraph]
    assert split(f"{'a' * 1500} {'b' * 400}\n{'c' * 900}") == [f"{'a' * 1500} {'b' * 400}", "c" * 900]
    assert split(f"{'a' * 1500} {'b' * 1000}") == ["a" * 1500, "b" * 1000]
    assert split("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_thread_refs_round_trip() -> None:
    assert parse_thread_ref(thread_ref(1234567890123)) == 1234567890123


@pytest.mark.parametrize("ref", ["topic:1:2", "thread:", "thread:12a", "reply:1:2"])
def test_other_refs_are_rejected(ref: str) -> None:
    with pytest.raises(ValueError):
        parse_thread_ref(ref)
