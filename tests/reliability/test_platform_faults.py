"""Platform sends failing with 429 and 5xx during a conversation load, through the real
adapters and clients against the adapters' fake servers: each reply arrives exactly once,
in order, and the turn ledger says answered."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.ports import GenerationRequest
from tests.reliability.platforms import Stack, open_stack
from tests.support.core import ScriptedGenerator

# PTB's own RetryAfter constructor warns about a future type change of retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

USERS = 8
MESSAGES = 4
FAULTS = 6


def echo(request: GenerationRequest) -> str:
    return "echo: " + request.history[-1].text


@pytest.fixture(params=["telegram", "discord"])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    opened = await open_stack(request.param, tmp_path, ScriptedGenerator(echo), rate_limit_per_minute=200)
    yield opened
    await opened.close()


def _inject(stack: Stack, status: int) -> None:
    if stack.fake.__class__.__name__ == "FakeBotApi":
        stack.fake.fail_next("sendMessage", status, "Too Many Requests: retry after 1" if status == 429 else "Bad Gateway",
                             retry_after=1 if status == 429 else None)
    else:
        stack.fake.fail_next("POST", r"/channels/\d+/messages", status)


def _sends(stack: Stack) -> list[tuple[str, bool]]:
    """(target chat, succeeded) of every message the bot tried to send, in order."""
    if stack.fake.__class__.__name__ == "FakeBotApi":
        return [(str(c.params.get("chat_id")), c.status == 200) for c in stack.fake.calls_of("sendMessage", ok=None)]
    return [(c.path, c.status == 200) for c in stack.fake.calls_to("POST", r"/channels/\d+/messages")]


def _failed_sends(stack: Stack) -> int:
    return sum(not ok for _, ok in _sends(stack))


def _recovered(stack: Stack) -> bool:
    """The last failed send's chat has had a successful send since (the retry got through)."""
    sends = _sends(stack)
    failed = [i for i, (_, ok) in enumerate(sends) if not ok]
    if not failed:
        return bool(sends)
    target = sends[failed[-1]][0]
    return any(ok and chat == target for chat, ok in sends[failed[-1] + 1 :])


async def test_429s_and_5xx_are_retried_and_every_reply_arrives_once_in_order(stack: Stack) -> None:
    server_error = 502 if stack.fake.__class__.__name__ == "FakeBotApi" else 503
    people = [stack.person(f"P{i}") for i in range(USERS)]
    sent: list[list[str]] = [[] for _ in people]
    done = asyncio.Event()
    rng = random.Random(8)

    async def converse(index: int, person: object) -> None:
        await stack.say(person, "/decline")
        while len(sent[index]) < MESSAGES or (not done.is_set() and len(sent[index]) < 40):
            await asyncio.sleep(rng.uniform(0.02, 0.2))
            text = f"p{index} says {len(sent[index])}"
            sent[index].append(text)
            await stack.say(person, text)

    async def faults() -> None:
        # One failure at a time, the next only once the last one's retry got through: a
        # message meets at most one, which the adapter's retries absorb.
        for k in range(FAULTS):
            await stack.wait_for(lambda: _failed_sends(stack) == k and _recovered(stack), timeout=20)
            _inject(stack, 429 if k % 2 == 0 else server_error)
        await stack.wait_for(lambda: _failed_sends(stack) == FAULTS and _recovered(stack), timeout=20)
        done.set()

    await asyncio.gather(faults(), *(converse(i, p) for i, p in enumerate(people)))
    total = sum(len(texts) for texts in sent)

    async with asyncio.timeout(30):
        while await stack.manager.store.users.turn_counts() != {"answered": total}:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    for index, person in enumerate(people):
        replies = [text.removeprefix("echo: ") for text in stack.said(person) if text.startswith("echo: ")]
        assert [line for reply in replies for line in reply.split("\n")] == sent[index], index
    assert _failed_sends(stack) == FAULTS
