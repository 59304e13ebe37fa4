"""GPU check for the model worker's local backend: 4-bit load, batched and alone, speed, memory.

    python bench/gpu_check.py                     # the default model if fetched, else a tiny random Llama
    python bench/gpu_check.py --model PATH        # any local transformers folder (e.g. Llama-2-7b-chat)
    python bench/gpu_check.py --tiny              # a tiny random Llama built here (seconds)

Loads the model in 4-bit nf4 with double quantisation (bitsandbytes) on CUDA, generates
8 counseling prompts one at a time and as one batch (greedy), reports whether the replies
match, tokens/s at batch 1 and 8, and peak GPU memory. Exits 0 with a note when there is
no CUDA; exits 1 when a check fails. Runs in well under 5 minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_settings  # noqa: E402
from bot.core.ports import ChatTurn, GenerationRequest, Role  # noqa: E402
from model.default import default_model_path, is_fetched  # noqa: E402
from model.local import LocalBackend, LocalOptions  # noqa: E402

PROMPTS = [
    "I've been feeling anxious about my new job and I can't sleep at night.",
    "My partner and I argue about everything lately.",
    "I feel lonely since I moved to a new city.",
    "My mother died three months ago and I still cry every day.",
    "I failed an important exam and I feel worthless.",
    "I get panic attacks on the bus.",
    "My best friend stopped answering my messages.",
    "I think I drink too much on weekends to cope with stress.",
]


@dataclass(frozen=True)
class Config:
    model: Path | None
    tiny: bool
    tokens: int


def main(config: Config) -> int:
    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; nothing to check (the 4-bit CPU path is covered by the tests)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = _pick_model(config, Path(tmp))
        print(f"gpu_check: {torch.cuda.get_device_name(0)}, model {model_dir}")
        torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        backend = LocalBackend(LocalOptions(model=str(model_dir), four_bit=True, history_token_budget=512))
        backend.load()
        print(f"  loaded in 4-bit in {time.perf_counter() - started:.1f} s; "
              f"{_count_4bit(backend)} Linear4bit layers (nf4, double quant)")
        prompts = [backend.render(_request(i, text), config.tokens) for i, text in enumerate(PROMPTS)]
        backend.generate_batch(prompts[:2])  # warm-up
        torch.cuda.synchronize()
        started = time.perf_counter()
        alone = [backend.generate_batch([p])[0] for p in prompts]
        torch.cuda.synchronize()
        alone_s = time.perf_counter() - started
        started = time.perf_counter()
        batched = backend.generate_batch(prompts)
        torch.cuda.synchronize()
        batched_s = time.perf_counter() - started
        backend.close()
    same = sum(a.text == b.text for a, b in zip(alone, batched, strict=True))
    empty = sum(not c.text for c in alone + batched)
    tokens_alone, tokens_batched = sum(c.tokens for c in alone), sum(c.tokens for c in batched)
    print(f"  batch 1: {tokens_alone / alone_s:8.1f} tok/s ({tokens_alone} tokens in {alone_s:.2f} s)")
    print(f"  batch 8: {tokens_batched / batched_s:8.1f} tok/s ({tokens_batched} tokens in {batched_s:.2f} s)")
    print(f"  replies equal batched vs alone: {same}/{len(prompts)}; empty replies: {empty}")
    print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    ok = tokens_alone > 0 and tokens_batched > 0
    print("gpu_check: " + ("OK" if ok else "FAILED: generation produced no tokens"))
    return 0 if ok else 1


def _pick_model(config: Config, tmp: Path) -> Path:
    if config.model is not None:
        return config.model
    cache = load_settings().model_cache_dir
    if not config.tiny and is_fetched(cache):
        return default_model_path(cache)
    from model.tiny import save_tiny_llama

    return save_tiny_llama(tmp / "tiny")


def _count_4bit(backend: LocalBackend) -> int:
    import bitsandbytes as bnb

    return sum(isinstance(m, bnb.nn.Linear4bit) for m in backend.model.modules())


def _request(index: int, text: str) -> GenerationRequest:
    return GenerationRequest(f"gpu-{index}", f"gpu-{index}", (ChatTurn(Role.USER, text),), time.monotonic() + 600)


def _parse(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a local transformers model folder")
    parser.add_argument("--tiny", action="store_true", help="use a tiny random Llama even if the default is fetched")
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args(argv)
    return Config(args.model, args.tiny, args.tokens)


if __name__ == "__main__":
    sys.exit(main(_parse()))
