"""Shared pieces of the reliability tests: bench/load.py loaded as a module, fault-injecting
backends for the real worker, and the invariant assertion every load test makes."""

from __future__ import annotations

import importlib.util
import random
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.core.ports import GenerationRequest
from model.backend import Backend, Completion, RenderedPrompt

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def load_bench() -> ModuleType:
    """bench/load.py as a module (it is a script, not a package member)."""
    name = "counselbot_bench_load"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def assert_invariants(report: Any, *, allow_failed: bool = False) -> None:
    """Every check of bench/load.py passed and nothing was lost; failed turns only where
    the test made deliveries fail (the checks then require each to match a failed send)."""
    failing = [f"{c.name}: {c.detail}" for c in report.checks if not c.ok]
    assert not failing, failing
    assert report.lost == 0
    assert report.turns.get("pending", 0) == 0
    if not allow_failed:
        assert set(report.turns) == {"answered"}, report.turns


class FlakyBackend:
    """Wraps a backend; each batch fails with probability `rate` (seeded), as a CUDA
    out-of-memory or a driver error would."""

    def __init__(self, inner: Backend, rate: float, seed: int = 0) -> None:
        self.inner = inner
        self.name = f"flaky({rate:.0%}):{inner.name}"
        self.rate = rate
        self.failures = 0
        self.batches = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def load(self) -> None:
        self.inner.load()

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        return self.inner.render(request, max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        with self._lock:
            self.batches += 1
            fail = self._rng.random() < self.rate
            self.failures += fail
        if fail:
            raise RuntimeError("injected backend failure")
        return self.inner.generate_batch(prompts)

    def close(self) -> None:
        self.inner.close()


class HangingBackend:
    """Wraps a backend; the `hang_at`-th batch blocks (a wedged GPU kernel) until `release()`
    or `max_hang_s`, then raises. Loads are counted (the worker reloads after a hang)."""

    def __init__(self, inner: Backend, hang_at: int, max_hang_s: float = 30.0) -> None:
        self.inner = inner
        self.name = f"hanging:{inner.name}"
        self.hang_at = hang_at
        self.max_hang_s = max_hang_s
        self.loads = 0
        self.batches = 0
        self.hung = threading.Event()
        self._release = threading.Event()

    def load(self) -> None:
        self.loads += 1
        self.inner.load()

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        return self.inner.render(request, max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        self.batches += 1
        if self.batches == self.hang_at:
            self.hung.set()
            self._release.wait(self.max_hang_s)
            raise RuntimeError("the hung generation was abandoned")
        return self.inner.generate_batch(prompts)

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self.inner.close()


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.01) -> None:
    """Block (in a thread) until `predicate()` is true."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("condition not reached")
        time.sleep(interval)
