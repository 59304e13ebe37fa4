"""The model worker: one bounded priority queue in front of one model.

Requests wait in a heap ordered by risk tier (highest first), then arrival. The worker
takes up to `max_batch` of them, waiting at most `batch_window_ms` for company, and
hands the batch to its backend in a thread so the event loop stays free. Every request
has a deadline; expired or cancelled requests are dropped before generation and a late
reply is never delivered. A failed batch is retried one request at a time; repeated
failure (or a generation hung past its deadlines) marks the worker unhealthy, answers
everything pending with `GeneratorUnavailable` and reloads the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from bot.core.ports import GenerationRequest
from bot.errors import (
    GenerationCancelled,
    GenerationError,
    GenerationTimeout,
    GeneratorBusy,
    GeneratorUnavailable,
    IllegalTransition,
)
from model.backend import Backend, Completion, RenderedPrompt

log = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    UNHEALTHY = "unhealthy"  # failing; pending requests were answered with an error
    RELOADING = "reloading"
    STOPPING = "stopping"


_MOVES: dict[WorkerState, frozenset[WorkerState]] = {
    WorkerState.STOPPED: frozenset({WorkerState.STARTING}),
    WorkerState.STARTING: frozenset({WorkerState.READY, WorkerState.STOPPED, WorkerState.STOPPING}),
    WorkerState.READY: frozenset({WorkerState.UNHEALTHY, WorkerState.STOPPING}),
    WorkerState.UNHEALTHY: frozenset({WorkerState.RELOADING, WorkerState.STOPPING}),
    WorkerState.RELOADING: frozenset({WorkerState.READY, WorkerState.UNHEALTHY, WorkerState.STOPPING}),
    WorkerState.STOPPING: frozenset({WorkerState.STOPPED}),
}


@dataclass(frozen=True)
class WorkerOptions:
    """How the worker queues and recovers.

    `retries`: attempts for each request of a failed batch, one at a time.
    `unhealthy_after`: consecutive failed generations before the model is reloaded.
    `hang_grace_s`: how long past a batch's last deadline its thread may run before the
    generation counts as hung.
    """

    max_batch: int = 8
    batch_window_ms: int = 20
    queue_size: int = 256
    retries: int = 1
    max_new_tokens: int = 160
    unhealthy_after: int = 3
    hang_grace_s: float = 5.0
    reload_backoff_s: float = 1.0
    stats_window: int = 200


@dataclass(frozen=True)
class WorkerHealth:
    """A snapshot for `/health`, logs and the operators' status command."""

    state: WorkerState
    backend: str
    queue_depth: int
    in_flight: int
    latency_p50_s: float | None  # submit to reply, over recent successes
    latency_p95_s: float | None
    tokens_per_s: float | None  # generated tokens over generation time, recent batches
    served: int
    failed: int
    timed_out: int
    cancelled: int
    reloads: int
    last_error: str | None


class _Hung(Exception):
    """The backend's thread outlived every deadline in its batch."""


@dataclass(eq=False)
class _Entry:
    request: GenerationRequest
    prompt: RenderedPrompt
    future: asyncio.Future[Completion]
    submitted: float
    seq: int
    attempts: int = 0

    @property
    def live(self) -> bool:
        return not self.future.done()

    def key(self) -> tuple[int, int]:
        return (-int(self.request.priority), self.seq)


@dataclass
class _Stats:
    window: int
    latencies: deque[float] = field(default_factory=deque)
    batches: deque[tuple[int, float]] = field(default_factory=deque)  # (tokens, seconds)
    served: int = 0
    failed: int = 0
    timed_out: int = 0
    cancelled: int = 0
    reloads: int = 0
    last_error: str | None = None

    def __post_init__(self) -> None:
        self.latencies = deque(maxlen=self.window)
        self.batches = deque(maxlen=self.window)


class Worker:
    """Implements `bot.core.ports.Generator` over one `Backend`.

    Call `start()` before `generate()` and `stop()` at shutdown (or use `async with`).
    `generate` raises `GeneratorBusy` (queue full), `GenerationTimeout` (deadline),
    `GenerationCancelled` (`cancel(session_key)`) or `GeneratorUnavailable` (not ready,
    failing, reloading, stopped).
    """

    def __init__(self, backend: Backend, options: WorkerOptions | None = None) -> None:
        self.backend = backend
        self.options = options or WorkerOptions()
        self._state = WorkerState.STOPPED
        self._heap: list[tuple[tuple[int, int], _Entry]] = []
        self._running: list[_Entry] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stats = _Stats(self.options.stats_window)
        self._failures = 0

    # lifecycle ---------------------------------------------------------------------

    @property
    def state(self) -> WorkerState:
        return self._state

    def _move(self, to: WorkerState) -> None:
        if to not in _MOVES[self._state]:
            raise IllegalTransition(f"worker cannot go from {self._state} to {to}")
        log.info("model worker %s -> %s", self._state, to)
        self._state = to

    async def start(self) -> None:
        """Load the model (in a thread) and start serving. Raises what loading raised."""
        self._move(WorkerState.STARTING)
        try:
            await asyncio.to_thread(self.backend.load)
        except BaseException:
            self._move(WorkerState.STOPPED)
            raise
        self._move(WorkerState.READY)
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._serve(), name="model-worker")
        self._task.add_done_callback(self._served)

    def _served(self, task: asyncio.Task[None]) -> None:
        """The serving loop only ends by cancellation; if it crashed, nobody may wait forever."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("model worker loop crashed (%s)", type(task.exception()).__name__)
        self._stats.last_error = f"worker loop crashed: {type(task.exception()).__name__}"
        self._fail_pending(GeneratorUnavailable("the model worker failed"))
        if WorkerState.UNHEALTHY in _MOVES[self._state]:
            self._move(WorkerState.UNHEALTHY)

    async def stop(self) -> None:
        """Answer everything pending with `GeneratorUnavailable` and release the model."""
        if self._state in (WorkerState.STOPPED, WorkerState.STOPPING):
            return
        self._move(WorkerState.STOPPING)
        self._fail_pending(GeneratorUnavailable("the model worker stopped"))
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # a crash was handled in _served
                await self._task
            self._task = None
        await asyncio.to_thread(self.backend.close)
        self._move(WorkerState.STOPPED)

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # the Generator port --------------------------------------------------------------

    async def generate(self, request: GenerationRequest) -> str:
        """Queue one request and wait for its reply (see the class docstring for errors)."""
        return (await self.complete(request)).text

    async def complete(self, request: GenerationRequest) -> Completion:
        """Like `generate`, with the generated token count (for an HTTP server's usage)."""
        if self._state is not WorkerState.READY:
            raise GeneratorUnavailable(f"the model worker is {self._state}")
        remaining = request.deadline - time.monotonic()
        if remaining <= 0:
            self._stats.timed_out += 1
            raise GenerationTimeout("the request's deadline had already passed")
        max_new = request.max_new_tokens or self.options.max_new_tokens
        try:
            prompt = self.backend.render(request, max_new)
        except Exception as exc:
            raise GeneratorUnavailable(f"the prompt could not be built ({type(exc).__name__})") from exc
        entry = _Entry(request, prompt, asyncio.get_running_loop().create_future(), time.monotonic(), next(self._seq))
        self._admit(entry)
        try:
            return await asyncio.wait_for(asyncio.shield(entry.future), remaining)
        except TimeoutError:
            if entry.live:
                entry.future.cancel()
            self._stats.timed_out += 1
            raise GenerationTimeout("the reply was not ready before the deadline") from None
        except GenerationTimeout:
            self._stats.timed_out += 1
            raise
        except GenerationCancelled:
            self._stats.cancelled += 1
            raise
        except asyncio.CancelledError:
            if entry.live:
                entry.future.cancel()
            raise

    def cancel(self, session_key: str) -> int:
        """Cancel this session's queued and in-flight requests; returns how many were dropped.

        In-flight ones are answered with `GenerationCancelled` at once; their replies,
        when the batch ends, are thrown away.
        """
        dropped = 0
        for entry in [e for _, e in self._heap] + self._running:
            if entry.live and entry.request.session_key == session_key:
                entry.future.set_exception(GenerationCancelled("the request was cancelled"))
                dropped += 1
        return dropped

    def health(self) -> WorkerHealth:
        latencies = sorted(self._stats.latencies)
        tokens = sum(t for t, _ in self._stats.batches)
        seconds = sum(s for _, s in self._stats.batches)
        return WorkerHealth(
            state=self._state,
            backend=self.backend.name,
            queue_depth=self.queue_depth,
            in_flight=sum(1 for e in self._running if e.live),
            latency_p50_s=statistics.median(latencies) if latencies else None,
            latency_p95_s=_percentile(latencies, 0.95),
            tokens_per_s=tokens / seconds if seconds > 0 else None,
            served=self._stats.served,
            failed=self._stats.failed,
            timed_out=self._stats.timed_out,
            cancelled=self._stats.cancelled,
            reloads=self._stats.reloads,
            last_error=self._stats.last_error,
        )

    @property
    def queue_depth(self) -> int:
        return sum(1 for _, e in self._heap if e.live)

    # queueing ------------------------------------------------------------------------

    def _admit(self, entry: _Entry) -> None:
        """Push, or refuse with `GeneratorBusy` when full. A request of a higher tier than
        the lowest queued one takes that one's place (the evicted one gets busy)."""
        live = [e for _, e in self._heap if e.live]
        if len(live) >= self.options.queue_size:
            victim = max(live, key=lambda e: e.key())  # lowest tier, newest
            if victim.key()[0] <= entry.key()[0]:
                raise GeneratorBusy("the model queue is full")
            victim.future.set_exception(GeneratorBusy("the model queue is full"))
        if len(self._heap) > 2 * self.options.queue_size:
            self._heap = [(k, e) for k, e in self._heap if e.live]
            heapq.heapify(self._heap)
        heapq.heappush(self._heap, (entry.key(), entry))
        self._wake.set()

    def _take(self, limit: int) -> list[_Entry]:
        batch: list[_Entry] = []
        now = time.monotonic()
        while self._heap and len(batch) < limit:
            _, entry = heapq.heappop(self._heap)
            if not entry.live:
                continue
            if entry.request.deadline <= now:
                entry.future.set_exception(GenerationTimeout("the deadline passed while the request was queued"))
                continue
            batch.append(entry)
        return batch

    async def _serve(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.queue_depth:
                continue
            # The window runs from the oldest waiting request's arrival, so requests
            # that queued behind a running batch are not held back again.
            oldest = min(e.submitted for _, e in self._heap if e.live)
            end = oldest + self.options.batch_window_ms / 1000
            while self.queue_depth < self.options.max_batch and (left := end - time.monotonic()) > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), left)
            batch = self._take(self.options.max_batch)
            if batch:
                await self._run(batch)
            if self.queue_depth:
                self._wake.set()

    # generation and recovery ---------------------------------------------------------

    async def _run(self, batch: list[_Entry]) -> None:
        self._running = batch
        try:
            await self._attempt(batch)
        except _Hung:
            await self._recover("a generation hung past its deadline")
        except Exception as exc:
            self._note_failure(exc, len(batch))
            for entry in batch:
                if await self._retry_alone(entry):
                    return
        finally:
            self._running = []

    async def _attempt(self, batch: list[_Entry]) -> None:
        live = [e for e in batch if e.live]
        if not live:
            return
        for entry in live:
            entry.attempts += 1
        started = time.monotonic()
        timeout = max(e.request.deadline for e in live) - started + self.options.hang_grace_s
        completions = await self._in_thread(self.backend.generate_batch, [e.prompt for e in live], timeout)
        elapsed = time.monotonic() - started
        if len(completions) != len(live):
            raise RuntimeError(f"backend returned {len(completions)} replies for {len(live)} prompts")
        self._stats.batches.append((sum(c.tokens for c in completions), elapsed))
        self._failures = 0
        done = time.monotonic()
        for entry, completion in zip(live, completions, strict=True):
            if entry.live:  # a cancelled or expired request's reply is dropped here
                entry.future.set_result(completion)
                self._stats.served += 1
                self._stats.latencies.append(done - entry.submitted)

    async def _retry_alone(self, entry: _Entry) -> bool:
        """Retry one request of a failed batch; True when the worker went unhealthy."""
        while entry.live:
            if entry.attempts > self.options.retries:
                entry.future.set_exception(GeneratorUnavailable("the model failed to answer"))
                self._stats.failed += 1
                return False
            try:
                await self._attempt([entry])
            except _Hung:
                await self._recover("a generation hung past its deadline")
                return True
            except Exception as exc:
                self._note_failure(exc, 1)
                if self._failures >= self.options.unhealthy_after:
                    await self._recover("repeated generation failures")
                    return True
        return False

    def _note_failure(self, exc: BaseException, size: int) -> None:
        self._failures += 1
        self._stats.last_error = type(exc).__name__
        log.warning("model batch of %d failed (%s); %d failure(s) in a row", size, type(exc).__name__, self._failures)

    async def _recover(self, reason: str) -> None:
        """Go unhealthy, answer everything pending with an error, reload until it works."""
        self._move(WorkerState.UNHEALTHY)
        self._stats.last_error = reason
        self._fail_pending(GeneratorUnavailable(f"the model is being reloaded ({reason})"))
        self._failures = 0
        while True:
            self._move(WorkerState.RELOADING)
            try:
                await asyncio.to_thread(self._reload)
            except Exception as exc:
                log.error("model reload failed (%s); retrying", type(exc).__name__)
                self._move(WorkerState.UNHEALTHY)
                self._stats.last_error = f"reload failed: {type(exc).__name__}"
                await asyncio.sleep(self.options.reload_backoff_s)
                continue
            self._stats.reloads += 1
            self._move(WorkerState.READY)
            return

    def _reload(self) -> None:
        self.backend.close()
        self.backend.load()

    def _fail_pending(self, error: GenerationError) -> None:
        for entry in [e for _, e in self._heap] + self._running:
            if entry.live:
                entry.future.set_exception(type(error)(*error.args))
                self._stats.failed += 1
        self._heap = []

    async def _in_thread(self, fn: Callable[[Sequence[RenderedPrompt]], list[Completion]],
                         prompts: list[RenderedPrompt], timeout: float) -> list[Completion]:
        """Run `fn` in a daemon thread of its own; `_Hung` if it outlives `timeout`.

        A plain executor would keep a hung thread's slot (and block interpreter exit);
        a daemon thread can be abandoned while the model is reloaded.
        """
        loop = asyncio.get_running_loop()
        result: asyncio.Future[list[Completion]] = loop.create_future()
        # An abandoned (hung, then failed) generation's error is nobody's to retrieve.
        result.add_done_callback(lambda f: f.cancelled() or f.exception())

        def settle(ok: bool, value: object) -> None:
            if not result.done():
                if ok:
                    result.set_result(value)  # type: ignore[arg-type]
                else:
                    result.set_exception(value)  # type: ignore[arg-type]

        def target() -> None:
            try:
                value: object = fn(prompts)
                ok = True
            except BaseException as exc:
                value, ok = exc, False
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, ok, value)

        threading.Thread(target=target, name="model-generate", daemon=True).start()
        try:
            return await asyncio.wait_for(asyncio.shield(result), max(timeout, 0.0))
        except TimeoutError:
            raise _Hung() from None


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]
