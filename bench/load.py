"""Load: N simulated users x 5 messages through the real manager, a real SQLite file and
the real model worker, then the invariants checked against the database and what users saw.

    python bench/load.py [--users 1000] [--rate 300] [--backend scripted|tiny] [--seed 0]

Users are split between Discord and Telegram refs and between consenting (40%), declining
(40%) and silent (20%: never answer the notice); about 5% of messages are risk messages.
Each user sends a consent command, then 5 messages with random pauses, each message in a
task of its own (as discord.py dispatches events), so a user's messages can overlap.
`--rate R` paces arrivals at about R messages/s overall; `--rate 0` sends as fast as the
pauses allow (short random pauses), which measures capacity. By default both runs are made.

`--backend scripted` (default) puts an instant scripted backend behind the real
`model.worker.Worker`, so what is measured is the core, the store and the worker's
queueing; `--backend tiny` runs the tiny random Llama (`model.tiny`), which on a CPU
generates a few replies a second, so use it with few users (e.g. `--users 40`).

`--max-batch N` sets the worker's MAX_BATCH; `--gc-freeze` calls `gc.freeze()` once
everything is imported (the collector then skips those objects: its longest pauses drop
from ~100 ms to ~35 ms here).

Printed: messages/s (chat messages / wall time from first send to last answer), core
overhead per message (its `handle()` time minus the generation awaited inside it) p50 /
p99, `lost: N` (accepted messages still pending at the end), and the invariant checks.
Exit status 1 when a check fails or a message was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.core.conversation import ConversationManager  # noqa: E402
from bot.core.ports import GenerationRequest, Generator, PostedFlag  # noqa: E402
from bot.core.types import ConsentState, FlagView, Inbound, Outbound, OutboundKind, Platform, UserRef  # noqa: E402
from bot.store import Store, db, open_store  # noqa: E402
from bot.store.crypto import generate_key  # noqa: E402
from bot.store.models import Flag, FlagMessage, Message, Turn, User  # noqa: E402
from model.backend import Completion, Message as PromptMessage, RenderedPrompt  # noqa: E402
from model.worker import Worker, WorkerOptions  # noqa: E402

NORMAL = (
    "work has been really stressful this week",
    "I can't sleep well lately",
    "my sister and I keep arguing",
    "I moved to a new city and feel a bit lonely",
    "exams are coming up and I'm nervous",
    "thanks, that helps a little",
    "my boss criticised me in a meeting",
    "I don't know how to talk to my parents",
    "what can I do to relax before bed",
    "I had a nice walk today but still feel low",
)
# Elevated or high tier: flagged, answered by the model in safe mode (imminent messages
# take the scripted path and have their own tests).
RISK = (
    "I want to kill myself, I have been thinking about how I would do it",
    "I keep cutting myself when things get bad",
    "I don't want to be alive anymore",
    "sometimes I wish I could go to sleep and never wake up",
)
MARKER = "(ref "  # every sent text ends with "(ref <user>-<n>)": found in raw bytes only if stored in clear
SCRIPTED_REPLY = "That sounds hard. I'm here with you; what would help most right now?"
ANSWER_KINDS = (OutboundKind.REPLY, OutboundKind.ERROR)
GENERATION_TIME: contextvars.ContextVar[list[float]] = contextvars.ContextVar("generation_time")


@dataclass(frozen=True)
class LoadConfig:
    users: int = 1000
    messages: int = 5
    rate: float | None = 300.0  # messages/s overall; None: as fast as the pauses allow
    risk_share: float = 0.05
    agree_share: float = 0.4
    decline_share: float = 0.4
    fast_pause_s: float = 0.02  # mean pause between a user's messages when `rate` is None
    backend: str = "scripted"  # "scripted" or "tiny"
    max_new_tokens: int = 8
    seed: int = 0
    timeout_s: float = 600.0


@dataclass
class UserScript:
    ref: UserRef
    consent: ConsentState  # GRANTED, DECLINED, or UNKNOWN (never answers the notice)
    texts: list[str]
    risky: list[bool]
    times: list[float]  # send offsets in seconds: the consent command first, then each text


def make_scripts(config: LoadConfig) -> list[UserScript]:
    rng = random.Random(config.seed)
    total = config.users * config.messages
    span = 0.0 if config.rate is None else total / config.rate
    scripts = []
    for index in range(config.users):
        platform = Platform.DISCORD if index % 2 else Platform.TELEGRAM
        draw = rng.random()
        consent = (
            ConsentState.GRANTED
            if draw < config.agree_share
            else ConsentState.DECLINED if draw < config.agree_share + config.decline_share else ConsentState.UNKNOWN
        )
        risky = [rng.random() < config.risk_share for _ in range(config.messages)]
        texts = [f"{rng.choice(RISK if r else NORMAL)} {MARKER}u{index}-{n})" for n, r in enumerate(risky)]
        if span:
            sends = sorted(rng.uniform(0, span) for _ in range(config.messages))
            first = max(0.0, sends[0] - rng.uniform(0.05, 0.5))
        else:
            first, sends, at = 0.0, [], 0.0
            for _ in range(config.messages):
                at += rng.uniform(0, 2 * config.fast_pause_s)
                sends.append(at)
        scripts.append(UserScript(UserRef(platform, f"u{index}"), consent, texts, risky, [first, *sends]))
    return scripts


# Doubles for the platforms: what users would see, with an optional fault per send ---------


@dataclass
class Sent:
    kind: OutboundKind
    text: str
    delivered: bool


class LoadChannel:
    """A UserChannel that records every send attempt per user; `fault(message)` may return
    an exception to raise instead of delivering (a platform failing after its retries)."""

    def __init__(self, fault: Callable[[Outbound], BaseException | None] | None = None) -> None:
        self.sent: dict[UserRef, list[Sent]] = defaultdict(list)
        self.fault = fault

    async def send(self, message: Outbound) -> None:
        error = self.fault(message) if self.fault is not None else None
        self.sent[message.user].append(Sent(message.kind, message.text, error is None))
        if error is not None:
            raise error

    async def typing(self, chat_ref: str) -> None:
        return None


class LoadSurface:
    """A ModeratorSurface that counts what it was shown."""

    name = "load"

    def __init__(self) -> None:
        self.posted: Counter[int] = Counter()

    async def post(self, view: FlagView) -> PostedFlag:
        self.posted[view.flag_id] += 1
        return PostedFlag(f"load-{view.flag_id}")

    async def update(self, ref: str, view: FlagView) -> str | None:
        return None

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        return None


class ScriptedBackend:
    """A `model.backend.Backend` that answers at once: the worker's queueing without a model."""

    name = "scripted"

    def load(self) -> None:
        return None

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        last = request.history[-1].text
        return RenderedPrompt((PromptMessage("user", last),), "", (), max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        return [Completion(SCRIPTED_REPLY, 12) for _ in prompts]

    def close(self) -> None:
        return None


class MeasuredGenerator:
    """Wraps the real generator: records each request's user text per session, the most
    generations in flight at once for one session, and adds the time spent generating to
    the calling `handle()`'s context (core overhead = handle time minus that)."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.requests: dict[str, list[str]] = defaultdict(list)
        self.max_in_flight = 0
        self.seconds: list[float] = []
        self._in_flight: Counter[str] = Counter()

    async def generate(self, request: GenerationRequest) -> str:
        key = request.session_key
        self.requests[key].append(request.history[-1].text)
        self._in_flight[key] += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight[key])
        started = time.perf_counter()
        try:
            return await self.inner.generate(request)
        finally:
            elapsed = time.perf_counter() - started
            self._in_flight[key] -= 1
            self.seconds.append(elapsed)
            spent = GENERATION_TIME.get(None)
            if spent is not None:
                spent[0] += elapsed

    def cancel(self, session_key: str) -> int:
        return self.inner.cancel(session_key)


# The run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class LoadReport:
    config: LoadConfig
    generator: str
    messages: int
    wall_s: float
    overheads_s: list[float]
    generation_s: list[float]
    lost: int
    turns: dict[str, int]
    checks: list[Check]
    db_path: Path
    cpu_s: float = 0.0  # this process's CPU time during the run (all threads)
    loadavg: float = 0.0  # the machine's 1-minute load average at the end (other work competes)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.wall_s if self.wall_s else 0.0

    def overhead_ms(self, q: float) -> float:
        ordered = sorted(self.overheads_s)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def ok(self) -> bool:
        return self.lost == 0 and all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        c = self.config
        mean_gen = 1000 * statistics.fmean(self.generation_s) if self.generation_s else 0.0
        pace = "as fast as possible" if c.rate is None else f"paced at {c.rate:g} messages/s"
        return [
            f"load: {c.users} users x {c.messages} messages ({self.messages} chat messages), {pace}",
            f"generator: {self.generator}",
            f"messages/s: {self.rate:.1f}  (wall {self.wall_s:.2f} s; CPU {1000 * self.cpu_s / self.messages:.2f} ms per message; "
            f"load average {self.loadavg:.1f} on {os.cpu_count()} cores)",
            f"core overhead per message (outside generation): p50 {self.overhead_ms(0.5):.1f} ms, "
            f"p99 {self.overhead_ms(0.99):.1f} ms, max {self.overhead_ms(1.0):.1f} ms",
            f"generation: {len(self.generation_s)} requests, mean {mean_gen:.1f} ms",
            f"turns: {dict(sorted(self.turns.items()))}",
            f"lost: {self.lost}",
            *(f"check {'ok  ' if k.ok else 'FAIL'} {k.name}{': ' + k.detail if k.detail else ''}" for k in self.checks),
        ]


Hook = Callable[[ConversationManager], Coroutine[Any, Any, None]]


def load_settings_for(workdir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{workdir / 'load.db'}",
        "transcript_key": generate_key(),
        "model_cache_dir": workdir / "cache",
        "_env_file": None,
        **overrides,
    }
    return load_settings(**values)


async def build_worker(
    config: LoadConfig, settings: Settings, workdir: Path, backend: Any | None, worker_options: dict[str, Any] | None = None
) -> tuple[Worker, str]:
    """The real worker over `backend`, or over the scripted / tiny backend the config names."""
    options = WorkerOptions(
        max_batch=settings.max_batch,
        batch_window_ms=settings.batch_window_ms,
        queue_size=settings.queue_size,
        max_new_tokens=config.max_new_tokens,
        **(worker_options or {}),
    )
    if backend is not None:
        described = f"real worker + {backend.name} backend"
    elif config.backend == "tiny":
        from model.local import LocalBackend, LocalOptions
        from model.tiny import save_tiny_llama

        folder = save_tiny_llama(workdir / "tiny-llama")
        backend = LocalBackend(LocalOptions(model=str(folder), history_token_budget=256, threads=1))
        described = f"real worker + tiny random Llama (max_new_tokens={config.max_new_tokens})"
    else:
        backend = ScriptedBackend()
        described = "real worker + fast scripted backend (instant replies; no model)"
    worker = Worker(backend, options)
    await worker.start()
    return worker, described


async def run_load(
    config: LoadConfig,
    workdir: Path,
    *,
    backend: Any | None = None,
    channel: LoadChannel | None = None,
    during: Sequence[Hook] = (),
    worker_options: dict[str, Any] | None = None,
    wrap_generator: Callable[[Generator], Generator] | None = None,
    **settings_overrides: Any,
) -> LoadReport:
    """Run one load on a fresh database in `workdir`; `during` hooks run alongside the users
    (fault injection). The manager, store, worker and safety layer are the real ones;
    `backend` replaces the model behind the worker, `wrap_generator` wraps the worker as
    the manager sees it, `channel` replaces the platforms."""
    settings = load_settings_for(workdir, **settings_overrides)
    await asyncio.to_thread(db.upgrade, settings.database_url)
    store = await open_store(settings)
    worker, described = await build_worker(config, settings, workdir, backend, worker_options)
    generator = MeasuredGenerator(worker if wrap_generator is None else wrap_generator(worker))
    manager = ConversationManager(settings, store, generator)
    channel = channel or LoadChannel()
    for platform in Platform:
        manager.register_channel(platform, channel)
    surface = LoadSurface()
    manager.register_surface(surface)
    scripts = make_scripts(config)
    overheads: list[float] = []
    try:
        started, cpu = time.perf_counter(), time.process_time()
        async with asyncio.timeout(config.timeout_s):
            hooks = [asyncio.create_task(hook(manager)) for hook in during]
            await asyncio.gather(*(_user(manager, s, started, overheads) for s in scripts))
            await asyncio.gather(*hooks)
        wall = time.perf_counter() - started - min(s.times[1] for s in scripts)
        cpu = time.process_time() - cpu
        checks, lost, turns = await check_invariants(store, scripts, generator, channel, surface)
        health = worker.health()
    finally:
        await worker.stop()
        await store.close()
    return LoadReport(
        config, described, config.users * config.messages, wall, overheads, generator.seconds, lost, turns, checks,
        workdir / "load.db", cpu, os.getloadavg()[0], {"max_in_flight_per_user": generator.max_in_flight, "worker": health},
    )


async def _user(manager: ConversationManager, script: UserScript, started: float, overheads: list[float]) -> None:
    """Send the consent command and the texts at their times, each in a task of its own."""
    consent = {ConsentState.GRANTED: "/agree", ConsentState.DECLINED: "/decline"}.get(script.consent)
    events = [(script.times[0], consent, False)] if consent else []
    events += [(at, text, True) for at, text in zip(script.times[1:], script.texts, strict=True)]
    tasks = []
    for at, text, measured in events:
        delay = started + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        inbound = Inbound(script.ref, f"chat-{script.ref.user_id}", text, datetime.now(UTC), locale="en")
        tasks.append(asyncio.create_task(_timed(manager, inbound, overheads if measured else None)))
    await asyncio.gather(*tasks)


async def _timed(manager: ConversationManager, inbound: Inbound, overheads: list[float] | None) -> None:
    spent = [0.0]
    GENERATION_TIME.set(spent)
    began = time.perf_counter()
    await manager.handle(inbound)
    if overheads is not None:
        overheads.append(time.perf_counter() - began - spent[0])


# Invariants -------------------------------------------------------------------------------


def raw_bytes(db_file: Path) -> bytes:
    """The database file and its -wal / -shm / -journal companions, as on disk."""
    return b"".join(p.read_bytes() for s in ("", "-wal", "-shm", "-journal") if (p := Path(f"{db_file}{s}")).exists())


async def check_invariants(
    store: Store, scripts: list[UserScript], generator: MeasuredGenerator, channel: LoadChannel, surface: LoadSurface
) -> tuple[list[Check], int, dict[str, int]]:
    """(checks, lost, turn counts). A user's k-th generation request is answered by their
    k-th REPLY/ERROR send (one generation in flight per user); each accepted message's
    ledger status must be what that send's outcome says."""
    async with store.engine.connect() as conn:
        users = {(r.platform, r.platform_user_id): r.id for r in (await conn.execute(select(User.id, User.platform, User.platform_user_id))).all()}
        turn_rows = (await conn.execute(select(Turn.user_id, Turn.status).order_by(Turn.id))).all()
        flagged = (await conn.execute(select(Flag.id, Flag.user_id, FlagMessage.body).join(FlagMessage, FlagMessage.flag_id == Flag.id))).all()
        flag_users = Counter(r.user_id for r in (await conn.execute(select(Flag.user_id))).all())
        stored_by = Counter(r.user_id for r in (await conn.execute(select(Message.user_id))).all())
    statuses: dict[int, list[str]] = defaultdict(list)
    for row in turn_rows:
        statuses[row.user_id].append(row.status)
    turns = Counter(row.status for row in turn_rows)
    lost = turns.get("pending", 0)

    order_bad, ledger_bad, concurrency = [], [], generator.max_in_flight
    for script in scripts:
        uid = users.get((script.ref.platform.value, script.ref.user_id))
        if uid is None:
            order_bad.append(f"{script.ref.user_id}: unknown")
            continue
        requests = generator.requests.get(f"user:{uid}", [])
        received = [line for text in requests for line in text.split("\n")]
        if received != script.texts:
            order_bad.append(script.ref.user_id)
        answers = [s for s in channel.sent[script.ref] if s.kind in ANSWER_KINDS]
        expected: list[str] = []
        for text, answer in zip(requests, answers, strict=False):
            expected += ["answered" if answer.delivered else "failed"] * len(text.split("\n"))
        if len(answers) != len(requests) or statuses.get(uid, []) != expected:
            ledger_bad.append(script.ref.user_id)

    risk_sent = Counter(t for s in scripts for t, r in zip(s.texts, s.risky, strict=True) if r)
    risk_stored = Counter(store.cipher.decrypt(row.body) for row in flagged)
    risky_users = {users.get((s.ref.platform.value, s.ref.user_id)) for s in scripts if any(s.risky)}
    declining = {users.get((s.ref.platform.value, s.ref.user_id)) for s in scripts if s.consent is not ConsentState.GRANTED}
    granted = [s for s in scripts if s.consent is ConsentState.GRANTED]
    leaked = [uid for uid in declining if stored_by.get(uid)]
    short_transcripts = [
        s.ref.user_id for s in granted if stored_by.get(users.get((s.ref.platform.value, s.ref.user_id)), 0) < len(s.texts)
    ]
    in_clear = MARKER.encode() in raw_bytes(Path(str(store.engine.url.database)))
    checks = [
        Check("every message accepted", sum(turns.values()) == sum(len(s.texts) for s in scripts), f"{sum(turns.values())} turns"),
        Check("every message answered exactly once", not ledger_bad, _few(ledger_bad)),
        Check("in order per user", not order_bad and concurrency <= 1, _few(order_bad) or f"max generations in flight per user {concurrency}"),
        Check("every risk message flagged exactly once", risk_stored == risk_sent, f"{sum(risk_sent.values())} risk messages, {sum(risk_stored.values())} flagged"),
        Check("one flag per risky session, posted once", set(flag_users) == risky_users and all(v == 1 for v in flag_users.values()) and all(v == 1 for v in surface.posted.values()), f"{len(flag_users)} flags"),
        Check("no text stored for declining users", not leaked and not in_clear, _few([str(u) for u in leaked]) or ("text in clear on disk" if in_clear else "")),
        Check("consenting users' transcripts stored", not short_transcripts, _few(short_transcripts)),
    ]
    return checks, lost, dict(turns)


def _few(items: Sequence[str]) -> str:
    return "" if not items else f"{len(items)} users, e.g. {', '.join(items[:5])}"


# Command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> tuple[list[LoadConfig], Path | None, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--users", type=int, default=LoadConfig.users)
    parser.add_argument("--messages", type=int, default=LoadConfig.messages, help="messages per user")
    parser.add_argument("--rate", type=float, default=None, help="messages/s overall (0: as fast as possible); default: both runs, 0 and 300")
    parser.add_argument("--backend", choices=("scripted", "tiny"), default=LoadConfig.backend)
    parser.add_argument("--max-new-tokens", type=int, default=LoadConfig.max_new_tokens)
    parser.add_argument("--seed", type=int, default=LoadConfig.seed)
    parser.add_argument("--max-batch", type=int, default=None, help="the worker's MAX_BATCH (default: the setting's default)")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after start-up (shorter collector pauses; not done by bot/app.py)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the databases here (default: a temporary folder)")
    args = parser.parse_args(argv)
    rates: list[float | None] = [None, 300.0] if args.rate is None else [args.rate or None]
    common = {"users": args.users, "messages": args.messages, "backend": args.backend, "max_new_tokens": args.max_new_tokens, "seed": args.seed}
    overrides = {} if args.max_batch is None else {"max_batch": args.max_batch}
    if args.gc_freeze:
        gc.freeze()  # what is loaded so far is never collected: the collector scans far less
    return [LoadConfig(rate=rate, **common) for rate in rates], args.workdir, overrides


async def main(configs: list[LoadConfig], workdir: Path | None, overrides: dict[str, Any]) -> int:
    ok = True
    root = workdir or Path(tempfile.mkdtemp(prefix="counselbot-load-"))
    for index, config in enumerate(configs):
        folder = root / f"run{index}"
        folder.mkdir(parents=True, exist_ok=True)
        report = await run_load(config, folder, **overrides)
        print("\n".join(report.lines()), flush=True)
        print(flush=True)
        ok = ok and report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*parse_args())))
