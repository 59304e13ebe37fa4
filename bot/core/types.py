"""Platform-neutral values that flow between adapters and the core.

Events are frozen dataclasses: no back-references, no I/O, no platform types.
Lifecycles (session, flag, consent) are Enums moved by one transition function each
(`bot.core.lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.safety.levels import Category, RiskLevel


class Platform(StrEnum):
    DISCORD = "discord"
    TELEGRAM = "telegram"
    CONSOLE = "console"


@dataclass(frozen=True)
class UserRef:
    """A user as the platform knows them: the platform and its id for the user."""

    platform: Platform
    user_id: str


class InboundKind(StrEnum):
    TEXT = "text"
    NON_TEXT = "non_text"  # sticker, photo, voice, file, embed: only text is read


@dataclass(frozen=True)
class Inbound:
    """One message (or button press, as its command text) from a user in a private chat."""

    user: UserRef
    chat_ref: str  # where replies go: a DM channel id, a Telegram chat id, "console"
    text: str
    received_at: datetime
    locale: str | None = None  # platform locale hint, e.g. "fr", "es-ES"
    kind: InboundKind = InboundKind.TEXT
    display_name: str | None = None


class OutboundKind(StrEnum):
    NOTICE = "notice"  # the consent notice
    REPLY = "reply"  # a (guarded) model reply or a scripted supportive reply
    CRISIS = "crisis"  # scripted crisis resources
    SYSTEM = "system"  # command answers, confirmations, notes about the bot
    MODERATOR = "moderator"  # a human moderator's words, relayed
    ERROR = "error"  # an honest failure message


@dataclass(frozen=True)
class Button:
    """A choice the user can make. Pressing it is the same as sending `command`."""

    label: str
    command: str


@dataclass(frozen=True)
class Outbound:
    """One message to a user. Adapters render it; they never change its words."""

    user: UserRef
    chat_ref: str
    kind: OutboundKind
    text: str
    buttons: tuple[Button, ...] = ()


class SessionState(StrEnum):
    AI = "ai"  # the model answers
    HUMAN = "human"  # a moderator took over; the model is paused
    CLOSED = "closed"  # ended by /reset, /forget or resolution


class ConsentState(StrEnum):
    UNKNOWN = "unknown"  # notice shown, no answer yet: nothing stored
    GRANTED = "granted"
    DECLINED = "declined"
    REVOKED = "revoked"

    @property
    def allows_storage(self) -> bool:
        return self is ConsentState.GRANTED


class FlagStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class FlagKind(StrEnum):
    RISK = "risk"  # raised by the risk assessment
    HUMAN_REQUEST = "human_request"  # the user asked for a person (/human)


class Outcome(StrEnum):
    """How a moderator closed a flag (a fixed list, for reporting)."""

    SUPPORTED = "supported"  # talked it through, no further action
    REFERRED = "referred"  # pointed to professional or crisis services
    EMERGENCY = "emergency"  # emergency services were involved
    FALSE_POSITIVE = "false_positive"  # no real risk
    NO_RESPONSE = "no_response"  # the user stopped answering
    ABUSIVE = "abusive"  # the user was abusing the service

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ActionKind(StrEnum):
    CLAIM = "claim"
    TAKEOVER = "takeover"
    SAY = "say"  # moderator text relayed to the user during a take-over
    RELEASE = "release"  # give the session back to the AI
    RESOLVE = "resolve"
    NOTE = "note"  # internal, never sent to the user
    BLOCK = "block"


@dataclass(frozen=True)
class Actor:
    """Who performs a moderator action, with the facts the core authorises on.

    `context` is where the action came from (a Discord guild id, a Telegram group id);
    `roles` are the platform's facts about the actor there (Discord role ids, Telegram
    chat-member status). The adapter reports facts; the core decides.
    """

    platform: Platform
    user_id: str
    name: str
    context: str | None = None
    roles: frozenset[str] = frozenset()

    @property
    def ref(self) -> str:
        return f"{self.platform.value}:{self.user_id}"


@dataclass(frozen=True)
class ModeratorAction:
    actor: Actor
    kind: ActionKind
    flag_id: int
    text: str | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str  # what to show the moderator (refusal reason or confirmation)
    flag: FlagView | None = None


@dataclass(frozen=True)
class FlagView:
    """What a moderator surface shows for a flag. Text fields are raw; surfaces escape them."""

    flag_id: int
    kind: FlagKind
    level: RiskLevel
    categories: tuple[Category, ...]
    reasons: tuple[str, ...]
    status: FlagStatus
    session_state: SessionState
    user_label: str  # pseudonymous: platform and a short hash, never a name
    flagged_messages: tuple[str, ...]  # the messages that raised or joined the flag
    transcript: tuple[str, ...] | None  # recent turns, only for consenting users
    assignee: str | None  # the moderator's display name
    outcome: Outcome | None
    created_at: datetime
    repages: int = 0
    actions: tuple[ActionKind, ...] = field(default=())  # buttons valid in this state
