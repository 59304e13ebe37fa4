"""`counselbot train / eval / model merge` through Typer, as bot/cli.py mounts them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from training import cli

pytestmark = [
    pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning"),
]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("train")(cli.train)
    app.command("eval")(cli.evaluate)
    model = typer.Typer()
    model.command("merge")(cli.merge)
    app.add_typer(model, name="model")
    return app


@pytest.fixture
def runner(cache_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("MODEL_CACHE_DIR", str(cache_dir))
    monkeypatch.chdir(tmp_path)  # no stray .env, relative outputs land here
    return CliRunner()


def test_train_writes_an_adapter(runner: CliRunner, counsel_chat: Path, tmp_path: Path) -> None:
    output = tmp_path / "adapter"
    result = runner.invoke(_app(), ["train", "--preset", "tiny-test", "--data", str(counsel_chat), "--max-steps", "2",
                                    "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "trained tiny-test: 2 steps on 64 rows" in result.output
    report = json.loads((output / "training_report.json").read_text())
    assert report["steps"] == 2 and len(report["loss_curve"]) == 2
    assert (output / "adapter_model.safetensors").is_file()


@pytest.mark.parametrize("args", [["train", "--preset", "tiny-test", "--bogus"], ["train"],
                                  ["eval", "--nope", "1"], ["model", "merge", "--adapter", "x"]])
def test_unknown_or_missing_options_are_rejected(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(_app(), args)
    assert result.exit_code == 2
    assert "No such option" in result.output or "Missing option" in result.output


def test_bad_preset_is_one_line_and_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(_app(), ["train", "--preset", "no-such-preset"])
    assert result.exit_code == 2
    assert "no preset 'no-such-preset'" in result.output
    assert "Traceback" not in result.output


def test_eval_and_merge(runner: CliRunner, trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    adapter, _ = trained
    result = runner.invoke(_app(), ["eval", "--adapter", str(adapter), "--questions", "2", "--max-new-tokens", "3",
                                    "--output", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert "| metric | base | tuned |" in result.output
    assert (tmp_path / "eval" / "eval_report.json").is_file()
    result = runner.invoke(_app(), ["model", "merge", "--adapter", str(adapter), "--output", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "config.json").is_file()


def test_importing_the_commands_stays_light() -> None:
    code = "import sys, training.cli; print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "[]"
