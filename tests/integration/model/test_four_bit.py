"""4-bit nf4 loading of the tiny model through bitsandbytes (its CPU backend, per ML-NOTES)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.core.ports import ChatTurn, GenerationRequest, Role
from model.local import LocalBackend, LocalOptions
from model.worker import Worker, WorkerOptions

bnb = pytest.importorskip("bitsandbytes", reason="bitsandbytes is not installed")
torch = pytest.importorskip("torch")


def _supports_4bit() -> str | None:
    """None when nf4 works here, else why not."""
    try:
        weight = bnb.nn.Params4bit(torch.randn(64, 64), requires_grad=False, quant_type="nf4").to("cpu")
        bnb.functional.dequantize_4bit(weight.data, weight.quant_state)
    except Exception as exc:  # the platform's reason, shown in the skip
        return f"bitsandbytes 4-bit is not supported on this platform ({type(exc).__name__}: {exc})"
    return None


async def test_tiny_model_loads_in_4bit_and_generates(tiny_model: Path) -> None:
    reason = _supports_4bit()
    if reason:
        pytest.skip(reason)
    backend = LocalBackend(LocalOptions(model=str(tiny_model), four_bit=True))
    async with Worker(backend, WorkerOptions(max_batch=4, batch_window_ms=200, max_new_tokens=8)) as worker:
        model = backend.model
        linear4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
        assert linear4, "no layer was quantised"
        assert all(m.weight.quant_type == "nf4" for m in linear4)
        assert all(m.weight.quant_state.nested for m in linear4)  # double quantisation
        assert model.config.quantization_config.bnb_4bit_compute_dtype in ("bfloat16", torch.bfloat16)

        def request(text: str) -> GenerationRequest:
            return GenerationRequest(f"r-{text}", f"s-{text}", (ChatTurn(Role.USER, text),), time.monotonic() + 120)

        alone = await worker.generate(request("I feel anxious"))
        batched = await asyncio.gather(*(worker.generate(request(t)) for t in ("I feel anxious", "I can't sleep")))
        assert isinstance(alone, str) and all(isinstance(b, str) for b in batched)
        assert worker.health().served == 3 and worker.health().failed == 0
