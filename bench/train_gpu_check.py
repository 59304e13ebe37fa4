"""QLoRA throughput check: the `llama2-7b-qlora` recipe for 20 steps on a random
Llama-2-7B-shaped model (no download), printing tokens/s and peak GPU memory.

    python bench/train_gpu_check.py [--steps 20] [--seq-len 512] [--preset llama2-7b-qlora]

The random model is written once in float16 to a scratch folder (RAM-backed /dev/shm
when it has room) and loaded back through `training.sft.load_model`, so the 4-bit nf4
double-quant loading, `prepare_model_for_kbit_training`, the LoRA wrapping, the
paged AdamW optimizer and the SFTTrainer loop are exactly those of a real run. Data
are random token ids with the first half of each row masked as the prompt. Needs CUDA:
without it the script says so and exits 2 at once. Expected under 5 minutes on an
H100-class GPU (most of it writing and re-reading the 13 GB random checkpoint).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LLAMA2_7B_SHAPE: dict[str, Any] = {
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-5,
}
TINY_SHAPE: dict[str, Any] = {
    "vocab_size": 512,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 512,
    "rms_norm_eps": 1e-5,
}


def scratch_dir(min_free_gib: float) -> Path:
    """A temporary folder, in /dev/shm when it has `min_free_gib` free (fast to write)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free / 2**30 > min_free_gib:
        return Path(tempfile.mkdtemp(prefix="qlora-check-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="qlora-check-"))


def write_random_model(shape: dict[str, Any], folder: Path, *, device: str) -> Path:
    """A randomly initialised LlamaForCausalLM of `shape`, saved in float16, plus a small
    local tokenizer (the data are token ids; the tokenizer only supplies the pad token)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    from model.tiny import save_tiny_llama

    tokenizer_dir = save_tiny_llama(folder / "tokenizer-source")
    config = LlamaConfig(**shape, bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False)
    torch.manual_seed(0)
    with torch.device(device):  # initialised where it is fast: seconds on a GPU for 7B
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float16)
    model_dir = folder / "model"
    model.save_pretrained(model_dir)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(model_dir)
    return model_dir


def random_rows(count: int, seq_len: int, vocab: int, seed: int = 0) -> list[dict[str, list[int]]]:
    """Pre-tokenized rows of random ids; the first half of each is the (masked) prompt."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (count, seq_len), generator=generator).tolist()
    half = seq_len // 2
    return [{"input_ids": row, "labels": [-100] * half + row[half:]} for row in ids]


def run_check(shape: dict[str, Any], *, steps: int, seq_len: int, preset_name: str, device: str) -> dict[str, Any]:
    """Train `steps` steps of the preset on a random model of `shape`; return the figures."""
    import torch
    from transformers import TrainerCallback

    from training.presets_io import load_preset
    from training.sft import build_trainer, load_model, load_tokenizer

    preset = load_preset(preset_name)
    batch = int(preset.training.get("per_device_train_batch_size", 1)) * int(
        preset.training.get("gradient_accumulation_steps", 1)
    )
    params_gib = 2 * (shape["vocab_size"] * shape["hidden_size"] * 2 + shape["num_hidden_layers"] * (
        4 * shape["hidden_size"] ** 2 + 3 * shape["hidden_size"] * shape["intermediate_size"])) / 2**30
    work = scratch_dir(min_free_gib=params_gib * 1.5 + 1)
    step_times: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.began = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            step_times.append(time.perf_counter() - self.began)

    try:
        began = time.perf_counter()
        model_dir = write_random_model(shape, work, device=device)
        written = time.perf_counter()
        tokenizer = load_tokenizer(str(model_dir), preset.chat_template)
        model = load_model(str(model_dir), preset)
        loaded = time.perf_counter()
        rows = random_rows(steps * batch, seq_len, shape["vocab_size"])
        trainer = build_trainer(model, tokenizer, preset, rows, work / "out", max_steps=steps, callbacks=[StepClock()])
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        trainer.train()
        trained = time.perf_counter()
        losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    steady = step_times[1:] or step_times
    return {
        "preset": preset.name,
        "shape": shape,
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "steps": len(step_times),
        "batch": batch,
        "seq_len": seq_len,
        "tokens_per_second": batch * seq_len * len(steady) / sum(steady),
        "tokens_per_second_with_first_step": batch * seq_len * len(step_times) / sum(step_times),
        "peak_gpu_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
        "write_model_s": written - began,
        "load_4bit_s": loaded - written,
        "train_s": trained - loaded,
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--preset", default="llama2-7b-qlora")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print("train_gpu_check: needs a CUDA GPU (torch.cuda.is_available() is False); nothing was run.",
              file=sys.stderr)  # fmt: skip
        return 2
    result = run_check(LLAMA2_7B_SHAPE, steps=args.steps, seq_len=args.seq_len, preset_name=args.preset, device="cuda")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['preset']} on {result['device']}: {result['steps']} steps x {result['batch']} x "
            f"{result['seq_len']} tokens: {result['tokens_per_second']:.0f} tokens/s (after the first step), "
            f"peak GPU memory {result['peak_gpu_memory_gib']:.1f} GiB; write {result['write_model_s']:.0f} s, "
            f"4-bit load {result['load_4bit_s']:.0f} s, train {result['train_s']:.0f} s; "
            f"loss {result['first_loss']:.3f} -> {result['final_loss']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
