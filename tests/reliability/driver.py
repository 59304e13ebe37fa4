"""A bot process to kill: `python -m tests.reliability.driver OUT_FILE` (settings from the
environment: DATABASE_URL, TRANSCRIPT_KEY).

It runs the real manager, store and model worker (a scripted backend that takes 0.3 s per
batch, so generations are in flight at any moment) and writes every event as a JSON line
to OUT_FILE, flushed at once so nothing written is lost to SIGKILL:
  {"event": "ready"}                                after the set-up below
  {"event": "sent", "user": u, "text": t}           before each message is handed to the core
  {"event": "out", "user": u, "kind": k, "text": t}  each message the bot sends to a user
  {"event": "post" | "relay", "flag": id | "ref": r, "text": t}  the moderator surface
Set-up: user "risky-a" is flagged and the operator takes the conversation over; user
"risky-b" is flagged and left open. Then users u0..u29 write every ~50 ms until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.config import load_settings
from bot.core.conversation import ConversationManager
from bot.core.ports import PostedFlag
from bot.core.types import ActionKind, Actor, FlagView, Inbound, ModeratorAction, Outbound, Platform, UserRef
from bot.store import open_store
from model.backend import Completion, RenderedPrompt
from model.worker import Worker, WorkerOptions

OPERATOR = Actor(Platform.CONSOLE, "op", "Operator")
CRISIS = "I want to kill myself, I have been thinking about how I would do it"
USERS = 30


class Journal:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, **event: Any) -> None:
        self._stream.write(json.dumps(event) + "\n")
        self._stream.flush()


class JournalChannel:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    async def send(self, message: Outbound) -> None:
        self._journal.write(event="out", user=message.user.user_id, kind=message.kind.value, text=message.text)

    async def typing(self, chat_ref: str) -> None:
        return None


class JournalSurface:
    name = "driver"

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    async def post(self, view: FlagView) -> PostedFlag:
        self._journal.write(event="post", flag=view.flag_id, text="")
        return PostedFlag(f"driver-{view.flag_id}")

    async def update(self, ref: str, view: FlagView) -> None:
        return None

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        self._journal.write(event="relay", ref=ref, text=text)
        return None


class SlowBackend:
    name = "slow-scripted"

    def load(self) -> None:
        return None

    def render(self, request: Any, max_new_tokens: int) -> RenderedPrompt:
        return RenderedPrompt((), "", (), max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        time.sleep(0.3)
        return [Completion("I hear you. Tell me more.", 6) for _ in prompts]

    def close(self) -> None:
        return None


def inbound(user: str, text: str) -> Inbound:
    return Inbound(UserRef(Platform.TELEGRAM, user), f"chat-{user}", text, datetime.now(UTC), locale="en")


async def main(path: str) -> None:
    settings = load_settings()
    store = await open_store(settings)
    worker = Worker(SlowBackend(), WorkerOptions(max_batch=8, batch_window_ms=20))
    await worker.start()
    with open(path, "a", encoding="utf-8") as stream:
        journal = Journal(stream)
        manager = ConversationManager(settings, store, worker)
        manager.register_channel(Platform.TELEGRAM, JournalChannel(journal))
        manager.register_surface(JournalSurface(journal))
        await manager.handle(inbound("risky-a", CRISIS))
        await manager.handle(inbound("risky-b", CRISIS))
        flag = next(f for f in await store.flags.by_status() if f.user_label == store.label("telegram", "risky-a"))
        assert (await manager.act(ModeratorAction(OPERATOR, ActionKind.TAKEOVER, flag.id))).ok
        journal.write(event="ready")

        running: set[asyncio.Task[None]] = set()

        async def user(index: int) -> None:
            name = f"u{index}"
            await manager.handle(inbound(name, "/agree" if index % 2 else "/decline"))
            for n in range(10_000):
                text = f"{name} says {n}"
                journal.write(event="sent", user=name, text=text)
                task = asyncio.create_task(manager.handle(inbound(name, text)))
                running.add(task)
                task.add_done_callback(running.discard)
                await asyncio.sleep(0.05)

        await asyncio.gather(*(user(i) for i in range(USERS)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
