"""Test doubles for the worker tests: a fault-injecting wrapper and request builders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from bot.core.ports import ChatTurn, GenerationRequest, Role
from bot.safety.levels import RiskLevel
from model.backend import Completion, RenderedPrompt
from model.local import LocalBackend


class FaultyBackend:
    """Wraps a real backend: records every batch, and on demand holds, fails or hangs.

    `hold()` makes the next batches wait until `release()`; `fail_next(n)` raises in the
    next n batches (only those of at least `fail_min_size` prompts); `hang_next()` blocks
    the next batch until the test ends.
    """

    def __init__(self, inner: LocalBackend) -> None:
        self.inner = inner
        self.name = "faulty:" + inner.name
        self.batches: list[list[str]] = []  # the last user message of each prompt, per batch
        self.loads = 0
        self._gate = threading.Event()
        self._gate.set()
        self._fail = 0
        self.fail_min_size = 1
        self._hang = False
        self._stop = threading.Event()
        self.entered = threading.Event()

    def load(self) -> None:
        self.loads += 1
        self.inner.load()

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        return self.inner.render(request, max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        self.batches.append([p.messages[-1].content for p in prompts])
        self.entered.set()
        if self._hang:
            self._hang = False
            self._stop.wait(60)
            raise RuntimeError("hung generation ended with the test")
        self._gate.wait(60)
        if self._fail and len(prompts) >= self.fail_min_size:
            self._fail -= 1
            raise RuntimeError("injected failure (stands in for CUDA out of memory)")
        return self.inner.generate_batch(prompts)

    def close(self) -> None:
        self.inner.close()

    def hold(self) -> None:
        self.entered.clear()
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def fail_next(self, n: int, *, min_size: int = 1) -> None:
        self._fail, self.fail_min_size = n, min_size

    def hang_next(self) -> None:
        self._hang = True

    def wait_entered(self, timeout: float = 30) -> None:
        assert self.entered.wait(timeout), "the backend was never called"

    def finish(self) -> None:
        self._stop.set()
        self._gate.set()


def make_request(text: str, *, session: str | None = None, priority: RiskLevel = RiskLevel.NONE,
                 timeout: float = 60.0, max_new_tokens: int | None = 12) -> GenerationRequest:
    return GenerationRequest(
        request_id=f"req-{text}",
        session_key=session or f"session-{text}",
        history=(ChatTurn(Role.USER, text),),
        deadline=time.monotonic() + timeout,
        priority=priority,
        max_new_tokens=max_new_tokens,
    )


COUNSELING = [
    "I have been feeling anxious at work and I cannot sleep.",
    "My partner and I argue every day and I feel stuck.",
    "I feel lonely since I moved to a new city.",
    "My mother died last month and I cannot stop crying.",
    "I failed my exams and my parents are angry with me.",
    "I get panic attacks on the bus to school.",
    "My friend ignores my messages and I do not know why.",
    "I think I drink too much on weekends.",
]

MakeRequest = Callable[..., GenerationRequest]
