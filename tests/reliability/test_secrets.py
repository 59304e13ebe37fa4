"""Secrets and data (issue 8, part 5): tokens and the transcript key never appear in the
logs, nor does the text users write, during a full scenario through each adapter with the
real logging set-up (bot.logs.setup_logging, which installs RedactSecrets); and /forget
while a generation is in flight leaves nothing behind."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sql

from bot.core.conversation import ConversationManager
from bot.core.types import ActionKind, Actor, Inbound, ModeratorAction, OutboundKind, Platform, UserRef
from bot.logs import secret_values, setup_logging
from model.backend import Completion, RenderedPrompt
from model.worker import Worker, WorkerOptions
from tests.e2e.telegram.conftest import GROUP
from tests.reliability.platforms import Stack, open_stack
from tests.reliability.support import load_bench
from tests.support.core import RecordingChannel, RecordingSurface, ScriptedGenerator, make_manager

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

OPENAI_KEY = "sk-test-0123456789abcdefghij"


@pytest.fixture
def logs() -> Iterator[list[io.StringIO]]:
    """Restores the root logger after a test that ran `setup_logging` (which replaces its
    handlers); the test appends the stream it captured into."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    streams: list[io.StringIO] = []
    yield streams
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def capture(settings: Any, streams: list[io.StringIO]) -> io.StringIO:
    """The project's logging set-up, its handler writing into a string."""
    setup_logging(settings)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    streams.append(stream)
    return stream


def canary(name: str) -> str:
    return f"{name}-{abs(hash((name, id(object())))) % 10**9:09d}-zq"


async def scenario(stack: Stack) -> list[str]:
    """A full run: consent both ways, a crisis, a take-over with words both ways, a generator
    failure whose error quotes the prompt, a reply the guard replaces, an unreachable user,
    export and forget. Returns every text the users wrote."""
    fake, manager = stack.fake, stack.manager
    decliner, consenter, leaver = stack.person("Dee"), stack.person("Con"), stack.person("Lea")
    written: list[str] = []

    async def write(person: Any, text: str, answers: int = 1) -> None:
        before = len(stack.said(person))
        written.append(text)
        await stack.say(person, text)
        await stack.wait_for(lambda: len(stack.said(person)) >= before + answers, timeout=15)

    await write(decliner, "hello " + canary("first-contact"), answers=2)
    await write(decliner, "/decline")
    await write(decliner, "my boss is awful " + canary("declined"))
    await write(consenter, "/agree", answers=2)
    await write(consenter, "work is fine " + canary("consented"))

    quoted = "another thought " + canary("quoted-in-an-error")
    stack.generator.fail_with = RuntimeError(f"the tokenizer choked on: {quoted!r}")  # errors may quote their input
    await write(decliner, quoted)
    stack.generator.fail_with = None
    stack.generator.reply = "You could call 555-0199 whenever you like."  # not a vetted number
    await write(decliner, "who can I call " + canary("guarded"))
    stack.generator.reply = "That sounds hard. I'm here with you."

    await write(decliner, "I want to kill myself tonight " + canary("crisis"), answers=2)
    flag = (await manager.store.flags.by_status())[0]
    moderator = moderator_actor(stack)
    assert (await manager.act(ModeratorAction(moderator, ActionKind.TAKEOVER, flag.id))).ok
    await write(decliner, "are you a real person " + canary("relayed"), answers=0)
    await asyncio.sleep(0.3)
    said = await manager.act(ModeratorAction(moderator, ActionKind.SAY, flag.id, "Yes, I am. " + canary("moderator")))
    assert said.ok
    await write(decliner, "/export")
    await write(leaver, "/decline", answers=2)
    if stack.platform is Platform.TELEGRAM:
        fake.block(int(stack.user_id(leaver)))
    else:
        fake.closed_dms.add(leaver.dm_channel_id)
    written.append("are you there " + canary("unreachable"))
    await stack.say(leaver, written[-1])
    await asyncio.sleep(0.5)
    await write(decliner, "/forget")
    await write(decliner, "/confirm_forget")
    return written


def moderator_actor(stack: Stack) -> Actor:
    if stack.platform is Platform.TELEGRAM:
        return Actor(Platform.TELEGRAM, "501", "Alice", context=str(GROUP), roles=frozenset({"administrator"}))
    mod = stack.fake.add_member("mod", moderator=True)
    return Actor(Platform.DISCORD, str(mod.id), "Mod", context=str(stack.fake.guild_id), roles=frozenset({str(stack.fake.mod_role_id)}))


def leaks(captured: str, secrets: Sequence[str], written: Sequence[str]) -> list[str]:
    found = [f"secret {s[:4]}…" for s in secrets if s in captured]
    found += [f"user text {w!r}" for w in written if len(w) > 8 and w in captured]
    found += [f"canary {c}" for w in written for c in w.split() if c.endswith("-zq") and c in captured]
    return found


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
@pytest.mark.parametrize("platform", ["telegram", "discord"])
async def test_no_secret_and_no_user_text_in_the_logs(tmp_path: Path, logs: list[io.StringIO], platform: str, level: str) -> None:
    stack = await open_stack(platform, tmp_path, ScriptedGenerator("That sounds hard. I'm here with you."),
                             log_level=level, openai_api_key=OPENAI_KEY)
    captured = capture(stack.settings, logs)
    try:
        written = await scenario(stack)
    finally:
        await stack.close()
    secrets = secret_values(stack.settings)
    assert len(secrets) == 3 and OPENAI_KEY in secrets  # the platform's token, the key, the OpenAI key
    text = captured.getvalue()
    assert "generator raised unexpectedly" in text, "the scenario's failures were logged"
    assert "output guard replaced a reply" in text
    if level == "INFO":  # the default
        assert leaks(text, secrets, written) == []
    else:  # libraries log request bodies at DEBUG (see docs/reliability.md); secrets are still redacted
        assert leaks(text, secrets, []) == []


class GatedBackend:
    """A model that holds every batch until the test opens the gate."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()

    def load(self) -> None:
        return None

    def render(self, request: Any, max_new_tokens: int) -> RenderedPrompt:
        return RenderedPrompt((), "", (), max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        self.entered.set()
        self.gate.wait(30)
        return [Completion("a late reply that must never be delivered", 8) for _ in prompts]

    def close(self) -> None:
        self.gate.set()


async def test_forget_while_a_generation_is_in_flight_leaves_nothing_behind(tmp_path: Path) -> None:
    backend = GatedBackend()
    worker = Worker(backend, WorkerOptions(batch_window_ms=0))
    await worker.start()
    manager: ConversationManager = await make_manager(tmp_path, generator=worker)
    channel = RecordingChannel()
    manager.register_channel(Platform.TELEGRAM, channel)
    manager.register_surface(RecordingSurface())
    ref = UserRef(Platform.TELEGRAM, "forgetful")
    secrets = [canary("in-flight"), canary("merged"), canary("crisis")]

    def say(text: str) -> Inbound:
        return Inbound(ref, "chat-forgetful", text, datetime.now(UTC), locale="en")

    try:
        await manager.handle(say("/agree"))
        in_flight = asyncio.create_task(manager.handle(say("a secret thought " + secrets[0])))
        await asyncio.to_thread(backend.entered.wait, 10)
        await manager.handle(say("and another one " + secrets[1]))  # merged into the next turn
        await manager.handle(say("I want to kill myself " + secrets[2]))  # a flag: tier kept, text lost
        await manager.handle(say("/forget"))
        await manager.handle(say("/confirm_forget"))
        backend.gate.set()
        await asyncio.wait_for(in_flight, 10)
        await asyncio.sleep(0.1)
        assert not [m for m in channel.sent if m.kind is OutboundKind.REPLY and "late reply" in m.text]
        assert worker.health().cancelled >= 1
        assert await manager.store.users.find(ref) is None
        async with manager.store.engine.connect() as conn:
            for table in ("users", "sessions", "messages", "turns", "assessments", "consent_records", "flag_messages", "outbox"):
                assert (await conn.execute(sql(f"SELECT count(*) FROM {table}"))).scalar() == 0, table
            flags = (await conn.execute(sql("SELECT level, user_id, session_id, user_label FROM flags"))).all()
        assert [(f.user_id, f.session_id, f.user_label) for f in flags] == [(None, None, "erased")] and flags[0].level >= 3
    finally:
        await worker.stop()
        await manager.store.engine.dispose()  # no checkpoint on the way out: the files are as erase left them
    data = load_bench().raw_bytes(tmp_path / "counselbot.db")
    assert not [s for s in secrets if s.encode() in data]
    assert b"a secret thought" not in data
