"""The worker over a tiny random Llama: batching, order, deadlines, cancellation, recovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from bot.core.ports import Generator
from bot.errors import GenerationCancelled, GenerationTimeout, GeneratorBusy, GeneratorUnavailable
from bot.safety.levels import RiskLevel
from model.local import LocalBackend, LocalOptions
from model.worker import Worker, WorkerOptions, WorkerState

from tests.integration.model.fakes import FaultyBackend, MakeRequest

pytestmark = pytest.mark.timeout(120)



@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        await worker.stop()


async def _start(workers: list[Worker], backend: object, **options: object) -> Worker:
    worker = Worker(backend, WorkerOptions(**options))  # type: ignore[arg-type]
    await worker.start()
    workers.append(worker)
    return worker


async def _until(condition: Callable[[], bool], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached"
        await asyncio.sleep(0.01)


async def test_worker_is_a_generator_and_answers(faulty: FaultyBackend, workers: list[Worker],
                                                 make_request: MakeRequest) -> None:
    worker = await _start(workers, faulty)
    assert isinstance(worker, Generator)
    reply = await worker.generate(make_request("I feel anxious and I cannot sleep"))
    assert isinstance(reply, str) and reply


async def test_requests_waiting_together_are_generated_together_and_match_alone(
    tiny_model: object, workers: list[Worker], make_request: MakeRequest, counseling: list[str]
) -> None:
    backend = FaultyBackend(LocalBackend(LocalOptions(model=str(tiny_model))))
    alone_worker = await _start(workers, backend, max_batch=1, batch_window_ms=0)
    alone = [await alone_worker.generate(make_request(text)) for text in counseling[:5]]
    assert [len(b) for b in backend.batches] == [1] * 5
    await alone_worker.stop()

    backend.batches.clear()
    batched_worker = await _start(workers, backend, max_batch=8, batch_window_ms=300)
    batched = await asyncio.gather(*(batched_worker.generate(make_request(text)) for text in counseling[:5]))
    assert [len(b) for b in backend.batches] == [5]
    assert list(batched) == alone
    assert all(alone) and len(set(alone)) > 1  # real, prompt-dependent text


async def test_batches_respect_max_batch(faulty: FaultyBackend, workers: list[Worker],
                                         make_request: MakeRequest, counseling: list[str]) -> None:
    worker = await _start(workers, faulty, max_batch=3, batch_window_ms=200)
    replies = await asyncio.gather(*(worker.generate(make_request(t)) for t in counseling[:7]))
    assert len(replies) == 7
    assert sorted(len(b) for b in faulty.batches) == [1, 3, 3]


async def test_higher_risk_first_then_arrival(faulty: FaultyBackend, workers: list[Worker],
                                              make_request: MakeRequest) -> None:
    worker = await _start(workers, faulty, max_batch=1, batch_window_ms=0)
    faulty.hold()
    first = asyncio.create_task(worker.generate(make_request("blocker")))
    await asyncio.to_thread(faulty.wait_entered)
    order = [("a", RiskLevel.NONE), ("b", RiskLevel.HIGH), ("c", RiskLevel.CONCERN),
             ("d", RiskLevel.IMMINENT), ("e", RiskLevel.NONE), ("f", RiskLevel.HIGH)]
    tasks = [asyncio.create_task(worker.generate(make_request(t, priority=p))) for t, p in order]
    await _until(lambda: worker.queue_depth == len(order))
    assert worker.health().queue_depth == len(order)
    faulty.release()
    await asyncio.gather(first, *tasks)
    assert [b[0] for b in faulty.batches] == ["blocker", "d", "b", "f", "c", "a", "e"]


async def test_expired_requests_are_dropped_before_generation(faulty: FaultyBackend, workers: list[Worker],
                                                              make_request: MakeRequest) -> None:
    worker = await _start(workers, faulty, max_batch=1, batch_window_ms=0)
    with pytest.raises(GenerationTimeout):
        await worker.generate(make_request("too late", timeout=-1))

    faulty.hold()
    blocker = asyncio.create_task(worker.generate(make_request("blocker")))
    await asyncio.to_thread(faulty.wait_entered)
    started = time.monotonic()
    with pytest.raises(GenerationTimeout):
        await worker.generate(make_request("short deadline", timeout=0.3))
    assert time.monotonic() - started < 2
    faulty.release()
    await blocker
    await worker.generate(make_request("after"))
    assert all("short deadline" not in b for b in faulty.batches)
    assert worker.health().timed_out == 2


async def test_cancel_drops_a_sessions_queued_and_running_requests(faulty: FaultyBackend, workers: list[Worker],
                                                                    make_request: MakeRequest) -> None:
    worker = await _start(workers, faulty, max_batch=1, batch_window_ms=0)
    faulty.hold()
    running = asyncio.create_task(worker.generate(make_request("running", session="erase-me")))
    await asyncio.to_thread(faulty.wait_entered)
    queued = [asyncio.create_task(worker.generate(make_request(f"queued {i}", session="erase-me"))) for i in range(2)]
    other = asyncio.create_task(worker.generate(make_request("someone else")))
    await _until(lambda: worker.queue_depth == 3)

    assert worker.cancel("erase-me") == 3
    for task in [running, *queued]:
        with pytest.raises(GenerationCancelled):
            await task
    assert worker.cancel("erase-me") == 0
    faulty.release()
    assert await other
    assert [b[0] for b in faulty.batches] == ["running", "someone else"]  # the queued ones never ran
    assert worker.health().cancelled == 3


async def test_a_callers_cancellation_removes_its_request(faulty: FaultyBackend, workers: list[Worker],
                                                          make_request: MakeRequest) -> None:
    worker = await _start(workers, faulty, max_batch=1, batch_window_ms=0)
    faulty.hold()
    blocker = asyncio.create_task(worker.generate(make_request("blocker")))
    await asyncio.to_thread(faulty.wait_entered)
    gone = asyncio.create_task(worker.generate(make_request("caller gave up")))
    await _until(lambda: worker.queue_depth == 1)
    gone.cancel()
    await _until(lambda: worker.queue_depth == 0)
    faulty.release()
    await blocker
    assert faulty.batches == [["blocker"]]


async def test_full_queue_answers_busy_at_once_and_higher_risk_takes_a_place(
    faulty: FaultyBackend, workers: list[Worker], make_request: MakeRequest
) -> None:
    worker = await _start(workers, faulty, max_batch=1, batch_window_ms=0, queue_size=2)
    faulty.hold()
    blocker = asyncio.create_task(worker.generate(make_request("blocker")))
    await asyncio.to_thread(faulty.wait_entered)
    low = [asyncio.create_task(worker.generate(make_request(f"low {i}"))) for i in range(2)]
    await _until(lambda: worker.queue_depth == 2)

    started = time.monotonic()
    with pytest.raises(GeneratorBusy):
        await worker.generate(make_request("one more"))
    assert time.monotonic() - started < 0.5

    urgent = asyncio.create_task(worker.generate(make_request("urgent", priority=RiskLevel.HIGH)))
    with pytest.raises(GeneratorBusy):
        await low[1]  # the newest of the lowest tier made room
    faulty.release()
    assert await urgent and await low[0] and await blocker
    assert [b[0] for b in faulty.batches] == ["blocker", "urgent", "low 0"]


async def test_a_failed_batch_is_retried_one_by_one(faulty: FaultyBackend, workers: list[Worker],
                                                    make_request: MakeRequest, counseling: list[str]) -> None:
    worker = await _start(workers, faulty, max_batch=4, batch_window_ms=300)
    alone = [await worker.generate(make_request(t)) for t in counseling[:4]]
    faulty.batches.clear()
    faulty.fail_next(1, min_size=2)
    replies = await asyncio.gather(*(worker.generate(make_request(t)) for t in counseling[:4]))
    assert list(replies) == alone
    assert [len(b) for b in faulty.batches] == [4, 1, 1, 1, 1]
    health = worker.health()
    assert health.state is WorkerState.READY and health.failed == 0 and health.last_error == "RuntimeError"


async def test_repeated_failure_reloads_and_answers_pending_with_an_error(
    faulty: FaultyBackend, workers: list[Worker], make_request: MakeRequest, counseling: list[str]
) -> None:
    worker = await _start(workers, faulty, max_batch=4, batch_window_ms=300, retries=2, unhealthy_after=3)
    faulty.fail_next(100)
    results = await asyncio.gather(*(worker.generate(make_request(t)) for t in counseling[:4]),
                                   return_exceptions=True)
    assert all(isinstance(r, GeneratorUnavailable) for r in results)
    await _until(lambda: worker.state is WorkerState.READY)
    assert faulty.loads == 2 and worker.health().reloads == 1
    faulty.fail_next(0)
    assert await worker.generate(make_request("after the reload"))


async def test_a_hung_generation_is_bounded_by_its_deadline(faulty: FaultyBackend, workers: list[Worker],
                                                            make_request: MakeRequest) -> None:
    worker = await _start(workers, faulty, max_batch=1, batch_window_ms=0, hang_grace_s=0.2)
    faulty.hang_next()
    started = time.monotonic()
    with pytest.raises(GenerationTimeout):
        await worker.generate(make_request("this one hangs", timeout=0.5))
    assert time.monotonic() - started < 1.5
    queued_during_hang = asyncio.create_task(worker.generate(make_request("queued behind the hang", timeout=30)))
    with pytest.raises(GeneratorUnavailable):
        await queued_during_hang
    await _until(lambda: worker.state is WorkerState.READY)
    assert worker.health().reloads == 1
    assert await worker.generate(make_request("after the hang"))


async def test_health_reports_latency_and_throughput(faulty: FaultyBackend, workers: list[Worker],
                                                     make_request: MakeRequest, counseling: list[str]) -> None:
    worker = Worker(faulty, WorkerOptions(max_batch=4))
    assert worker.health().state is WorkerState.STOPPED
    with pytest.raises(GeneratorUnavailable):
        await worker.generate(make_request("before start"))
    await worker.start()
    workers.append(worker)
    await asyncio.gather(*(worker.generate(make_request(t)) for t in counseling[:4]))
    health = worker.health()
    assert health.state is WorkerState.READY and health.backend.startswith("faulty:local:")
    assert health.served == 4 and health.failed == 0 and health.queue_depth == 0 and health.in_flight == 0
    assert health.latency_p50_s is not None and health.latency_p95_s is not None
    assert 0 < health.latency_p50_s <= health.latency_p95_s
    assert health.tokens_per_s is not None and health.tokens_per_s > 0


async def test_stop_answers_pending_requests(faulty: FaultyBackend, make_request: MakeRequest) -> None:
    worker = Worker(faulty, WorkerOptions(max_batch=1, batch_window_ms=0))
    await worker.start()
    faulty.hold()
    running = asyncio.create_task(worker.generate(make_request("running")))
    await asyncio.to_thread(faulty.wait_entered)
    queued = asyncio.create_task(worker.generate(make_request("queued")))
    await _until(lambda: worker.queue_depth == 1)
    await worker.stop()
    for task in (running, queued):
        with pytest.raises(GeneratorUnavailable):
            await task
    assert worker.state is WorkerState.STOPPED
    faulty.release()
