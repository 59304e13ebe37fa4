"""A stand-in for the core that records what an adapter hands it (adapter plumbing tests).

The scenario tests use the real ConversationManager; this double isolates an adapter's
translation: which Inbound / ModeratorAction / moderator_text call a platform event
becomes, and what the adapter does with a scripted answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.types import ActionResult, Actor, Inbound, ModeratorAction


@dataclass
class TextCall:
    actor: Actor
    surface: str
    ref: str
    text: str


@dataclass
class RecordingCore:
    inbounds: list[Inbound] = field(default_factory=list)
    actions: list[ModeratorAction] = field(default_factory=list)
    texts: list[TextCall] = field(default_factory=list)
    action_result: ActionResult = ActionResult(True, "Done.")
    text_result: ActionResult | None = ActionResult(True, "Relayed.")
    on_handle: Callable[[Inbound], Awaitable[None]] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, inbound: Inbound) -> None:
        self.inbounds.append(inbound)
        self.changed.set()
        try:
            if self.on_handle is not None:
                await self.on_handle(inbound)
        finally:
            self.changed.set()

    async def act(self, action: ModeratorAction) -> ActionResult:
        self.actions.append(action)
        self.changed.set()
        return self.action_result

    async def moderator_text(self, actor: Actor, surface: str, ref: str, text: str) -> ActionResult | None:
        self.texts.append(TextCall(actor, surface, ref, text))
        self.changed.set()
        return self.text_result

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        async def check() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(check(), timeout)
