"""bench/train_gpu_check.py: fails fast without CUDA; its whole path runs on a tiny shape on the CPU."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
import torch

pytestmark = [
    pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:Paged optimizers are not supported on CPU:UserWarning"),
]

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "train_gpu_check.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_gpu_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA exit")
def test_without_cuda_it_exits_2_at_once() -> None:
    began = time.monotonic()
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "needs a CUDA GPU" in result.stderr
    assert time.monotonic() - began < 30


def test_recipe_runs_on_a_tiny_shape_on_the_cpu() -> None:
    bench = _load()
    result = bench.run_check(bench.TINY_SHAPE, steps=2, seq_len=32, preset_name="llama2-7b-qlora", device="cpu")
    assert result["steps"] == 2 and result["batch"] == 4 and result["seq_len"] == 32
    assert result["tokens_per_second"] > 0 and result["peak_gpu_memory_gib"] is None
    assert math.isfinite(result["first_loss"]) and math.isfinite(result["final_loss"])


def test_the_7b_shape_is_llama2_7b() -> None:
    from transformers import LlamaConfig

    bench = _load()
    config = LlamaConfig(**bench.LLAMA2_7B_SHAPE, tie_word_embeddings=False)
    with torch.device("meta"):
        from transformers import LlamaForCausalLM

        model = LlamaForCausalLM(config)
    assert 6.7e9 < sum(p.numel() for p in model.parameters()) < 6.8e9


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_recipe_runs_on_cuda_with_a_tiny_shape() -> None:
    bench = _load()
    result = bench.run_check(bench.TINY_SHAPE, steps=3, seq_len=64, preset_name="llama2-7b-qlora", device="cuda")
    assert result["steps"] == 3 and result["peak_gpu_memory_gib"] > 0
