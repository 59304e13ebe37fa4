"""`counselbot worker --serve`: the worker as its own process behind an OpenAI-compatible API.

Bot processes reach it with the OpenAI-compatible backend, exactly as they would reach
vLLM, so the process that owns the GPU can live elsewhere. Routes:

- `POST /v1/chat/completions`: non-streaming chat completions, greedy. The system
  message is the project's own (`model.prompt`): the safe-mode prompt turns safe mode
  on, any other system text is replaced by the standard prompt. Optional headers
  `X-Counselbot-Priority` (risk tier) and `X-Counselbot-Timeout` (seconds) feed the queue.
- `GET /v1/models`: the one served model.
- `GET /health`: the worker's health as JSON; 200 when ready, 503 otherwise.

Errors: queue full → 429 with `Retry-After`, deadline → 504, model unavailable → 503,
bad request → 400; bodies follow OpenAI's `{"error": {...}}` shape and never echo text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.core.ports import ChatTurn, GenerationRequest, Role
from bot.errors import GenerationCancelled, GenerationTimeout, GeneratorBusy, GeneratorUnavailable
from bot.safety.levels import RiskLevel
from model.openai_http import PRIORITY_HEADER, TIMEOUT_HEADER
from model.prompt import SAFE_MODE_SYSTEM_PROMPT
from model.worker import Worker, WorkerState

WORKER_KEY: web.AppKey[Worker] = web.AppKey("worker", Worker)
TIMEOUT_KEY: web.AppKey[float] = web.AppKey("timeout", float)
_ids = itertools.count(1)


def build_app(worker: Worker, *, default_timeout_s: float = 60.0) -> web.Application:
    """The aiohttp application around an already started (or to be started) worker."""
    app = web.Application(client_max_size=1 << 20)
    app[WORKER_KEY] = worker
    app[TIMEOUT_KEY] = default_timeout_s
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/health", _health)
    return app


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return web.json_response(body, status=status, headers=headers)


def _to_request(body: Any, headers: Any, default_timeout: float) -> tuple[GenerationRequest, int | None]:
    """Map an OpenAI chat body to a `GenerationRequest`; ValueError when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ValueError("`messages` must be a non-empty list")
    if body.get("stream"):
        raise ValueError("streaming is not supported")
    safe_mode = False
    turns: list[ChatTurn] = []
    for message in body["messages"]:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise ValueError("every message needs a string `content`")
        role = message.get("role")
        if role == "system":
            safe_mode = safe_mode or message["content"].strip() == SAFE_MODE_SYSTEM_PROMPT
        elif role in ("user", "assistant"):
            turns.append(ChatTurn(Role.USER if role == "user" else Role.ASSISTANT, message["content"]))
        else:
            raise ValueError("roles must be system, user or assistant")
    if not turns or turns[-1].role is not Role.USER:
        raise ValueError("the last message must be the user's")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise ValueError("`max_tokens` must be a positive integer")
    try:
        priority = RiskLevel(int(headers.get(PRIORITY_HEADER, 0)))
        timeout = min(float(headers.get(TIMEOUT_HEADER, default_timeout)), default_timeout)
    except ValueError:
        raise ValueError(f"bad {PRIORITY_HEADER} or {TIMEOUT_HEADER} header") from None
    request_id = f"http-{next(_ids)}"
    return (
        GenerationRequest(
            request_id=request_id, session_key=request_id, history=tuple(turns),
            deadline=time.monotonic() + timeout, priority=priority, safe_mode=safe_mode, max_new_tokens=max_tokens,
        ),
        max_tokens,
    )


async def _chat(request: web.Request) -> web.Response:
    worker = request.app[WORKER_KEY]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _error(400, "the body is not JSON", "invalid_request_error")
    try:
        generation, max_tokens = _to_request(body, request.headers, request.app[TIMEOUT_KEY])
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error")
    try:
        completion = await worker.complete(generation)
    except GeneratorBusy:
        return _error(429, "the model queue is full", "rate_limit_error", {"Retry-After": "1"})
    except GenerationTimeout:
        return _error(504, "the reply was not ready in time", "timeout_error")
    except (GeneratorUnavailable, GenerationCancelled) as exc:
        return _error(503, str(exc), "server_error")
    limit = max_tokens or worker.options.max_new_tokens
    return web.json_response({
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": worker.backend.name,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": completion.text},
            "finish_reason": "length" if completion.tokens >= limit else "stop",
        }],
        "usage": {"completion_tokens": completion.tokens},
    })


async def _models(request: web.Request) -> web.Response:
    name = request.app[WORKER_KEY].backend.name
    return web.json_response({"object": "list", "data": [{"id": name, "object": "model", "owned_by": "counselbot"}]})


async def _health(request: web.Request) -> web.Response:
    health = request.app[WORKER_KEY].health()
    body = {k: (str(v) if k == "state" else v) for k, v in dataclasses.asdict(health).items()}
    return web.json_response(body, status=200 if health.state is WorkerState.READY else 503)


async def serve(worker: Worker, host: str, port: int, *, default_timeout_s: float = 60.0,
                ready: Callable[[int], None] | None = None, stop: asyncio.Event | None = None) -> None:
    """Start the worker and serve until `stop` is set (or the task is cancelled), then stop
    both. `ready(port)` is called once listening."""
    await worker.start()
    runner = web.AppRunner(build_app(worker, default_timeout_s=default_timeout_s), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        if ready is not None:
            ready(runner.addresses[0][1])  # the bound port, when 0 asked for any free one
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()
        await worker.stop()

