"""Training on the tiny random Llama over a sample of counsel-chat: real TRL, real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from bot.errors import ConfigError
from training.presets_io import load_preset
from training.sft import CONFIG_FILE, REPORT_FIELDS, REPORT_FILE, TrainRequest, train

pytestmark = [
    pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:Paged optimizers are not supported on CPU:UserWarning"),
]

STEPS = 8


def test_loss_goes_down(trained: tuple[Path, dict[str, Any]]) -> None:
    _, report = trained
    losses = [point["loss"] for point in report["loss_curve"]]
    assert len(losses) == STEPS
    assert sum(losses[-3:]) / 3 < losses[0]


def test_output_folder_holds_adapter_tokenizer_config_and_report(trained: tuple[Path, dict[str, Any]]) -> None:
    output, report = trained
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 CONFIG_FILE, REPORT_FILE):
        assert (output / name).is_file(), name
    assert (output / "checkpoint-4").is_dir() and (output / f"checkpoint-{STEPS}").is_dir()
    assert json.loads((output / REPORT_FILE).read_text()) == json.loads(json.dumps(report))
    resolved = json.loads((output / CONFIG_FILE).read_text())
    assert resolved["preset"]["name"] == "tiny-test" and resolved["max_steps"] == STEPS


def test_report_has_every_field(trained: tuple[Path, dict[str, Any]]) -> None:
    _, report = trained
    assert set(REPORT_FIELDS) <= set(report)
    assert report["steps"] == STEPS and report["rows_used"] == 64
    assert report["tokens"]["trained"] > 0 and report["tokens"]["this_run"] == report["tokens"]["trained"]
    assert report["tokens_per_second"] > 0 and report["wall_time_s"] >= report["train_runtime_s"] > 0
    assert report["data"]["splits"]["train"] > report["rows_used"]
    assert {"torch", "transformers", "peft", "trl", "bitsandbytes", "datasets"} <= set(report["versions"])
    assert 0 < report["trainable_parameters"] < report["total_parameters"]
    assert report["resumed_from"] is None


def test_adapter_reloads_and_changes_the_output(trained: tuple[Path, dict[str, Any]]) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    output, report = trained
    tokenizer = AutoTokenizer.from_pretrained(output)
    ids = tokenizer("I feel worthless and tired.", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(report["base_model_path"])
    with torch.no_grad():
        before = base(ids).logits
    tuned = PeftModel.from_pretrained(base, output)
    with torch.no_grad():
        after = tuned(ids).logits
    assert not torch.allclose(before, after, atol=1e-4)


def test_existing_run_is_not_overwritten(
    trained: tuple[Path, dict[str, Any]], cache_dir: Path, counsel_chat: Path
) -> None:
    output, _ = trained
    with pytest.raises(ConfigError, match="--resume"):
        train(TrainRequest(load_preset("tiny-test"), data=str(counsel_chat), max_steps=STEPS, output=output,
                           cache_dir=cache_dir))


class _Interrupt(Exception):
    pass


def _crash_at(step: int) -> Any:
    from transformers import TrainerCallback

    class Crash(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == step:
                raise _Interrupt(f"simulated interruption at step {step}")

    return Crash()


def test_resume_continues_from_the_last_checkpoint(cache_dir: Path, counsel_chat: Path, tmp_path: Path) -> None:
    output = tmp_path / "adapter"
    request = TrainRequest(load_preset("tiny-test"), data=str(counsel_chat), max_steps=6, output=output,
                           cache_dir=cache_dir)
    with pytest.raises(_Interrupt):
        train(request, callbacks=[_crash_at(5)])
    assert (output / "checkpoint-4").is_dir() and not (output / REPORT_FILE).exists()
    report = train(TrainRequest(**{**request.__dict__, "resume": True}))
    assert report["resumed_from"] == "checkpoint-4"
    assert report["steps"] == 6
    assert [point["step"] for point in report["loss_curve"]] == [1, 2, 3, 4, 5, 6]
    assert 0 < report["tokens"]["this_run"] < report["tokens"]["trained"]


def test_four_bit_path_on_cpu(cache_dir: Path, counsel_chat: Path, tmp_path: Path) -> None:
    import bitsandbytes as bnb

    preset_file = tmp_path / "tiny-4bit.json"
    preset_file.write_text(json.dumps({
        "extends": "tiny-test",
        "quantization": {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
                         "bnb_4bit_compute_dtype": "float32"},
        "training": {"optim": "paged_adamw_32bit"},
    }))
    preset = load_preset(str(preset_file))
    assert preset.name == "tiny-4bit" and preset.quantization and preset.quantization["load_in_4bit"]
    output = tmp_path / "adapter"
    report = train(TrainRequest(preset, data=str(counsel_chat), max_steps=3, output=output, cache_dir=cache_dir))
    assert report["steps"] == 3
    assert all(point["loss"] == point["loss"] and point["loss"] < 20 for point in report["loss_curve"])
    assert report["quantization"]["bnb_4bit_quant_type"] == "nf4"
    assert (output / "adapter_model.safetensors").is_file()

    from peft import PeftModel

    from training.sft import load_model

    base = load_model(report["base_model_path"], preset)
    assert any(isinstance(module, bnb.nn.Linear4bit) for module in base.modules())
    tuned = PeftModel.from_pretrained(base, output)
    with torch.no_grad():
        logits = tuned(torch.tensor([[1, 2, 3, 4]])).logits
    assert torch.isfinite(logits).all()
