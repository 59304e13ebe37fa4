"""Tiny tokenizers with the two chat templates the pipeline meets (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model.prompt import CHATML_CHAT_TEMPLATE, LLAMA2_CHAT_TEMPLATE
from model.tiny import save_tiny_llama

COUNSEL_CHAT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "counsel-chat" / "counsel_chat.csv"


@pytest.fixture(scope="session")
def counsel_chat_csv() -> Path:
    if not COUNSEL_CHAT.is_file():
        pytest.skip(f"counsel-chat data not found at {COUNSEL_CHAT}")
    return COUNSEL_CHAT


@pytest.fixture(scope="session", params=["llama2", "chatml"])
def chat_tokenizer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    template = LLAMA2_CHAT_TEMPLATE if request.param == "llama2" else CHATML_CHAT_TEMPLATE
    folder = save_tiny_llama(tmp_path_factory.mktemp(f"tiny-{request.param}"), chat_template=template)
    return AutoTokenizer.from_pretrained(folder)
