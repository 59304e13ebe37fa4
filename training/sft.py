"""QLoRA / LoRA supervised fine-tuning with TRL's SFTTrainer, driven by a preset.

    from training.presets_io import load_preset
    from training.sft import TrainRequest, train
    report = train(TrainRequest(load_preset("tiny-test"), max_steps=10, output=Path("runs/x")))

`train()` prepares the data (`training.data`), encodes it with completion-only labels,
loads the base model (4-bit nf4 through bitsandbytes when the preset says so, on CUDA
or on the CPU), wraps it with a LoRA adapter and trains. The output folder then holds
the adapter, the tokenizer, `training_config.json` (the resolved preset and request)
and `training_report.json`; `checkpoint-N/` folders are written at the preset's
interval and `resume=True` continues from the last one.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from training.presets_io import Preset

CONFIG_FILE = "training_config.json"
REPORT_FILE = "training_report.json"
TINY_MODEL_DIR = "tiny-llama-seed0"
REPORT_FIELDS = (
    "preset", "base_model", "base_model_path", "data", "rows_used", "tokens", "steps", "max_steps", "epochs",
    "loss_curve", "first_loss", "final_loss", "tokens_per_second", "wall_time_s", "train_runtime_s",
    "resumed_from", "device", "quantization", "trainable_parameters", "total_parameters", "versions",
    "started_at", "finished_at", "output",
)  # fmt: skip


@dataclass(frozen=True)
class TrainRequest:
    """What `counselbot train` asks for: a preset and the command-line overrides."""

    preset: Preset
    data: str | None = None
    max_steps: int | None = None
    output: Path | None = None
    resume: bool = False
    cache_dir: Path | None = None

    def output_dir(self) -> Path:
        return Path(self.output) if self.output is not None else Path(self.preset.output)


def default_cache_dir() -> Path:
    from bot.config import load_settings

    return load_settings().model_cache_dir


def resolve_model(name: str, cache_dir: Path | None = None) -> str:
    """A model reference for `from_pretrained`: symbolic names become local folders.

    `default` is the bot's default model (fetched and converted once by
    `model.default`); `tiny-llama` is the seeded tiny random Llama of `model.tiny`.
    Anything else (a folder, a hub id) is returned as is.
    """
    if name == "default":
        from model.default import require_default

        return str(require_default(cache_dir or default_cache_dir()))
    if name == "tiny-llama":
        from model.tiny import save_tiny_llama

        folder = (cache_dir or default_cache_dir()) / "models" / TINY_MODEL_DIR
        if not (folder / "config.json").is_file():
            save_tiny_llama(folder, seed=0)
        return str(folder)
    return name


def load_tokenizer(model_ref: str, chat_template: str | None = None) -> Any:
    """The base model's tokenizer, set up for training: a pad token (eos, as the seed
    recipe does, when it has none), right padding, and the preset's chat template."""
    from transformers import AutoTokenizer

    from model.prompt import CHATML_CHAT_TEMPLATE, LLAMA2_CHAT_TEMPLATE

    tokenizer = AutoTokenizer.from_pretrained(model_ref)
    templates = {"llama2": LLAMA2_CHAT_TEMPLATE, "chatml": CHATML_CHAT_TEMPLATE}
    if chat_template is not None:
        if chat_template not in templates:
            raise ConfigError(f"unknown chat_template {chat_template!r}; use one of {sorted(templates)}")
        tokenizer.chat_template = templates[chat_template]
    if tokenizer.chat_template is None:
        raise ConfigError(f"{model_ref} has no chat template; set chat_template in the preset")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def torch_dtype(name: str) -> Any:
    import torch

    dtypes = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if name not in dtypes:
        raise ConfigError(f"unknown dtype {name!r}; use one of {sorted(dtypes)}")
    return dtypes[name]


def load_model(model_ref: str, preset: Preset) -> Any:
    """Load the base model for training: 4-bit through bitsandbytes when the preset has a
    `quantization` block (on CUDA when present, else on the CPU), else in `preset.dtype`."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    kwargs: dict[str, Any] = {"dtype": torch_dtype(preset.dtype)}
    if preset.quantization:
        quant = dict(preset.quantization)
        if "bnb_4bit_compute_dtype" in quant:
            quant["bnb_4bit_compute_dtype"] = torch_dtype(quant["bnb_4bit_compute_dtype"])
        kwargs["quantization_config"] = BitsAndBytesConfig(**quant)
        kwargs["device_map"] = {"": 0} if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_ref, **kwargs)
    model.config.use_cache = False
    if preset.quantization:
        from peft import prepare_model_for_kbit_training

        # Norms and embeddings to float32; activation checkpointing is left to the
        # trainer (`activation_checkpointing` in the preset), which also makes the
        # inputs require grads for the adapter.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model


def lora_config(preset: Preset) -> Any:
    from peft import LoraConfig

    try:
        return LoraConfig(**preset.lora)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"preset {preset.name}: bad lora settings ({exc})") from None


def sft_config(preset: Preset, output_dir: Path, *, max_steps: int | None = None) -> Any:
    """`SFTConfig` from the preset's `training` block; CPU runs drop fp16 / bf16."""
    import torch
    from trl import SFTConfig

    args = dict(preset.training)
    args.update(
        output_dir=str(output_dir),
        max_length=preset.max_length,
        report_to="none",
        disable_tqdm=True,
        seed=preset.seed,
        save_strategy="steps",
        include_num_input_tokens_seen="non_padding",
    )
    if max_steps is not None:
        args["max_steps"] = max_steps
        # A short run still gets a loss curve: about ten points when the preset's
        # logging interval is longer than the whole run.
        if args.get("logging_steps", 1) > max_steps:
            args["logging_steps"] = max(1, max_steps // 10)
    if not torch.cuda.is_available():
        args.update(use_cpu=True, fp16=False, bf16=False)
    try:
        return SFTConfig(**args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"preset {preset.name}: bad training settings ({exc})") from None


def build_trainer(
    model: Any,
    tokenizer: Any,
    preset: Preset,
    rows: Sequence[dict[str, list[int]]],
    output_dir: Path,
    *,
    max_steps: int | None = None,
    callbacks: Sequence[Any] = (),
) -> Any:
    """An SFTTrainer over pre-tokenized rows (`input_ids`, `labels`) with the preset's
    LoRA adapter and our progress bar instead of the default printer."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from training.callbacks import ProgressCallback

    trainer = SFTTrainer(
        model=model,
        args=sft_config(preset, output_dir, max_steps=max_steps),
        train_dataset=Dataset.from_list(list(rows)),
        processing_class=tokenizer,
        peft_config=lora_config(preset),
        callbacks=[ProgressCallback(), *callbacks],
    )
    trainer.remove_callback(PrinterCallback)
    return trainer


def train(request: TrainRequest, *, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run one training job; return the report also written to `training_report.json`."""
    from transformers.trainer_utils import get_last_checkpoint

    from training.data import CleaningOptions, encode_pairs, prepare

    started = time.monotonic()
    started_at = _now()
    preset = request.preset
    output = request.output_dir()
    checkpoint = get_last_checkpoint(str(output)) if output.is_dir() else None
    if checkpoint and not request.resume:
        raise ConfigError(f"{output} holds checkpoints from an earlier run: pass --resume, or choose another --output")
    if not checkpoint and (output / REPORT_FILE).is_file():
        raise ConfigError(f"{output} already holds a trained adapter: choose another --output")

    source = request.data or preset.data_source()
    try:
        options = CleaningOptions(**preset.cleaning)
    except TypeError as exc:
        raise ConfigError(f"preset {preset.name}: bad cleaning settings ({exc})") from None
    prepared = prepare(source, options=options, cache_dir=request.cache_dir)
    model_ref = resolve_model(preset.model, request.cache_dir)
    tokenizer = load_tokenizer(model_ref, preset.chat_template)
    encoded, too_long = encode_pairs(
        tokenizer, prepared.train, max_length=preset.max_length, limit=preset.max_train_rows
    )
    if not encoded:
        raise ConfigError(f"no training rows left from {source} (max_length {preset.max_length})")

    output.mkdir(parents=True, exist_ok=True)
    resolved = {
        "preset": preset.to_dict(),
        "base_model_path": model_ref,
        "data": source,
        "max_steps": request.max_steps,
        "output": str(output),
    }
    (output / CONFIG_FILE).write_text(json.dumps(resolved, indent=2) + "\n", encoding="utf-8")

    model = load_model(model_ref, preset)
    trainer = build_trainer(
        model, tokenizer, preset, [e.as_row() for e in encoded], output,
        max_steps=request.max_steps, callbacks=callbacks,
    )  # fmt: skip
    tokens_before = 0
    if checkpoint:
        tokens_before = _checkpoint_tokens(Path(checkpoint))
    result = trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(str(output))
    tokenizer.save_pretrained(str(output))

    state = trainer.state
    curve = [
        {"step": entry["step"], "loss": entry["loss"], "learning_rate": entry.get("learning_rate")}
        for entry in state.log_history
        if "loss" in entry
    ]
    tokens_run = int(state.num_input_tokens_seen) - tokens_before
    runtime = float(result.metrics.get("train_runtime", 0.0))
    trainable, total = _parameter_counts(trainer.model)
    report = {
        "preset": preset.name,
        "base_model": preset.model,
        "base_model_path": model_ref,
        "data": {
            **prepared.counts(),
            "rows_dropped_too_long": too_long,
            "max_length": preset.max_length,
        },
        "rows_used": len(encoded),
        "tokens": {
            "trained": int(state.num_input_tokens_seen),
            "this_run": tokens_run,
            "dataset": sum(len(e.input_ids) for e in encoded),
            "dataset_completion": sum(len(e.input_ids) - e.prompt_tokens for e in encoded),
        },
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "epochs": state.epoch,
        "loss_curve": curve,
        "first_loss": curve[0]["loss"] if curve else None,
        "final_loss": curve[-1]["loss"] if curve else None,
        "tokens_per_second": tokens_run / runtime if runtime > 0 else None,
        "wall_time_s": time.monotonic() - started,
        "train_runtime_s": runtime,
        "resumed_from": Path(checkpoint).name if checkpoint else None,
        "device": _device_name(),
        "quantization": preset.quantization,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "versions": library_versions(),
        "started_at": started_at,
        "finished_at": _now(),
        "output": str(output),
    }
    (output / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "peft", "trl", "bitsandbytes", "datasets", "accelerate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def _checkpoint_tokens(checkpoint: Path) -> int:
    state_file = checkpoint / "trainer_state.json"
    if not state_file.is_file():
        return 0
    return int(json.loads(state_file.read_text(encoding="utf-8")).get("num_input_tokens_seen", 0))


def _parameter_counts(model: Any) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def _device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {torch.get_num_threads()} threads"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
