"""The adapter's pure rendering: splitting, callback data, references, flag cards.

Cards are checked through the fake's copy of Telegram's HTML parsing, so "escaped" means
what Telegram would show, not what the string looks like.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.refs import CardRef, ReplyRef, TopicRef, parse_ref
from bot.adapters.telegram.render import (
    MAX_MESSAGE,
    FlagCallback,
    actions_in,
    flag_card,
    flag_keyboard,
    outcome_keyboard,
    parse_callback,
    relay_html,
    split_text,
    topic_name,
    user_keyboard,
    utf16_len,
)
from bot.core.types import ActionKind, Button, FlagKind, FlagStatus, FlagView, Outcome, SessionState
from bot.safety.levels import Category, RiskLevel
from tests.e2e.telegram.tg_html import covered, parse

TEXT = st.lists(st.sampled_from([*"ab .!?\n,;:", "🌱", "é", "  ", "\n\n", "word"]), max_size=200).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, limit=st.integers(min_value=2, max_value=60))
def test_split_keeps_every_word_in_order_within_the_limit(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < utf16_len(p) <= limit and p == p.strip() for p in pieces)
    assert re.sub(r"\s+", "", "".join(pieces)) == re.sub(r"\s+", "", text)


def test_split_prefers_paragraphs_then_sentences() -> None:
    first, second = "First paragraph. " * 3, "Second paragraph is here."
    assert split_text(f"{first.strip()}\n\n{second}", 60) == [first.strip(), second]
    assert split_text("One sentence here. Another one follows. And a third.", 40) == [
        "One sentence here. Another one follows.",
        "And a third.",
    ]
    assert split_text("short", MAX_MESSAGE) == ["short"] and split_text("   ", MAX_MESSAGE) == []


def test_callback_data_round_trips_and_rejects_the_rest() -> None:
    assert parse_callback("mod:claim:12") == FlagCallback(12, ActionKind.CLAIM)
    assert parse_callback("mod:resolve:12:referred") == FlagCallback(12, ActionKind.RESOLVE, Outcome.REFERRED)
    assert parse_callback("mod:menu:12:ctvb") == FlagCallback(
        12, None, restore=(ActionKind.CLAIM, ActionKind.TAKEOVER, ActionKind.RESOLVE, ActionKind.BLOCK)
    )
    for bad in ("/agree", "mod:claim:x", "mod:say:1", "mod:note:1", "mod:claim:1:referred", "mod:resolve:1:maybe", "mod:menu:1:z", "mod:claim"):
        assert parse_callback(bad) is None, bad


def test_keyboards_offer_only_buttonable_actions_and_fit_telegram() -> None:
    every = tuple(ActionKind)
    keyboard = flag_keyboard(99999999, every)
    assert keyboard is not None
    data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert data == [f"mod:{k}:99999999" for k in ("claim", "takeover", "release", "resolve", "block")]
    assert flag_keyboard(1, (ActionKind.NOTE,)) is None
    outcomes = outcome_keyboard(99999999, every)
    assert all(len(str(b.callback_data).encode()) <= 64 for row in outcomes.inline_keyboard for b in row)
    assert actions_in(keyboard) == [ActionKind.CLAIM, ActionKind.TAKEOVER, ActionKind.RELEASE, ActionKind.RESOLVE, ActionKind.BLOCK]
    with pytest.raises(ValueError, match="64 bytes"):
        user_keyboard([Button("x", "/" + "a" * 64)])


def test_refs_round_trip() -> None:
    assert parse_ref(str(TopicRef(-100123, 45))) == TopicRef(-100123, 45)
    assert parse_ref(str(ReplyRef(-100123, 7))) == ReplyRef(-100123, 7)
    assert parse_ref(str(CardRef(-100123, 45, 46))) == CardRef(-100123, 45, 46)
    assert str(CardRef(-100123, 45, 46).topic) == "topic:-100123:45"
    for bad in ("thread:1:2", "topic:1", "topic:1:2:3", "card:1:2", "reply:x:2", "discord-ref-1"):
        with pytest.raises(ValueError):
            parse_ref(bad)


def _view(**changes: object) -> FlagView:
    base: dict[str, object] = {
        "flag_id": 3,
        "kind": FlagKind.RISK,
        "level": RiskLevel.IMMINENT,
        "categories": (Category.SUICIDE,),
        "reasons": ("goodbye message <script>",),
        "status": FlagStatus.OPEN,
        "session_state": SessionState.AI,
        "user_label": "telegram:<b>x</b>",
        "flagged_messages": ("bye all & thanks </pre><b>",),
        "transcript": None,
        "assignee": None,
        "outcome": None,
        "created_at": datetime(2025, 5, 6, 7, 8, tzinfo=UTC),
    }
    base.update(changes)
    return FlagView(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("forum", [True, False])
def test_card_is_valid_telegram_html_with_every_raw_field_escaped(forum: bool) -> None:
    plain, entities = parse(flag_card(_view(), forum=forum), "HTML")
    assert "telegram:<b>x</b>" in plain and "goodbye message <script>" in plain
    assert covered(plain, entities, "bye all & thanks </pre><b>") == {"pre"}
    assert "URGENT" in plain and "has not consented" in plain


def test_human_request_card_and_topic_name() -> None:
    view = _view(kind=FlagKind.HUMAN_REQUEST, level=RiskLevel.NONE, flagged_messages=(), reasons=("asked for a human",))
    plain, _ = parse(flag_card(view, forum=True), "HTML")
    assert "Human requested" in plain and "URGENT" not in plain and "Flagged" not in plain
    assert topic_name(view).startswith("⚪ #3 human requested")
    assert utf16_len(topic_name(_view(user_label="x" * 300))) <= 128


def test_relay_pieces_are_escaped_and_within_the_limit() -> None:
    text = "<i>not italic</i> " * 600
    pieces = relay_html("📝 Alice (note)", text)
    assert len(pieces) >= 3
    for piece in pieces:
        plain, entities = parse(piece, "HTML")
        header, body = plain.split("\n", 1)
        assert utf16_len(plain) <= MAX_MESSAGE and header == "📝 Alice (note)"
        assert covered(plain, entities, body) == {"pre"} and "<i>not italic</i>" in body
