"""The OpenAI-compatible HTTP backend: vLLM, TGI, llama.cpp server, Ollama, or another
counselbot worker (`counselbot worker --serve`).

Each prompt of a batch is one `POST {base}/chat/completions`, sent concurrently so the
server can batch them. The system prompt travels as the first message; `model` names
the served model or, with vLLM multi-LoRA (`--lora-modules name=path`), the adapter.
429, 5xx, timeouts and connection errors are retried with backoff (429's `Retry-After`
is honoured up to a cap); what still fails raises `GeneratorUnavailable`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.core.ports import GenerationRequest
from bot.errors import GeneratorUnavailable
from model.backend import Completion, RenderedPrompt
from model.prompt import PromptBuilder

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
# Headers a counselbot server reads; other servers ignore unknown headers.
PRIORITY_HEADER = "X-Counselbot-Priority"
TIMEOUT_HEADER = "X-Counselbot-Timeout"


@dataclass(frozen=True)
class OpenAIOptions:
    base_url: str  # e.g. http://127.0.0.1:8000/v1 (a missing /v1 is added)
    model: str = "default"  # the served model, or the LoRA adapter's name on vLLM
    api_key: str | None = None
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    max_retry_after_s: float = 10.0
    temperature: float = 0.0
    history_token_budget: int = 1024
    max_concurrency: int = 16


def normalize_base_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class OpenAIBackend:
    """`model.backend.Backend` over an OpenAI-compatible `/v1/chat/completions`."""

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
        self.name = f"openai:{options.model}"
        self._url = normalize_base_url(options.base_url) + "/chat/completions"
        self._client: Any = None
        self._pool: ThreadPoolExecutor | None = None
        # Remote servers render with their own template; the budget is estimated.
        self._builder = PromptBuilder(None, budget=options.history_token_budget)

    def load(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.options.api_key}"} if self.options.api_key else {}
        timeout = httpx.Timeout(self.options.timeout_s, connect=self.options.connect_timeout_s)
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._pool = ThreadPoolExecutor(max_workers=self.options.max_concurrency, thread_name_prefix="openai-http")

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        return self._builder.build(request, max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        pool = self._pool
        if pool is None or self._client is None:
            raise RuntimeError("the HTTP backend is not started")
        return list(pool.map(self._complete, prompts))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()
        self._client = self._pool = None

    # one request -----------------------------------------------------------------------

    def _complete(self, prompt: RenderedPrompt) -> Completion:
        import httpx

        body = {
            "model": self.options.model,
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
            "max_tokens": prompt.max_new_tokens,
            "temperature": self.options.temperature,
            "stream": False,
        }
        headers = {PRIORITY_HEADER: str(prompt.priority), TIMEOUT_HEADER: str(self.options.timeout_s)}
        last, retry_after = "no attempt", None
        for attempt in range(self.options.retries + 1):
            if attempt:
                backoff = self.options.backoff_s * 2 ** (attempt - 1)
                time.sleep(max(backoff, retry_after or 0.0))
            retry_after = None
            try:
                response = self._client.post(self._url, json=body, headers=headers)
            except httpx.TimeoutException as exc:
                last = f"timeout ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
                continue
            if response.status_code in RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                retry_after = _retry_after(response, self.options.max_retry_after_s)
                continue
            if response.status_code >= 400:
                raise GeneratorUnavailable(f"the model server answered HTTP {response.status_code}")
            return _parse(response)
        log.warning("model server request failed after %d attempts: %s", self.options.retries + 1, last)
        raise GeneratorUnavailable(f"the model server did not answer ({last})")


def _retry_after(response: Any, cap: float) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), cap) if value is not None else None
    except ValueError:
        return None


def _parse(response: Any) -> Completion:
    try:
        data = response.json()
        choice = data["choices"][0]
        text = choice["message"]["content"] or ""
        usage = data.get("usage") or {}
        tokens = int(usage.get("completion_tokens") or 0)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise GeneratorUnavailable("the model server sent a malformed completion") from exc
    return Completion(text.strip(), tokens or max(1, len(text) // 4))
