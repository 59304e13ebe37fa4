"""One tiny-Llama training run over a sample of counsel-chat, shared by the training,
evaluation, merge and CLI tests (each later test reads what this run wrote)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

COUNSEL_CHAT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "counsel-chat" / "counsel_chat.csv"
TRAINED_STEPS = 8


@pytest.fixture(scope="session")
def counsel_chat() -> Path:
    if not COUNSEL_CHAT.is_file():
        pytest.skip(f"counsel-chat data not found at {COUNSEL_CHAT}")
    return COUNSEL_CHAT


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def trained(counsel_chat: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    import warnings

    from training.presets_io import load_preset
    from training.sft import TrainRequest, train

    output = tmp_path_factory.mktemp("run") / "adapter"
    with warnings.catch_warnings():
        # peft reads a transformers attribute deprecated in 5.x; not ours to fix.
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning)
        report = train(
            TrainRequest(load_preset("tiny-test"), data=str(counsel_chat), max_steps=TRAINED_STEPS, output=output,
                         cache_dir=cache_dir)
        )
    return output, report
