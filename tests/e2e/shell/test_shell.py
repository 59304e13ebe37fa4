"""`counselbot shell --json` and `counselbot mod` as subprocesses on a real database file,
with a real (tiny, random) transformer model behind the real worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.store.crypto import generate_key
from model.tiny import save_tiny_llama

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("shell")
    model_dir = save_tiny_llama(root / "tiny-model")
    values = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(root),
        "DATABASE_URL": f"sqlite+aiosqlite:///{root / 'bot.db'}",
        "TRANSCRIPT_KEY": generate_key(),
        "MODEL_BACKEND": "local",
        "BASE_MODEL": str(model_dir),
        "MAX_NEW_TOKENS": "8",
        "LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=values, cwd=root, check=True, timeout=120)
    values["CWD"] = str(root)
    return values


def counselbot(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cwd = env["CWD"]
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        env={k: v for k, v in env.items() if k != "CWD"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_shell_json_conversation_consent_export_and_crisis(env: dict[str, str]) -> None:
    script = "\n".join(
        ["hello, I can't sleep", "Agree", "exams are stressing me out", "/export", "I want to kill myself", "/country ../../etc"]
    )
    result = counselbot(env, "shell", "--user", "alice", "--json", "--country", "GB", stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "notice"
    assert {"label": "Agree", "command": "/agree"} in lines[0]["buttons"]
    assert "reply" in kinds and "crisis" in kinds
    export = next(line for line in lines if line["text"].startswith("Here is everything"))
    data = json.loads(export["text"][export["text"].index("{") :])
    assert "exams are stressing me out" in [m["text"] for m in data["messages"]]
    crisis = next(line for line in lines if line["kind"] == "crisis")
    assert "116 123" in crisis["text"]
    assert "two-letter country code" in lines[-1]["text"]
    assert "new flag" in result.stderr


def test_moderator_terminal_acts_on_the_same_database(env: dict[str, str]) -> None:
    counselbot(env, "shell", "--user", "bob", "--json", stdin="I'm going to end my life tonight\n")
    listed = counselbot(env, "mod", "list", "--json", "--status", "open")
    flags = [json.loads(line) for line in listed.stdout.splitlines()]
    flag = next(f for f in flags if "I'm going to end my life tonight" in f["flagged_messages"])
    assert flag["transcript"] is None, "bob did not consent: no transcript"
    number = str(flag["id"])
    assert counselbot(env, "mod", "claim", number).returncode == 0
    assert counselbot(env, "mod", "takeover", number).returncode == 0
    assert counselbot(env, "mod", "say", number, "I'm a volunteer moderator. Are you safe?").returncode == 0
    # The user's next shell session delivers what the moderator queued, and the model stays paused.
    result = counselbot(env, "shell", "--user", "bob", "--json", stdin="yes I'm here\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(line["kind"] == "moderator" and "Are you safe?" in line["text"] for line in lines)
    assert not any(line["kind"] == "reply" for line in lines)
    shown = json.loads(counselbot(env, "mod", "show", number, "--json").stdout)
    assert shown["status"] == "claimed" and shown["session"] == "human"
    resolved = counselbot(env, "mod", "resolve", number, "--outcome", "supported", "--note", "talked it through")
    assert resolved.returncode == 0 and "resolved" in resolved.stdout
    assert counselbot(env, "mod", "claim", "99999").returncode == 1
