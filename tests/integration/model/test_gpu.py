"""The local backend in 4-bit on CUDA (skipped without a GPU; bench/gpu_check.py runs more)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core.ports import ChatTurn, GenerationRequest, Role
from model.local import LocalBackend, LocalOptions

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_four_bit_on_cuda_generates_alone_and_batched(tiny_model: Path) -> None:
    backend = LocalBackend(LocalOptions(model=str(tiny_model), four_bit=True))
    backend.load()
    try:
        assert backend.model.device.type == "cuda"
        prompts = [
            backend.render(GenerationRequest(f"r{i}", f"s{i}", (ChatTurn(Role.USER, t),), time.monotonic() + 60), 8)
            for i, t in enumerate(["I feel anxious", "I can't sleep", "work is hard"])
        ]
        alone = [backend.generate_batch([p])[0] for p in prompts]
        batched = backend.generate_batch(prompts)
        assert all(c.tokens > 0 for c in alone + batched)
    finally:
        backend.close()
