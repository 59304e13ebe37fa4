"""The three lifecycles, each moved by one function that refuses illegal moves.

    session:  ai ──takeover──▶ human ──release──▶ ai;   ai | human ──close──▶ closed
    flag:     open ──claim / takeover──▶ claimed;   open | claimed ──resolve──▶ resolved
    consent:  unknown ──agree──▶ granted ──decline──▶ revoked ──agree──▶ granted
              unknown ──decline──▶ declined ──agree──▶ granted
"""

from __future__ import annotations

from enum import StrEnum

from bot.core.types import ActionKind, ConsentState, FlagStatus, SessionState
from bot.errors import IllegalTransition


class SessionEvent(StrEnum):
    TAKEOVER = "takeover"
    RELEASE = "release"
    CLOSE = "close"


_SESSION_MOVES: dict[tuple[SessionState, SessionEvent], SessionState] = {
    (SessionState.AI, SessionEvent.TAKEOVER): SessionState.HUMAN,
    (SessionState.HUMAN, SessionEvent.RELEASE): SessionState.AI,
    (SessionState.AI, SessionEvent.CLOSE): SessionState.CLOSED,
    (SessionState.HUMAN, SessionEvent.CLOSE): SessionState.CLOSED,
}

_FLAG_MOVES: dict[tuple[FlagStatus, ActionKind], FlagStatus] = {
    (FlagStatus.OPEN, ActionKind.CLAIM): FlagStatus.CLAIMED,
    (FlagStatus.OPEN, ActionKind.TAKEOVER): FlagStatus.CLAIMED,
    (FlagStatus.CLAIMED, ActionKind.TAKEOVER): FlagStatus.CLAIMED,
    (FlagStatus.OPEN, ActionKind.RESOLVE): FlagStatus.RESOLVED,
    (FlagStatus.CLAIMED, ActionKind.RESOLVE): FlagStatus.RESOLVED,
}

_CONSENT_MOVES: dict[tuple[ConsentState, ConsentState], ConsentState] = {
    (ConsentState.UNKNOWN, ConsentState.GRANTED): ConsentState.GRANTED,
    (ConsentState.UNKNOWN, ConsentState.DECLINED): ConsentState.DECLINED,
    (ConsentState.DECLINED, ConsentState.GRANTED): ConsentState.GRANTED,
    (ConsentState.REVOKED, ConsentState.GRANTED): ConsentState.GRANTED,
    (ConsentState.GRANTED, ConsentState.DECLINED): ConsentState.REVOKED,
}


def next_session_state(current: SessionState, event: SessionEvent) -> SessionState:
    try:
        return _SESSION_MOVES[(current, event)]
    except KeyError:
        raise IllegalTransition(f"session cannot {event.value} from {current.value}") from None


def next_flag_status(current: FlagStatus, action: ActionKind) -> FlagStatus:
    try:
        return _FLAG_MOVES[(current, action)]
    except KeyError:
        raise IllegalTransition(f"flag cannot {action.value} when {current.value}") from None


def next_consent(current: ConsentState, choice: ConsentState) -> ConsentState:
    """`choice` is GRANTED (agree) or DECLINED (decline); declining after granting revokes."""
    try:
        return _CONSENT_MOVES[(current, choice)]
    except KeyError:
        raise IllegalTransition(f"consent cannot go from {current.value} to {choice.value}") from None
