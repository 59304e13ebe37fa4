"""Per-user ordering and merging, and many users at once: none lost, none crossed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.ports import GenerationRequest
from bot.core.types import Inbound, OutboundKind, Platform, UserRef
from tests.support.core import make_core


def msg(user: str, text: str) -> Inbound:
    return Inbound(UserRef(Platform.DISCORD, user), f"dm-{user}", text, datetime.now(UTC), locale="en")


def echo(request: GenerationRequest) -> str:
    return f"echo[{request.history[-1].text}]"


async def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_messages_during_a_slow_generation_are_merged_into_one_reply_in_order(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    core.generator.reply = echo
    core.generator.gate = asyncio.Event()
    await core.manager.handle(msg("a", "/decline"))
    first = asyncio.create_task(core.manager.handle(msg("a", "first")))
    await wait_for(lambda: len(core.generator.requests) == 1)
    for index in range(1, 6):
        await core.manager.handle(msg("a", f"more {index}"))  # returns at once: merged
    assert len(core.generator.requests) == 1, "no second concurrent generation for one user"
    core.generator.gate.set()
    await first
    replies = [m.text for m in core.channel.to("a", OutboundKind.REPLY)]
    assert replies == ["echo[first]", "echo[more 1\nmore 2\nmore 3\nmore 4\nmore 5]"]
    assert len(core.generator.requests) == 2
    history = core.generator.requests[1].history
    assert [t.text for t in history[-3:]] == ["first", "echo[first]", "more 1\nmore 2\nmore 3\nmore 4\nmore 5"]
    assert await core.store.users.turn_counts() == {"answered": 6}
    await core.close()


async def test_typing_is_shown_while_the_worker_is_busy(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    core.generator.gate = asyncio.Event()
    task = asyncio.create_task(core.manager.handle(msg("a", "hello")))
    await wait_for(lambda: bool(core.channel.typing_calls))
    core.generator.gate.set()
    await task
    assert core.channel.typing_calls[0] == "dm-a"
    await core.close()


async def test_two_hundred_users_at_once_each_get_their_own_replies(tmp_path: Path) -> None:
    core = await make_core(tmp_path, rate_limit_per_minute=100)
    core.generator.reply = echo
    core.generator.delay_s = 0.01
    users = [f"user{i}" for i in range(200)]

    async def converse(user: str) -> None:
        for turn in range(3):
            await core.manager.handle(msg(user, f"{user} says {turn}"))

    await asyncio.gather(*(converse(u) for u in users))
    for user in users:
        replies = [m.text for m in core.channel.to(user, OutboundKind.REPLY)]
        assert replies == [f"echo[{user} says {turn}]" for turn in range(3)], user
    assert await core.store.users.turn_counts() == {"answered": 600}
    await core.close()


async def test_a_flood_from_one_user_is_rate_limited_without_touching_others(tmp_path: Path) -> None:
    core = await make_core(tmp_path, rate_limit_per_minute=5)
    for index in range(12):
        await core.manager.handle(msg("flooder", f"spam {index}"))
    await core.manager.handle(msg("calm", "hello"))
    limited = [m for m in core.channel.to("flooder") if "faster than I can read" in m.text]
    assert len(limited) == 1, "told once, clearly"
    assert len(core.channel.to("flooder", OutboundKind.REPLY)) == 5
    assert len(core.channel.to("calm", OutboundKind.REPLY)) == 1
    await core.manager.handle(msg("flooder", "I want to kill myself"))
    assert core.channel.to("flooder", OutboundKind.CRISIS), "risk is assessed even over the limit"
    await core.close()


async def test_forget_during_a_pending_generation_leaves_nothing_behind(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    core.generator.gate = asyncio.Event()
    await core.manager.handle(msg("a", "/agree"))
    pending = asyncio.create_task(core.manager.handle(msg("a", "a secret thought")))
    await wait_for(lambda: len(core.generator.requests) == 1)
    await core.manager.handle(msg("a", "/forget"))
    await core.manager.handle(msg("a", "/confirm_forget"))
    core.generator.gate.set()
    await pending
    assert core.generator.cancelled == ["user:1"]
    assert await core.store.users.find(UserRef(Platform.DISCORD, "a")) is None
    assert not core.channel.to("a", OutboundKind.REPLY), "no late reply after erasure"
    assert await core.store.users.turn_counts() == {}
    await core.close()


async def test_a_failed_turn_does_not_leave_the_user_stuck(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    core.generator.reply = echo
    core.generator.gate = asyncio.Event()
    real = core.store.users.get_session
    calls = {"n": 0}

    async def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return await real(*args, **kwargs)

    core.store.users.get_session = flaky  # type: ignore[method-assign]
    first = asyncio.create_task(core.manager.handle(msg("a", "first")))
    await wait_for(lambda: len(core.generator.requests) == 1)
    await core.manager.handle(msg("a", "merged while the first failed"))
    core.generator.gate.set()
    with pytest.raises(RuntimeError):
        await first
    await core.manager.handle(msg("a", "third"))
    assert [m.text for m in core.channel.to("a", OutboundKind.REPLY)] == ["echo[merged while the first failed\nthird]"]
    await core.close()
