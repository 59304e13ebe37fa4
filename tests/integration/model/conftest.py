"""Fixtures for the worker tests: the tiny random Llama and a fault-injecting wrapper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from model.local import LocalBackend, LocalOptions
from model.prompt import LLAMA2_CHAT_TEMPLATE
from model.tiny import save_tiny_llama
from tests.integration.model.fakes import COUNSELING, FaultyBackend, MakeRequest
from tests.integration.model.fakes import make_request as _request


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny") / "llama")


@pytest.fixture(scope="session")
def tiny_llama2_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny2") / "llama2", seed=1, chat_template=LLAMA2_CHAT_TEMPLATE)


@pytest.fixture
def faulty(tiny_model: Path) -> Iterator[FaultyBackend]:
    backend = FaultyBackend(LocalBackend(LocalOptions(model=str(tiny_model), history_token_budget=256)))
    yield backend
    backend.finish()


@pytest.fixture
def make_request() -> MakeRequest:
    """`make_request(text, session=..., priority=..., timeout=..., max_new_tokens=...)`."""
    return _request


@pytest.fixture
def counseling() -> list[str]:
    return list(COUNSELING)
