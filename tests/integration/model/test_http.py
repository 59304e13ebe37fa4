"""The OpenAI-compatible route: the HTTP backend against `worker --serve` and a fake server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.errors import GeneratorUnavailable
from bot.safety.levels import RiskLevel
from model.backend import Completion, RenderedPrompt
from model.local import LocalBackend, LocalOptions
from model.openai_http import OpenAIBackend, OpenAIOptions, normalize_base_url
from model.prompt import SAFE_MODE_SYSTEM_PROMPT, SYSTEM_PROMPT
from model.server import build_app
from model.worker import Worker, WorkerOptions
from tests.integration.model.fakes import FaultyBackend, MakeRequest

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.timeout(180)


# --- the real server in a subprocess -------------------------------------------------


@pytest.fixture(scope="module")
def served_tiny(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m model.cli worker --serve` on a free port, serving the tiny model."""
    cwd = tmp_path_factory.mktemp("served")  # no .env here
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("OPENAI_", "MODEL_", "BASE_MODEL", "ADAPTER_"))}
    env.update(MODEL_BACKEND="local", BASE_MODEL=str(tiny_model), MAX_NEW_TOKENS="12", PYTHONPATH=str(REPO),
               MODEL_CACHE_DIR=str(cwd / "cache"), LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [sys.executable, "-m", "model.cli", "worker", "--serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    drain: threading.Thread | None = None
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # the server prints one line once it listens
            seen.append(line)
            if "listening on http://127.0.0.1:" in line:
                break
        else:
            pytest.fail("the worker exited before listening:\n" + "".join(seen[-20:]))
        # Keep draining its output so a chatty server never blocks on a full pipe.
        drain = threading.Thread(target=lambda: seen.extend(process.stdout or ()), daemon=True)
        drain.start()
        yield line.strip().rsplit(" ", 1)[-1] + "/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if drain is not None:
            drain.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0, "".join(seen[-20:])  # SIGTERM stops it cleanly


async def test_http_backend_against_worker_serve_matches_the_local_model(
    served_tiny: str, tiny_model: Path, make_request: MakeRequest
) -> None:
    worker = Worker(OpenAIBackend(OpenAIOptions(base_url=served_tiny, model="tiny")), WorkerOptions(max_new_tokens=12))
    async with worker:
        replies = await asyncio.gather(*(worker.generate(make_request(t)) for t in ("I feel low", "I can't sleep")))

    local = LocalBackend(LocalOptions(model=str(tiny_model), history_token_budget=1024))
    await asyncio.to_thread(local.load)
    expected = local.generate_batch([local.render(make_request(t), 12) for t in ("I feel low", "I can't sleep")])
    local.close()
    assert list(replies) == [c.text for c in expected]
    assert all(replies)

    async with httpx.AsyncClient(base_url=served_tiny.removesuffix("/v1")) as client:
        health = (await client.get("/health")).json()
        models = (await client.get("/v1/models")).json()
    assert health["state"] == "ready" and health["served"] >= 2 and health["backend"] == "local:llama"
    assert models["data"][0]["id"] == "local:llama"


async def test_safe_mode_survives_the_http_hop(served_tiny: str, tiny_model: Path) -> None:
    safe = {"role": "system", "content": SAFE_MODE_SYSTEM_PROMPT}
    normal = {"role": "system", "content": SYSTEM_PROMPT}
    user = {"role": "user", "content": "I am not okay"}
    async with httpx.AsyncClient(base_url=served_tiny, timeout=60) as client:
        answers = []
        for system in (safe, normal):
            response = await client.post("/chat/completions", json={"model": "x", "messages": [system, user], "max_tokens": 8})
            assert response.status_code == 200
            body = response.json()
            assert body["object"] == "chat.completion" and body["usage"]["completion_tokens"] <= 8
            answers.append(body["choices"][0]["message"]["content"])
    local = LocalBackend(LocalOptions(model=str(tiny_model)))
    await asyncio.to_thread(local.load)
    from bot.core.ports import ChatTurn, GenerationRequest, Role

    expected = [
        local.generate_batch([local.render(GenerationRequest("r", "s", (ChatTurn(Role.USER, "I am not okay"),),
                                                             time.monotonic() + 60, safe_mode=flag), 8)])[0].text
        for flag in (True, False)
    ]
    local.close()
    assert answers == expected


# --- the server in-process: error mapping ----------------------------------------------


@pytest.fixture
async def app_server(faulty: FaultyBackend) -> AsyncIterator[tuple[str, Worker, FaultyBackend]]:
    worker = Worker(faulty, WorkerOptions(max_batch=1, batch_window_ms=0, queue_size=1, max_new_tokens=8))
    await worker.start()
    runner = web.AppRunner(build_app(worker, default_timeout_s=30))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", worker, faulty
    faulty.release()
    await runner.cleanup()
    await worker.stop()


async def test_server_maps_bad_requests_busy_and_health(app_server: tuple[str, Worker, FaultyBackend]) -> None:
    url, worker, faulty = app_server
    ok = {"messages": [{"role": "user", "content": "hello"}]}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        bad: dict[str, Any]
        for bad in ({}, {"messages": []}, {"messages": [{"role": "tool", "content": "x"}]},
                    {"messages": [{"role": "assistant", "content": "x"}]}, {**ok, "stream": True},
                    {**ok, "max_tokens": 0}):
            response = await client.post("/v1/chat/completions", json=bad)
            assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
        assert (await client.post("/v1/chat/completions", content=b"not json")).status_code == 400

        faulty.hold()
        first = asyncio.create_task(client.post("/v1/chat/completions", json=ok))
        await asyncio.to_thread(faulty.wait_entered)
        second = asyncio.create_task(client.post("/v1/chat/completions", json=ok, headers={"X-Counselbot-Priority": "3"}))
        while worker.queue_depth < 1:
            await asyncio.sleep(0.01)
        busy = await client.post("/v1/chat/completions", json=ok)
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
        timed = await client.post("/v1/chat/completions", json={**ok}, headers={"X-Counselbot-Priority": "4",
                                                                                 "X-Counselbot-Timeout": "0.2"})
        assert timed.status_code == 504  # took the queued one's place, then ran out of time
        faulty.release()
        assert (await first).status_code == 200
        assert (await second).status_code == 429  # evicted by the more urgent one

        health = await client.get("/health")
        assert health.status_code == 200 and health.json()["state"] == "ready"
        await worker.stop()
        down = await client.get("/health")
        assert down.status_code == 503 and down.json()["state"] == "stopped"
        unavailable = await client.post("/v1/chat/completions", json=ok)
        assert unavailable.status_code == 503


# --- the HTTP backend against a fake server ---------------------------------------------


@dataclass
class Script:
    """What the fake server answers, in order; then 200s."""

    steps: list[tuple[int, float, dict[str, str]]] = field(default_factory=list)  # status, delay, headers
    seen: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    malformed: bool = False


@pytest.fixture
async def fake_server() -> AsyncIterator[tuple[str, Script]]:
    script = Script()

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        script.seen.append((body, dict(request.headers)))
        status, delay, headers = script.steps.pop(0) if script.steps else (200, 0.0, {})
        await asyncio.sleep(delay)
        if status != 200:
            return web.json_response({"error": {"message": "nope"}}, status=status, headers=headers)
        if script.malformed:
            return web.json_response({"choices": []})
        text = f"reply to {len(body['messages'])} messages"
        return web.json_response({"choices": [{"message": {"role": "assistant", "content": text}}],
                                  "usage": {"completion_tokens": 5}})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", script
    await runner.cleanup()


def _backend(url: str, **options: Any) -> OpenAIBackend:
    backend = OpenAIBackend(OpenAIOptions(base_url=url, model="counsel-lora", api_key="sk-test",
                                          backoff_s=0.05, **options))
    backend.load()
    return backend


async def _generate(backend: OpenAIBackend, prompts: list[RenderedPrompt]) -> list[Completion]:
    return await asyncio.to_thread(backend.generate_batch, prompts)


async def test_request_shape_adapter_name_and_priority(fake_server: tuple[str, Script], make_request: MakeRequest) -> None:
    url, script = fake_server
    backend = _backend(url)
    prompt = backend.render(make_request("hello", priority=RiskLevel.HIGH), 20)
    [completion] = await _generate(backend, [prompt])
    backend.close()
    assert completion == Completion("reply to 2 messages", 5)
    body, headers = script.seen[0]
    assert body["model"] == "counsel-lora" and body["max_tokens"] == 20 and body["temperature"] == 0.0
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert body["messages"][1] == {"role": "user", "content": "hello"}
    assert headers["Authorization"] == "Bearer sk-test" and headers["X-Counselbot-Priority"] == str(int(RiskLevel.HIGH))


async def test_429_and_500_are_retried(fake_server: tuple[str, Script], make_request: MakeRequest) -> None:
    url, script = fake_server
    script.steps = [(429, 0.0, {"Retry-After": "0.3"}), (500, 0.0, {}), (503, 0.0, {})]
    backend = _backend(url, retries=3)
    started = time.monotonic()
    [completion] = await _generate(backend, [backend.render(make_request("hi"), 10)])
    backend.close()
    assert completion.text == "reply to 2 messages" and len(script.seen) == 4
    assert time.monotonic() - started >= 0.3  # Retry-After honoured


async def test_slow_responses_time_out_and_are_retried(fake_server: tuple[str, Script], make_request: MakeRequest) -> None:
    url, script = fake_server
    script.steps = [(200, 2.0, {})]
    backend = _backend(url, timeout_s=0.3, retries=1)
    [completion] = await _generate(backend, [backend.render(make_request("hi"), 10)])
    backend.close()
    assert completion.text and len(script.seen) == 2


async def test_persistent_failure_and_client_errors_raise_unavailable(
    fake_server: tuple[str, Script], make_request: MakeRequest
) -> None:
    url, script = fake_server
    backend = _backend(url, retries=2)
    prompt = backend.render(make_request("hi"), 10)
    script.steps = [(500, 0.0, {})] * 3
    with pytest.raises(GeneratorUnavailable, match="HTTP 500"):
        await _generate(backend, [prompt])
    assert len(script.seen) == 3

    script.steps = [(400, 0.0, {})]
    with pytest.raises(GeneratorUnavailable, match="HTTP 400"):
        await _generate(backend, [prompt])
    assert len(script.seen) == 4  # a client error is not retried

    script.malformed = True
    with pytest.raises(GeneratorUnavailable, match="malformed"):
        await _generate(backend, [prompt])
    backend.close()


async def test_unreachable_server_is_unavailable(make_request: MakeRequest) -> None:
    backend = _backend("http://127.0.0.1:9", retries=1, connect_timeout_s=0.5)
    with pytest.raises(GeneratorUnavailable, match="connection failed"):
        await _generate(backend, [backend.render(make_request("hi"), 10)])
    backend.close()


def test_base_url_gets_v1() -> None:
    assert normalize_base_url("http://h:8000") == "http://h:8000/v1"
    assert normalize_base_url("http://h:8000/v1/") == "http://h:8000/v1"
