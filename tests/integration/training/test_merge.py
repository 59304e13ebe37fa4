"""Merging the tiny adapter into its base gives the same outputs without peft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from bot.errors import ConfigError
from training.merge import MERGE_INFO, merge_adapter

pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")


def test_merged_model_matches_base_plus_adapter(trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter, report = trained
    merged_dir = merge_adapter(adapter, tmp_path / "merged")
    assert (merged_dir / "config.json").is_file() and (merged_dir / MERGE_INFO).is_file()
    assert not (merged_dir / "adapter_config.json").exists()
    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    assert tokenizer.chat_template
    ids = tokenizer("I feel worthless and tired.", return_tensors="pt")["input_ids"]
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(report["base_model_path"]), adapter).eval()
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, tuned(ids).logits, atol=1e-5)


def test_merge_refuses_a_non_adapter_and_a_full_output(trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    adapter, _ = trained
    with pytest.raises(ConfigError, match="not a LoRA adapter"):
        merge_adapter(tmp_path, tmp_path / "out")
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        merge_adapter(adapter, full)
