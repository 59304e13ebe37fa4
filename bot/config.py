"""Settings, read from the environment and `.env` (pydantic-settings).

Every setting is listed with a comment in `.env.example`. `load_settings()` turns any
validation failure into one `ConfigError` line naming the setting; secrets are
`SecretStr`, so they never appear in reprs or logs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/counselbot.db"
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class ModelBackend(StrEnum):
    AUTO = "auto"  # llama.cpp when installed and no base model is set, else local
    LOCAL = "local"  # transformers (+ peft adapter, + 4-bit on CUDA)
    LLAMACPP = "llamacpp"  # llama-cpp-python on a GGUF file (fast on CPU)
    OPENAI = "openai"  # an OpenAI-compatible server: vLLM, TGI, llama.cpp, Ollama, `counselbot worker --serve`


class FourBit(StrEnum):
    AUTO = "auto"  # 4-bit when CUDA is present
    ON = "on"
    OFF = "off"


class AdapterName(StrEnum):
    DISCORD = "discord"
    TELEGRAM = "telegram"
    CONSOLE = "console"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # Platforms
    adapters: Annotated[list[AdapterName] | None, NoDecode] = None
    discord_token: SecretStr | None = None
    discord_mod_guild_id: int | None = None
    discord_mod_channel_id: int | None = None
    discord_mod_role_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    telegram_token: SecretStr | None = None
    telegram_mod_group_id: int | None = None
    telegram_moderator_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_api_base: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)

    # Storage and privacy
    database_url: str = DEFAULT_DATABASE_URL
    transcript_key: SecretStr | None = None
    retention_days: int = Field(default=30, ge=1)

    # Model
    model_backend: ModelBackend = ModelBackend.AUTO
    base_model: str | None = None
    adapter_path: str | None = None
    load_in_4bit: FourBit = FourBit.AUTO
    model_cache_dir: Path = Path.home() / ".cache" / "counselbot"
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None
    max_new_tokens: int = Field(default=160, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    generation_timeout_s: float = Field(default=60.0, gt=0)
    max_batch: int = Field(default=8, ge=1, le=256)
    batch_window_ms: int = Field(default=20, ge=0, le=5000)
    queue_size: int = Field(default=256, ge=1)
    history_token_budget: int = Field(default=1024, ge=64)
    # llama.cpp threads: one token at a time, and prompts / batches. None: tuned (model.threads).
    llamacpp_threads: int | None = Field(default=None, ge=1, le=512)
    llamacpp_batch_threads: int | None = Field(default=None, ge=1, le=512)

    # Conversation and moderation
    default_country: str | None = None
    repage_delay_s: float = Field(default=300.0, gt=0)
    idle_timeout_s: float = Field(default=1800.0, gt=0)
    rate_limit_per_minute: int = Field(default=20, ge=1)
    max_message_chars: int = Field(default=4000, ge=100)

    log_level: str = "INFO"

    @field_validator("adapters", "telegram_moderator_ids", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("model_cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite+aiosqlite:///var/counselbot.db)") from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(f"driver {url.drivername!r} is not supported; use one of {', '.join(SUPPORTED_DRIVERS)}")
        return value

    @field_validator("transcript_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode())
            except (ValueError, TypeError):
                raise ValueError("not a valid Fernet key (32 url-safe base64 bytes); `counselbot keygen` makes one") from None
        return value

    @field_validator("default_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter country code such as US, GB or FR")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @model_validator(mode="after")
    def _enabled_adapters_have_tokens(self) -> Settings:
        for name in self.adapters or ():
            token = {AdapterName.DISCORD: self.discord_token, AdapterName.TELEGRAM: self.telegram_token}.get(name)
            if name is not AdapterName.CONSOLE and token is None:
                raise ValueError(f"{name.value.upper()}_TOKEN is required because ADAPTERS enables {name.value}")
        if self.model_backend is ModelBackend.OPENAI and not self.openai_base_url:
            raise ValueError("OPENAI_BASE_URL is required when MODEL_BACKEND=openai")
        return self

    def enabled_adapters(self) -> list[AdapterName]:
        """The adapters to start: those listed in ADAPTERS, else those whose token is set,
        else the terminal chat."""
        if self.adapters:
            return list(self.adapters)
        found = [
            name
            for name, token in ((AdapterName.DISCORD, self.discord_token), (AdapterName.TELEGRAM, self.telegram_token))
            if token is not None
        ]
        return found or [AdapterName.CONSOLE]

    def require_transcript_key(self) -> SecretStr:
        if self.transcript_key is None:
            raise ConfigError("TRANSCRIPT_KEY is not set: run `counselbot keygen >> .env` (make run does it for you)")
        return self.transcript_key


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise `ConfigError` with one line naming the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "settings"
    message = error["msg"].removeprefix("Value error, ")
    if error["loc"]:
        return f"{location.upper()}: {message}"
    return message
