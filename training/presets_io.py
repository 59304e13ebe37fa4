"""Training presets: JSON files in `training/presets/`, one recipe each.

A preset names the base model (a hub id, a folder, or a symbolic name: `default` for
the bot's default model, `tiny-llama` for the tiny random Llama used in tests), the
data, the 4-bit quantization (or none), the LoRA settings and the TrainingArguments.
`"extends": "other"` starts from another preset and deep-merges the differences.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

PRESET_DIR = Path(__file__).resolve().parent / "presets"
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Preset:
    """One training recipe. `training` holds `SFTConfig` keyword arguments."""

    name: str
    description: str
    model: str
    data: str
    output: str
    max_length: int
    dtype: str = "float32"
    chat_template: str | None = None
    max_train_rows: int | None = None
    quantization: dict[str, Any] | None = None
    lora: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    cleaning: dict[str, Any] = field(default_factory=dict)
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def data_source(self) -> str:
        """The preset's data: a relative path is read from the repository root, so
        `../shared/...` works from any working directory; anything else is a hub id."""
        candidate = REPO_ROOT / self.data
        if not Path(self.data).is_absolute() and candidate.exists():
            return str(candidate.resolve())
        return self.data


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESET_DIR.glob("*.json"))


def load_preset(name_or_path: str) -> Preset:
    """Read a preset by name (a file in `training/presets/`) or from a JSON file path.

    Unknown keys are rejected, so a typo never silently falls back to a default.
    """
    raw = _read_merged(name_or_path, seen=())
    raw.pop("extends", None)
    allowed = {f.name for f in fields(Preset)}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"preset {name_or_path!r}: unknown keys {unknown}")
    missing = sorted(name for name in ("description", "model", "data", "output", "max_length") if name not in raw)
    if missing:
        raise ConfigError(f"preset {name_or_path!r}: missing keys {missing}")
    return Preset(**raw)


def _read_merged(name_or_path: str, seen: tuple[str, ...]) -> dict[str, Any]:
    path = Path(name_or_path)
    if not (path.suffix == ".json" and path.is_file()):
        path = PRESET_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise ConfigError(f"no preset {name_or_path!r}; known: {', '.join(preset_names())}")
    if str(path) in seen:
        raise ConfigError(f"preset {name_or_path!r} extends itself")
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"preset {path.name}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    raw.setdefault("name", path.stem)
    parent = raw.get("extends")
    if parent is None:
        return raw
    base = _read_merged(parent, seen=(*seen, str(path)))
    base["name"] = raw["name"]
    return _deep_merge(base, raw)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
