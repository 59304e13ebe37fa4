"""Settings: every bad setting is one line naming it; secrets never show in reprs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import AdapterName, Settings, load_settings
from bot.errors import ConfigError
from bot.store.crypto import generate_key


def settings(**overrides: object) -> Settings:
    return load_settings(_env_file=None, **overrides)


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"adapters": "telegram"}, "TELEGRAM_TOKEN"),
        ({"adapters": "discord,console"}, "DISCORD_TOKEN"),
        ({"database_url": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"database_url": "not a url at all"}, "DATABASE_URL"),
        ({"transcript_key": "short"}, "TRANSCRIPT_KEY"),
        ({"max_new_tokens": "0"}, "MAX_NEW_TOKENS"),
        ({"default_country": "France"}, "DEFAULT_COUNTRY"),
        ({"model_backend": "openai"}, "OPENAI_BASE_URL"),
    ],
)
def test_bad_settings_give_one_line_naming_the_setting(overrides: dict[str, object], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**overrides)
    message = str(caught.value)
    assert names in message
    assert "\n" not in message


def test_secrets_are_hidden_in_repr() -> None:
    key = generate_key()
    s = settings(telegram_token="12345:SECRET-TOKEN", transcript_key=key, discord_token="discord-secret")
    text = repr(s) + str(s) + str(s.model_dump())
    assert "SECRET-TOKEN" not in text and key not in text and "discord-secret" not in text


def test_enabled_adapters_default_to_tokens_then_console() -> None:
    assert settings().enabled_adapters() == [AdapterName.CONSOLE]
    assert settings(telegram_token="1:x").enabled_adapters() == [AdapterName.TELEGRAM]
    assert settings(telegram_token="1:x", discord_token="d").enabled_adapters() == [AdapterName.DISCORD, AdapterName.TELEGRAM]


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_MODERATOR_IDS", "11, 22")
    monkeypatch.setenv("DEFAULT_COUNTRY", "fr")
    s = settings()
    assert s.telegram_moderator_ids == [11, 22]
    assert s.default_country == "FR"


def test_cli_reports_a_bad_setting_in_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "", "DATABASE_URL": "mysql://nope", "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]


def test_run_refuses_an_unmigrated_database_in_one_line(tmp_path: Path) -> None:
    key = generate_key()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env={"PATH": "", "HOME": str(tmp_path), "TRANSCRIPT_KEY": key, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("run `counselbot db upgrade`")
