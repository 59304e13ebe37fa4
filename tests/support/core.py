"""Test doubles for the core's ports and a factory for a real manager on a real SQLite file.

These fakes live only in tests/. The manager, the store, the migrations and the safety
layer they drive are the real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.conversation import ConversationManager
from bot.core.ports import GenerationRequest, PostedFlag
from bot.core.types import FlagView, Outbound, OutboundKind, Platform
from bot.errors import GenerationCancelled, UserUnreachable
from bot.store import Store, open_store
from tests.support.settings import make_settings, migrate


class ScriptedGenerator:
    """A Generator whose replies are scripted: a fixed text, or a function of the request.

    `gate` (when set) holds every generation until the test releases it; `fail_with`
    raises instead of replying; `cancel()` makes waiting generations raise
    GenerationCancelled, as the real worker does.
    """

    def __init__(self, reply: str | Callable[[GenerationRequest], str] = "I'm here and listening. What's been on your mind?") -> None:
        self.reply = reply
        self.requests: list[GenerationRequest] = []
        self.cancelled: list[str] = []
        self.gate: asyncio.Event | None = None
        self.fail_with: BaseException | None = None
        self.delay_s: float = 0.0
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}

    async def generate(self, request: GenerationRequest) -> str:
        self.requests.append(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.gate is not None:
            cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(request.session_key, []).append(cancelled)
            gate = asyncio.ensure_future(self.gate.wait())
            waiters: set[asyncio.Future[Any]] = {gate, cancelled}
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            gate.cancel()
            if cancelled in done:
                raise GenerationCancelled("cancelled")
        if self.fail_with is not None:
            raise self.fail_with
        return self.reply(request) if callable(self.reply) else self.reply

    def cancel(self, session_key: str) -> int:
        self.cancelled.append(session_key)
        waiting = self._waiting.pop(session_key, [])
        for future in waiting:
            if not future.done():
                future.set_result(None)
        return len(waiting)


class RecordingChannel:
    """A UserChannel that records what users would see; some users can be unreachable."""

    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self.typing_calls: list[str] = []
        self.unreachable: set[str] = set()

    async def send(self, message: Outbound) -> None:
        if message.user.user_id in self.unreachable:
            raise UserUnreachable("blocked the bot")
        self.sent.append(message)

    async def typing(self, chat_ref: str) -> None:
        self.typing_calls.append(chat_ref)

    def to(self, user_id: str, kind: OutboundKind | None = None) -> list[Outbound]:
        return [m for m in self.sent if m.user.user_id == user_id and (kind is None or m.kind is kind)]


@dataclass
class RecordingSurface:
    """A ModeratorSurface that records posts, edits and relays.

    Each post hands back `aliases` alias references besides the primary one. An update of
    a reference in `gone` (its message deleted) "posts the message afresh": it returns a
    new reference, which is not gone. `update_delay`: seconds each update waits first (a
    slow network), so that concurrent refreshes can interleave.
    """

    name: str = "test"
    posts: list[FlagView] = field(default_factory=list)
    updates: list[tuple[str, FlagView]] = field(default_factory=list)
    relays: list[tuple[str, str, str]] = field(default_factory=list)
    fail_posts: int = 0
    aliases: int = 0
    gone: set[str] = field(default_factory=set)
    update_delay: float = 0.0

    async def post(self, view: FlagView) -> PostedFlag:
        if self.fail_posts:
            self.fail_posts -= 1
            raise ConnectionError("surface down")
        self.posts.append(view)
        aliases = tuple(f"{self.name}-alias-{view.flag_id}-{n}" for n in range(self.aliases))
        return PostedFlag(f"{self.name}-ref-{view.flag_id}", aliases)

    async def update(self, ref: str, view: FlagView) -> str | None:
        await asyncio.sleep(self.update_delay)
        self.updates.append((ref, view))
        if ref not in self.gone:
            return None
        return f"{self.name}-ref-{view.flag_id}-again-{len(self.updates)}"

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        self.relays.append((ref, author, text))
        return None

    def last_view(self, flag_id: int) -> FlagView:
        views = [v for _, v in self.updates if v.flag_id == flag_id] or [v for v in self.posts if v.flag_id == flag_id]
        return views[-1]


async def make_manager(
    tmp_path: Path,
    *,
    generator: Any | None = None,
    settings: Settings | None = None,
    migrate_db: bool = True,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> ConversationManager:
    """A real ConversationManager over a real, migrated SQLite file in tmp_path."""
    settings = settings or make_settings(tmp_path, **overrides)
    if migrate_db:
        await migrate(settings)
    store = await open_store(settings)
    if clock is None:
        return ConversationManager(settings, store, generator or ScriptedGenerator())
    return ConversationManager(settings, store, generator or ScriptedGenerator(), clock=clock)


@dataclass
class Core:
    """A manager wired to recording doubles: what most core tests need."""

    manager: ConversationManager
    channel: RecordingChannel
    surface: RecordingSurface
    generator: ScriptedGenerator
    settings: Settings

    @property
    def store(self) -> Store:
        return self.manager.store

    async def close(self) -> None:
        await self.manager.store.close()


async def make_core(
    tmp_path: Path,
    *,
    surfaces: bool = True,
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
    generator: ScriptedGenerator | None = None,
    **overrides: Any,
) -> Core:
    """A real manager on a real SQLite file, wired to a recording channel and surface."""
    generator = generator or ScriptedGenerator()
    settings = settings or make_settings(tmp_path, **overrides)
    manager = await make_manager(tmp_path, generator=generator, settings=settings, clock=clock)
    channel = RecordingChannel()
    surface = RecordingSurface()
    for platform in Platform:
        manager.register_channel(platform, channel)
    if surfaces:
        manager.register_surface(surface)
    return Core(manager, channel, surface, generator, settings)
