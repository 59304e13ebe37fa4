"""Merge a LoRA adapter into its base model, for serving without peft.

The base is loaded in full precision (a 4-bit base cannot absorb the adapter without
rounding it away), the adapter's weights are added in with `merge_and_unload()`, and
the result is saved as a plain transformers folder with the adapter's tokenizer (which
carries the chat template the adapter was trained with).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

MERGE_INFO = "merge_info.json"


def merge_adapter(
    adapter: Path, output: Path, *, base: str | None = None, dtype: str = "float32", cache_dir: Path | None = None
) -> Path:
    """Write base + adapter as one model to `output`; return `output`.

    The base defaults to the one recorded in the adapter's `training_config.json`.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.sft import resolve_model, torch_dtype

    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").is_file():
        raise ConfigError(f"{adapter} is not a LoRA adapter folder (no adapter_config.json)")
    base_ref = resolve_model(base, cache_dir) if base is not None else _recorded_base(adapter)
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise ConfigError(f"{output} is not empty: choose another output folder")
    model = AutoModelForCausalLM.from_pretrained(base_ref, dtype=torch_dtype(dtype))
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    merged.config.use_cache = True
    output.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        merged.save_pretrained(output)
    AutoTokenizer.from_pretrained(adapter).save_pretrained(output)
    info: dict[str, Any] = {"base_model": base_ref, "adapter": str(adapter), "dtype": dtype}
    (output / MERGE_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return output


def _recorded_base(adapter: Path) -> str:
    config_file = adapter / "training_config.json"
    if config_file.is_file():
        recorded = json.loads(config_file.read_text(encoding="utf-8")).get("base_model_path")
        if recorded:
            return str(recorded)
    adapter_config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    recorded = adapter_config.get("base_model_name_or_path")
    if not recorded:
        raise ConfigError(f"{adapter} does not say which base model it belongs to: pass --base")
    return str(recorded)
