"""The one factory the app calls: settings in, a ready-to-start `Worker` out.

Backend choice (`MODEL_BACKEND`):
- `openai`: an OpenAI-compatible server at `OPENAI_BASE_URL` (vLLM, TGI, llama.cpp
  server, Ollama, `counselbot worker --serve`).
- `llamacpp`: llama-cpp-python on a GGUF (`BASE_MODEL=/path/model.gguf`, or the default
  model's GGUF); a clear error when llama-cpp-python is not installed.
- `local`: transformers on `BASE_MODEL` (a folder or a hub id) or the default model, with
  `ADAPTER_PATH` (peft) and 4-bit nf4 (`LOAD_IN_4BIT`: auto = when CUDA is present).
- `auto` (default): `openai` when `OPENAI_BASE_URL` is set; otherwise llama.cpp when it is
  installed and the model is a GGUF or the default without an adapter (the fast CPU
  path); otherwise `local`.
Nothing here touches a model hub when `BASE_MODEL` is a local path or the default is used.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import FourBit, ModelBackend, Settings
from bot.errors import ConfigError
from model import llamacpp
from model.backend import Backend
from model.default import default_gguf_path, require_default
from model.llamacpp import LlamaCppBackend, LlamaCppOptions
from model.local import LocalBackend, LocalOptions
from model.openai_http import OpenAIBackend, OpenAIOptions
from model.worker import Worker, WorkerOptions


def build_generator(settings: Settings) -> Worker:
    """The worker for these settings (not started: `await worker.start()` loads the model).

    Raises `ConfigError` (one line) when the model is missing or the backend cannot run.
    """
    return Worker(build_backend(settings), worker_options(settings))


def worker_options(settings: Settings) -> WorkerOptions:
    return WorkerOptions(
        max_batch=settings.max_batch,
        batch_window_ms=settings.batch_window_ms,
        queue_size=settings.queue_size,
        max_new_tokens=settings.max_new_tokens,
    )


def choose_backend(settings: Settings) -> ModelBackend:
    """Resolve `auto` to a concrete backend (see the module docstring)."""
    if settings.model_backend is not ModelBackend.AUTO:
        return settings.model_backend
    if settings.openai_base_url:
        return ModelBackend.OPENAI
    base = settings.base_model
    gguf_or_default = base is None or base.endswith(".gguf")
    if gguf_or_default and not settings.adapter_path and llamacpp.available():
        return ModelBackend.LLAMACPP
    return ModelBackend.LOCAL


def build_backend(settings: Settings) -> Backend:
    chosen = choose_backend(settings)
    if chosen is ModelBackend.OPENAI:
        return _openai(settings)
    if chosen is ModelBackend.LLAMACPP:
        return _llamacpp(settings)
    return _local(settings)


def _openai(settings: Settings) -> OpenAIBackend:
    if not settings.openai_base_url:
        raise ConfigError("OPENAI_BASE_URL is required when MODEL_BACKEND=openai")
    name = settings.openai_model or (Path(settings.adapter_path).name if settings.adapter_path else None)
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIBackend(OpenAIOptions(
        base_url=settings.openai_base_url,
        model=name or settings.base_model or "default",
        api_key=key,
        timeout_s=settings.generation_timeout_s,
        temperature=settings.temperature,
        history_token_budget=settings.history_token_budget,
        max_concurrency=max(settings.max_batch, 1),
    ))


def _llamacpp(settings: Settings) -> LlamaCppBackend:
    if not llamacpp.available():
        raise ConfigError(f"MODEL_BACKEND=llamacpp needs llama-cpp-python: {llamacpp.INSTALL_HINT}")
    if settings.adapter_path:
        raise ConfigError("ADAPTER_PATH needs MODEL_BACKEND=local (peft) or a server with LoRA support")
    if settings.base_model:
        gguf = Path(settings.base_model).expanduser()
        if gguf.suffix != ".gguf" or not gguf.is_file():
            raise ConfigError(f"BASE_MODEL: MODEL_BACKEND=llamacpp needs a local .gguf file, not {settings.base_model!r}")
        tokenizer_dir = None
    else:
        tokenizer_dir = require_default(settings.model_cache_dir)
        gguf = default_gguf_path(settings.model_cache_dir)
        if not gguf.is_file():
            raise ConfigError(f"the default model has no llama.cpp copy ({gguf.name}): run `counselbot model "
                              "fetch-default` (make setup does it), or set MODEL_BACKEND=local")
    return LlamaCppBackend(LlamaCppOptions(
        gguf=gguf,
        tokenizer_dir=tokenizer_dir,
        history_token_budget=settings.history_token_budget,
        max_new_tokens=settings.max_new_tokens,
        max_batch=settings.max_batch,
        temperature=settings.temperature,
        threads=settings.llamacpp_threads,
        batch_threads=settings.llamacpp_batch_threads,
    ))


def _local(settings: Settings) -> LocalBackend:
    model = settings.base_model or str(require_default(settings.model_cache_dir))
    if model.endswith(".gguf"):
        raise ConfigError("BASE_MODEL: a .gguf file needs MODEL_BACKEND=llamacpp (pip install 'counselbot[cpu-fast]')")
    return LocalBackend(LocalOptions(
        model=model,
        adapter=settings.adapter_path,
        four_bit=_four_bit(settings.load_in_4bit),
        cache_dir=settings.model_cache_dir,
        history_token_budget=settings.history_token_budget,
        temperature=settings.temperature,
        max_batch=settings.max_batch,
        max_new_tokens=settings.max_new_tokens,
    ))


def _four_bit(choice: FourBit) -> bool:
    if choice is FourBit.AUTO:
        import torch

        return bool(torch.cuda.is_available())
    return choice is FourBit.ON
