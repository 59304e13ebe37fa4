"""Command functions for `counselbot train`, `counselbot eval` and `counselbot model merge`.

Plain functions with Typer annotations, mounted by `bot/cli.py`:

    counselbot train --preset smollm2-cpu [--data PATH_OR_ID] [--max-steps N] [--output DIR] [--resume]
    counselbot eval --adapter DIR [--base MODEL] [--questions N] [--output DIR]
    counselbot model merge --adapter DIR --output DIR [--base MODEL]

Heavy imports (torch, transformers, TRL) happen inside the functions so `--help` stays
fast. A bad preset, path or setting prints one line and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bot.errors import ConfigError

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


def _cache_dir() -> Path:
    from bot.config import load_settings

    return load_settings().model_cache_dir


def _fail(exc: ConfigError) -> typer.Exit:
    _err.print(f"counselbot: {exc}")
    return typer.Exit(2)


def train(
    preset: Annotated[str, typer.Option("--preset", help="Preset name (training/presets/*.json) or a preset file.")],
    data: Annotated[
        str | None, typer.Option("--data", help="CSV / JSONL / Parquet file or hub dataset id; default: the preset's.")
    ] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop after N optimizer steps.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Output folder; default: the preset's.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in the output.")] = False,
) -> None:
    """Fine-tune a LoRA / QLoRA adapter on counseling conversations."""
    from training.presets_io import load_preset
    from training.sft import TrainRequest
    from training.sft import train as run_training

    try:
        request = TrainRequest(
            preset=load_preset(preset), data=data, max_steps=max_steps, output=output, resume=resume,
            cache_dir=_cache_dir(),
        )  # fmt: skip
    except ConfigError as exc:
        raise _fail(exc) from None
    try:
        report = run_training(request)
    except ConfigError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        _err.print(f"interrupted: run again with --resume to continue from the last checkpoint in {request.output_dir()}")
        raise typer.Exit(130) from None
    _out.print(_train_summary(report))


def evaluate(
    adapter: Annotated[Path | None, typer.Option("--adapter", help="Adapter folder written by `counselbot train`.")] = None,
    base: Annotated[str | None, typer.Option("--base", help="Base model; default: the adapter's.")] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Preset for data and settings when there is no adapter.")
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help="Data whose test split is used.")] = None,
    questions: Annotated[int, typer.Option("--questions", min=1, help="Test questions to answer.")] = 32,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 96,
    output: Annotated[Path | None, typer.Option("--output", help="Folder for eval_report.json / .md.")] = None,
) -> None:
    """Compare the base model with the base + adapter on the held-out split."""
    from training.evaluate import EvalRequest, markdown_table
    from training.evaluate import evaluate as run_evaluation

    try:
        report = run_evaluation(
            EvalRequest(adapter=adapter, base=base, preset=preset, data=data, questions=questions,
                        max_new_tokens=max_new_tokens, output=output, cache_dir=_cache_dir())
        )  # fmt: skip
    except ConfigError as exc:
        raise _fail(exc) from None
    _out.print(markdown_table(report), markup=False)


def merge(
    adapter: Annotated[Path, typer.Option("--adapter", help="Adapter folder written by `counselbot train`.")],
    output: Annotated[Path, typer.Option("--output", help="Folder for the merged model (must be empty).")],
    base: Annotated[str | None, typer.Option("--base", help="Base model; default: the adapter's.")] = None,
    dtype: Annotated[str, typer.Option("--dtype", help="float32, float16 or bfloat16.")] = "float32",
) -> None:
    """Merge an adapter into its base model: a plain model folder to serve without peft."""
    from training.merge import merge_adapter

    try:
        folder = merge_adapter(adapter, output, base=base, dtype=dtype, cache_dir=_cache_dir())
    except ConfigError as exc:
        raise _fail(exc) from None
    _out.print(f"merged model written to {folder}")


def _train_summary(report: dict[str, Any]) -> str:
    tokens_per_second = report["tokens_per_second"] or 0.0
    loss = "no loss logged"
    if report["first_loss"] is not None:
        loss = f"loss {report['first_loss']:.3f} -> {report['final_loss']:.3f}"
    return (
        f"trained {report['preset']}: {report['steps']} steps on {report['rows_used']} rows, {loss}, "
        f"{tokens_per_second:.0f} tokens/s, {report['wall_time_s']:.0f} s; adapter in {report['output']}"
    )
