"""`counselbot assess` through a tiny Typer app (as bot/cli.py mounts it) and as a module."""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.testing import CliRunner

from bot.safety import cli

app = typer.Typer()
app.command("assess")(cli.assess)
app.command("noop", hidden=True)(lambda: None)  # two commands, so "assess" is a subcommand as in bot/cli.py


def run(stdin: str, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(app, ["assess", *args], input=stdin)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_one_json_line_per_input() -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": 1, "text": "I want to kill myself"}),
            json.dumps({"id": "b", "text": "this commute is killing me"}),
            json.dumps({"id": [3], "text": "jk forget it", "history": ["I want to kill myself"]}),
            json.dumps({"id": 4, "text": "je veux mourir", "locale": "fr-FR"}),
        ]
    )
    code, lines = run(stdin + "\n")
    assert code == 0
    assert lines[0] == {"id": 1, "level": "high", "categories": ["suicide"], "reasons": ["states a wish or intent to kill themself"]}
    assert lines[1] == {"id": "b", "level": "none", "categories": [], "reasons": []}
    assert lines[2]["id"] == [3] and lines[2]["level"] == "high"
    assert lines[3]["level"] == "elevated" and lines[3]["categories"] == ["suicide"]
    assert all(set(line) == {"id", "level", "categories", "reasons"} for line in lines)


def test_malformed_lines_give_errors_and_processing_continues() -> None:
    stdin = "\n".join(
        [
            "{not json",
            json.dumps(["a", "list"]),
            json.dumps({"id": 7, "text": 42}),
            json.dumps({"id": 8, "text": "hi", "history": "nope"}),
            json.dumps({"id": 9, "text": "hi", "locale": 5}),
            "",
            json.dumps({"id": 10, "text": "I wish I was dead"}),
        ]
    )
    code, lines = run(stdin)
    assert code == 0
    assert [line.get("error") is not None for line in lines] == [True, True, True, True, True, False]
    assert lines[0] == {"id": None, "line": 1, "error": lines[0]["error"]}
    assert lines[2]["id"] == 7 and lines[2]["line"] == 3 and "text" in str(lines[2]["error"])
    assert lines[5] == {"id": 10, "level": "elevated", "categories": ["suicide"], "reasons": ["passive wish to be dead"]}


def test_output_never_contains_the_text() -> None:
    secret = "Zorblax wants to kill himself said my friend Quuxine"
    code, lines = run(json.dumps({"id": 1, "text": secret}) + "\n")
    assert code == 0 and "Zorblax" not in json.dumps(lines) and "Quuxine" not in json.dumps(lines)


def test_default_locale_option() -> None:
    code, lines = run(json.dumps({"id": 1, "text": "ok"}) + "\n", "--locale", "es-ES")
    assert code == 0 and lines == [{"id": 1, "level": "none", "categories": [], "reasons": []}]


def test_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.safety.cli"],
        input=json.dumps({"id": "x", "text": "I took all my pills"}) + "\nnot json\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["level"] == "imminent" and "error" in second
