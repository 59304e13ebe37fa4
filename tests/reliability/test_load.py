"""The load of issue 8, small: users through the real manager, a real SQLite file and the
real model worker, with the invariants of bench/load.py checked (no timing assertions)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.conversation import ConversationManager
from bot.core.ports import GenerationRequest
from bot.core.types import ConsentState, Inbound, Outbound, OutboundKind, Platform, UserRef
from bot.store import direct
from tests.reliability.support import assert_invariants, load_bench
from tests.support.core import make_core

bench = load_bench()


def test_the_scripts_have_what_the_checks_need() -> None:
    scripts = bench.make_scripts(bench.LoadConfig(users=100))
    assert sum(r for s in scripts for r in s.risky) >= 10
    assert {s.consent for s in scripts} == {ConsentState.GRANTED, ConsentState.DECLINED, ConsentState.UNKNOWN}
    assert {s.ref.platform for s in scripts} == {Platform.DISCORD, Platform.TELEGRAM}


@pytest.mark.parametrize("rate", [None, 250.0], ids=["as-fast-as-possible", "paced"])
async def test_a_hundred_users_through_the_real_worker_lose_nothing(tmp_path: Path, rate: float | None) -> None:
    report = await bench.run_load(bench.LoadConfig(users=100, rate=rate, seed=3), tmp_path)
    assert_invariants(report)
    assert report.turns == {"answered": 500}
    assert report.extra["worker"].served == len(report.generation_s)


async def test_a_few_users_through_the_tiny_random_llama(tmp_path: Path) -> None:
    report = await bench.run_load(bench.LoadConfig(users=8, rate=None, backend="tiny", max_new_tokens=4, seed=5), tmp_path)
    assert_invariants(report)
    assert "tiny random Llama" in report.generator


async def test_the_checks_catch_a_reply_the_platform_swallowed(tmp_path: Path) -> None:
    """The invariant checks are not vacuous: one reply that never reached its user fails them."""

    class Swallowing(bench.LoadChannel):  # type: ignore[name-defined,misc]
        swallowed = False

        async def send(self, message: Outbound) -> None:
            if message.kind is OutboundKind.REPLY and not self.swallowed:
                self.swallowed = True
                return  # "sent" without error, never seen: the fault the ledger must expose
            await super().send(message)

    report = await bench.run_load(bench.LoadConfig(users=10, rate=None, seed=1), tmp_path, channel=Swallowing())
    failed = {c.name for c in report.checks if not c.ok}
    assert failed == {"every message answered exactly once"}


def _msg(user: str, text: str) -> Inbound:
    return Inbound(UserRef(Platform.DISCORD, user), f"dm-{user}", text, datetime.now(UTC), locale="en")


async def test_overlapping_messages_of_one_user_are_received_in_order(tmp_path: Path) -> None:
    """discord.py runs each event in a task of its own, so one user's messages reach
    `handle` concurrently; they used to be accepted in the order their database calls
    finished (16 of 50 users reordered before the fix)."""
    core = await make_core(tmp_path, rate_limit_per_minute=100)

    def echo(request: GenerationRequest) -> str:
        return f"echo[{request.history[-1].text}]"

    core.generator.reply = echo
    core.generator.delay_s = 0.003
    users = [f"u{i}" for i in range(40)]
    for user in users:
        await core.manager.handle(_msg(user, "/decline"))
    tasks = []
    for n in range(6):
        tasks += [asyncio.create_task(core.manager.handle(_msg(user, f"{user} says {n}"))) for user in users]
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    for user in users:
        said = [line for m in core.channel.to(user, OutboundKind.REPLY) for line in m.text[5:-1].split("\n")]
        assert said == [f"{user} says {n}" for n in range(6)], user
    assert await core.store.users.turn_counts() == {"answered": 240}
    await core.close()


async def test_a_new_users_first_messages_arriving_together_make_one_user(tmp_path: Path) -> None:
    """Bug fixed with the arrival order: two first messages of a new user, handled at once,
    both found no user and both inserted one; the second raised IntegrityError out of
    `handle` and its message was lost."""
    core = await make_core(tmp_path)
    await asyncio.gather(*(core.manager.handle(_msg("newcomer", f"hello {n}")) for n in range(5)))
    sent = core.channel.to("newcomer")
    assert [m.kind for m in sent].count(OutboundKind.NOTICE) == 1
    assert len(core.channel.to("newcomer", OutboundKind.REPLY)) >= 1
    assert await core.store.users.turn_counts() == {"answered": 5}
    await core.close()



async def test_the_wal_is_checkpointed_while_writes_run_on_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-message writes turn SQLite's automatic checkpoint off (it would run inside a
    commit, on the event loop) and checkpoint in a thread instead; under writes that never
    pause, the log must still start over once it passes WAL_RESTART_BYTES (4 MB here)."""
    monkeypatch.setattr(direct, "WAL_RESTART_BYTES", 4 * 2**20)
    config = bench.LoadConfig(users=300, rate=None, seed=4)
    wal = tmp_path / "load.db-wal"
    sizes: list[int] = []

    async def watch(manager: ConversationManager) -> None:
        while sum((await manager.store.users.turn_counts()).values()) < config.users * config.messages:
            sizes.append(wal.stat().st_size if wal.exists() else 0)
            await asyncio.sleep(0.02)

    report = await bench.run_load(config, tmp_path, during=[watch])
    assert_invariants(report)
    # Without checkpoints that let it start over, the log held every page written: 60 MB here.
    assert sizes and max(sizes) < 12 * 2**20, f"the WAL grew to {max(sizes)} bytes"
