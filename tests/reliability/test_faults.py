"""Faults injected during load (issue 8, part 2), each with the invariants asserted:
every message answered exactly once or visibly failed, in order per user; every risk
message flagged exactly once; no text stored for declining users; nothing lost."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.conversation import ConversationManager
from bot.core.ports import GenerationRequest, Generator
from bot.core.types import Inbound, Outbound, Platform, UserRef
from bot.errors import DeliveryError, GeneratorUnavailable, UserUnreachable
from tests.reliability.support import FlakyBackend, HangingBackend, assert_invariants, load_bench
from tests.support.core import make_core

bench = load_bench()


async def test_five_percent_of_batches_fail_in_the_backend(tmp_path: Path) -> None:
    """The worker retries a failed batch one request at a time; what still fails is answered
    with the honest fallback. Nothing is lost, nothing answered twice."""
    flaky = FlakyBackend(bench.ScriptedBackend(), rate=0.05, seed=11)
    report = await bench.run_load(bench.LoadConfig(users=100, rate=None, seed=11), tmp_path, backend=flaky)
    assert_invariants(report)
    assert flaky.failures >= 3, "the fault was injected"


class RaisingGenerator:
    """The generator as the manager sees it raises for 5% of requests (seeded), with the
    errors a generator can raise, including one it should never raise."""

    def __init__(self, inner: Generator, rate: float = 0.05, seed: int = 2) -> None:
        self.inner = inner
        self.raised = 0
        self._rng = random.Random(seed)
        self._rate = rate

    async def generate(self, request: GenerationRequest) -> str:
        if self._rng.random() < self._rate:
            self.raised += 1
            raise self._rng.choice([GeneratorUnavailable("reloading"), RuntimeError("a bug"), TimeoutError()])
        return await self.inner.generate(request)

    def cancel(self, session_key: str) -> int:
        return self.inner.cancel(session_key)


async def test_five_percent_of_generations_raise_to_the_manager(tmp_path: Path) -> None:
    raising: list[RaisingGenerator] = []

    def wrap(worker: Generator) -> Generator:
        raising.append(RaisingGenerator(worker))
        return raising[0]

    report = await bench.run_load(bench.LoadConfig(users=100, rate=None, seed=12), tmp_path, wrap_generator=wrap)
    assert_invariants(report)
    assert raising[0].raised >= 3


async def test_a_hung_generation_is_abandoned_and_the_model_reloaded(tmp_path: Path) -> None:
    """One batch never returns (a wedged kernel): its requests time out, the worker gives the
    model up after the grace period and reloads it; every message is still answered once."""
    hanging = HangingBackend(bench.ScriptedBackend(), hang_at=4)
    try:
        report = await bench.run_load(
            bench.LoadConfig(users=60, rate=60.0, seed=13),
            tmp_path,
            backend=hanging,
            worker_options={"hang_grace_s": 0.5, "reload_backoff_s": 0.1},
            generation_timeout_s=1.0,
        )
    finally:
        hanging.release()
    assert hanging.hung.is_set()
    assert hanging.loads == 2, "the model was reloaded after the hang"
    assert report.extra["worker"].reloads == 1
    assert_invariants(report)


async def test_the_database_locked_for_a_second_by_another_process(tmp_path: Path) -> None:
    """Another connection holds SQLite's write lock for ~1 s in the middle of the load: every
    writer waits (no message is accepted meanwhile), none fails, then the load completes."""
    seen: dict[str, Any] = {}

    def hold_the_lock(db_file: str) -> None:
        watcher = sqlite3.connect(db_file, timeout=10)
        deadline = time.monotonic() + 30
        while watcher.execute("SELECT count(*) FROM turns").fetchone()[0] < 120 and time.monotonic() < deadline:
            time.sleep(0.01)
        locker = sqlite3.connect(db_file, timeout=10, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        seen["at_lock"] = watcher.execute("SELECT count(*) FROM turns").fetchone()[0]
        time.sleep(1.0)
        seen["at_unlock"] = watcher.execute("SELECT count(*) FROM turns").fetchone()[0]
        locker.execute("COMMIT")
        locker.close()
        watcher.close()

    async def during(manager: ConversationManager) -> None:
        await asyncio.to_thread(hold_the_lock, str(manager.store.engine.url.database))

    report = await bench.run_load(bench.LoadConfig(users=100, rate=120.0, seed=14), tmp_path, during=[during])
    assert_invariants(report)
    assert 120 <= seen["at_lock"] < 500
    assert seen["at_unlock"] == seen["at_lock"], "no write got through while the lock was held"


async def test_platform_sends_failing_are_marked_failed_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """5% of sends fail after the adapter's own retries (a 5xx or 429 that did not clear, or a
    user who blocked the bot): each answer that failed leaves its turns `failed` (the checks
    match every failed turn to a failed send) and each failure is logged."""
    rng = random.Random(15)
    lock = threading.Lock()

    def fault(message: Outbound) -> BaseException | None:
        with lock:
            draw = rng.random()
        if draw < 0.04:
            return DeliveryError("HTTP 502 after 3 attempts")
        if draw < 0.05:
            return UserUnreachable("the user blocked the bot")
        return None

    channel = bench.LoadChannel(fault)
    with caplog.at_level(logging.INFO, logger="bot.core.conversation"):
        report = await bench.run_load(bench.LoadConfig(users=100, rate=None, seed=15), tmp_path, channel=channel)
    assert_invariants(report, allow_failed=True)
    failed_sends = sum(not s.delivered for sent in channel.sent.values() for s in sent)
    failed_answers = sum(not s.delivered for sent in channel.sent.values() for s in sent if s.kind in bench.ANSWER_KINDS)
    assert failed_answers >= 3 and report.turns.get("failed", 0) >= failed_answers
    logged = [r for r in caplog.records if "delivery to" in r.getMessage() or "is unreachable" in r.getMessage()]
    assert len(logged) == failed_sends, "every failed send is visible in the logs"



async def test_flags_raised_while_the_moderator_surface_was_down_are_all_posted_later(tmp_path: Path) -> None:
    """Bug fixed: maintenance re-published only the first 100 open (and 100 claimed) flags and
    read each one's mappings in a query of its own; now one query finds every flag a surface
    lacks, however many."""
    core = await make_core(tmp_path, rate_limit_per_minute=1000)
    core.surface.fail_posts = 10_000
    await asyncio.gather(*(core.manager.handle(_crisis(f"u{i}")) for i in range(130)))
    assert core.surface.posts == [] and len(await core.store.flags.by_status(limit=1000)) == 130
    core.surface.fail_posts = 0
    await core.manager.tick()
    assert sorted(v.flag_id for v in core.surface.posts) == sorted(f.id for f in await core.store.flags.by_status(limit=1000))
    await core.manager.tick()
    assert len(core.surface.posts) == 130, "posted once"
    await core.close()


def _crisis(user: str) -> Inbound:
    text = "I want to kill myself, I have been thinking about how I would do it"
    return Inbound(UserRef(Platform.TELEGRAM, user), f"chat-{user}", text, datetime.now(UTC), locale="en")
