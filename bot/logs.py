"""Logging set-up: one format, and a filter that redacts every configured secret.

Secrets are SecretStr in Settings, so they don't reach logs through reprs; the filter
is the second line, for a library that logs a URL with a token in it (Telegram's API
URLs contain the bot token).
"""

from __future__ import annotations

import logging

from bot.config import Settings

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            for secret in self._secrets:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        return True


def secret_values(settings: Settings) -> list[str]:
    values = []
    for secret in (settings.discord_token, settings.telegram_token, settings.transcript_key, settings.openai_api_key):
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secret_values(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "discord.gateway", "telegram.ext"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # At DEBUG these write request and event payloads, which hold users' words.
    for payloads in ("discord.http", "discord.client", "discord.state", "telegram.bot", "telegram._bot"):
        logging.getLogger(payloads).setLevel(max(logging.INFO, root.level))
