"""The narrow seams between the core and the outside world.

The core sees the model through `Generator`, each platform's users through
`UserChannel` and each moderator surface through `ModeratorSurface`. Implementations
live in `model/` and `bot/adapters/`; test doubles live in `tests/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.core.types import FlagView, Outbound
from bot.safety.levels import RiskLevel


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True)
class ChatTurn:
    role: Role
    text: str


@dataclass(frozen=True)
class GenerationRequest:
    """One turn to generate.

    `history` is oldest first and ends with the user's turn; the generator fits it to
    its token budget (dropping the oldest turns first) and renders it with the model's
    chat template and the system prompt (`safe_mode` picks the stricter one).
    `deadline` is a `time.monotonic()` instant; past it the request is dropped and
    `GenerationTimeout` raised. `session_key` lets the core cancel a user's pending
    requests (erase, take-over).
    """

    request_id: str
    session_key: str
    history: tuple[ChatTurn, ...]
    deadline: float
    priority: RiskLevel = RiskLevel.NONE
    safe_mode: bool = False
    max_new_tokens: int | None = None


@runtime_checkable
class Generator(Protocol):
    """Writes one reply. Raises a `bot.errors.GenerationError` subclass on failure."""

    async def generate(self, request: GenerationRequest) -> str: ...

    def cancel(self, session_key: str) -> int:
        """Cancel every pending request of this session; returns how many were dropped."""
        ...


@runtime_checkable
class UserChannel(Protocol):
    """Delivers messages to users of one platform.

    `send` raises `bot.errors.UserUnreachable` when the user blocked the bot or closed
    their DMs, and `bot.errors.DeliveryError` when delivery failed after retries.
    """

    async def send(self, message: Outbound) -> None: ...

    async def typing(self, chat_ref: str) -> None:
        """Show that a reply is being written (best effort; never raises)."""
        ...


@dataclass(frozen=True)
class PostedFlag:
    """Where a surface put a new flag, as the core stores it.

    `ref` is the flag's primary reference: what `update` and `relay` are given. `aliases`
    are further references under which moderators' messages on the surface come back to
    the flag (a forum topic, where `ref` names the card inside it).
    """

    ref: str
    aliases: tuple[str, ...] = ()


@runtime_checkable
class ModeratorSurface(Protocol):
    """A place where moderators see flags: a Discord channel, a Telegram group, a terminal.

    `post` creates the flag's thread / topic / message and returns the references under
    which the core stores the mapping. `update` edits the flag's first message in place;
    when that message is gone (or `ref` is of a form the surface no longer edits) it posts
    the message afresh and returns its reference, which the core stores as the new primary
    one (the old one stays mapped, as an alias); otherwise it returns None. `relay` posts
    text (a user's message during a take-over, a note, a re-page) into the flag's thread and
    may return an extra reference to map to the same flag (for example the id of the
    relayed message, where moderators answer by replying to messages), or None.
    """

    name: str

    async def post(self, view: FlagView) -> PostedFlag: ...

    async def update(self, ref: str, view: FlagView) -> str | None: ...

    async def relay(self, ref: str, author: str, text: str) -> str | None: ...
