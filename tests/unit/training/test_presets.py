"""Presets: the seed's recipe as written, inheritance, strictness, and TRL accepting them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import ConfigError
from training.presets_io import REPO_ROOT, load_preset, preset_names


def test_the_shipped_presets() -> None:
    assert {"llama2-7b-qlora", "llama2-7b-qlora-all-linear", "smollm2-cpu", "tiny-test"} <= set(preset_names())


def test_seed_recipe_mapped_to_todays_api() -> None:
    preset = load_preset("llama2-7b-qlora")
    assert preset.model == "NousResearch/Llama-2-7b-chat-hf" and preset.output == "llama-2-7b-mental_health"
    assert preset.quantization == {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                   "bnb_4bit_use_double_quant": True, "bnb_4bit_compute_dtype": "float16"}
    assert {k: preset.lora[k] for k in ("r", "lora_alpha", "lora_dropout")} == {"r": 64, "lora_alpha": 16,
                                                                                 "lora_dropout": 0.1}
    assert "target_modules" not in preset.lora  # peft's Llama default: q_proj, v_proj
    training = preset.training
    assert training["num_train_epochs"] == 1 and training["per_device_train_batch_size"] == 4
    assert training["learning_rate"] == 2e-4 and training["weight_decay"] == 0.001
    assert training["optim"] == "paged_adamw_32bit" and training["lr_scheduler_type"] == "cosine"
    assert training["warmup_steps"] == 0.03 and training["train_sampling_strategy"] == "group_by_length"
    assert training["max_grad_norm"] == 0.3 and training["logging_steps"] == 25 and training["save_steps"] > 0


def test_all_linear_variant_extends_the_recipe() -> None:
    base, variant = load_preset("llama2-7b-qlora"), load_preset("llama2-7b-qlora-all-linear")
    assert variant.lora == {**base.lora, "target_modules": "all-linear"}
    assert variant.training == base.training and variant.quantization == base.quantization
    assert variant.name == "llama2-7b-qlora-all-linear" and variant.output != base.output


@pytest.mark.parametrize("name", ["llama2-7b-qlora", "llama2-7b-qlora-all-linear", "smollm2-cpu", "tiny-test"])
def test_trl_and_peft_accept_every_preset(name: str, tmp_path: Path) -> None:
    from training.sft import lora_config, sft_config

    preset = load_preset(name)
    config = sft_config(preset, tmp_path, max_steps=3)
    assert config.max_steps == 3 and config.max_length == preset.max_length
    assert config.logging_steps <= 3
    assert lora_config(preset).r == preset.lora["r"]


def test_unknown_keys_missing_keys_and_cycles_are_refused(tmp_path: Path) -> None:
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"extends": "tiny-test", "learning_rate": 1.0}))
    with pytest.raises(ConfigError, match="unknown keys \\['learning_rate'\\]"):
        load_preset(str(typo))
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"model": "x"}))
    with pytest.raises(ConfigError, match="missing keys"):
        load_preset(str(bare))
    loop = tmp_path / "loop.json"
    loop.write_text(json.dumps({"extends": str(loop)}))
    with pytest.raises(ConfigError, match="extends itself"):
        load_preset(str(loop))
    with pytest.raises(ConfigError, match="known: .*tiny-test"):
        load_preset("nope")


def test_relative_data_is_read_from_the_repository_root() -> None:
    preset = load_preset("smollm2-cpu")
    if (REPO_ROOT / preset.data).exists():
        assert Path(preset.data_source()).is_absolute() and Path(preset.data_source()).is_file()
    assert load_preset("llama2-7b-qlora").data_source() == "Amod/mental_health_counseling_conversations"
