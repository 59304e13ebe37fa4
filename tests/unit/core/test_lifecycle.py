"""Each lifecycle moves only along its allowed edges."""

from __future__ import annotations

import itertools

import pytest

from bot.core.commands import Command, parse_command
from bot.core.lifecycle import SessionEvent, next_consent, next_flag_status, next_session_state
from bot.core.sanitize import clean
from bot.core.types import ActionKind, ConsentState, FlagStatus, SessionState
from bot.errors import IllegalTransition

SESSION_OK = {
    (SessionState.AI, SessionEvent.TAKEOVER): SessionState.HUMAN,
    (SessionState.HUMAN, SessionEvent.RELEASE): SessionState.AI,
    (SessionState.AI, SessionEvent.CLOSE): SessionState.CLOSED,
    (SessionState.HUMAN, SessionEvent.CLOSE): SessionState.CLOSED,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(SessionState, SessionEvent)))
def test_session_moves(state: SessionState, event: SessionEvent) -> None:
    if (state, event) in SESSION_OK:
        assert next_session_state(state, event) is SESSION_OK[(state, event)]
    else:
        with pytest.raises(IllegalTransition):
            next_session_state(state, event)


def test_flag_moves() -> None:
    assert next_flag_status(FlagStatus.OPEN, ActionKind.CLAIM) is FlagStatus.CLAIMED
    assert next_flag_status(FlagStatus.CLAIMED, ActionKind.RESOLVE) is FlagStatus.RESOLVED
    for action in (ActionKind.CLAIM, ActionKind.RESOLVE, ActionKind.TAKEOVER):
        with pytest.raises(IllegalTransition):
            next_flag_status(FlagStatus.RESOLVED, action)
    with pytest.raises(IllegalTransition):
        next_flag_status(FlagStatus.CLAIMED, ActionKind.CLAIM)


def test_consent_moves() -> None:
    assert next_consent(ConsentState.UNKNOWN, ConsentState.GRANTED) is ConsentState.GRANTED
    assert next_consent(ConsentState.GRANTED, ConsentState.DECLINED) is ConsentState.REVOKED
    assert next_consent(ConsentState.REVOKED, ConsentState.GRANTED) is ConsentState.GRANTED
    with pytest.raises(IllegalTransition):
        next_consent(ConsentState.GRANTED, ConsentState.GRANTED)
    with pytest.raises(IllegalTransition):
        next_consent(ConsentState.DECLINED, ConsentState.DECLINED)


@pytest.mark.parametrize(
    ("text", "name", "argument"),
    [("/start", "start", ""), ("/country fr", "country", "fr"), ("/HELP@counsel_bot", "help", ""), ("/country ../../etc", "country", "../../etc")],
)
def test_parse_command(text: str, name: str, argument: str) -> None:
    parsed = parse_command(text)
    assert parsed is not None and parsed.name == name and parsed.argument == argument


def test_plain_text_and_unknown_commands() -> None:
    assert parse_command("I feel /sad today") is None
    parsed = parse_command("/rm -rf")
    assert parsed is not None and parsed.command is None
    assert parse_command("/agree").command is Command.AGREE  # type: ignore[union-attr]


def test_clean_removes_what_hides_words_and_caps_length() -> None:
    hidden = "I want to k\u200bill my\u202eself\x00\x07"
    assert clean(hidden, 100).text == "I want to kill myself"
    assert clean("bad \ud800 surrogate", 100).text == "bad \ufffd surrogate"
    capped = clean("x" * 500, 100)
    assert capped.truncated and len(capped.text) == 100
    assert clean("line one\r\nline two", 100).text == "line one\nline two"
