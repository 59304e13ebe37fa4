"""Encryption of stored text (Fernet: AES-128-CBC + HMAC-SHA256, key from settings)."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from bot.errors import ConfigError


def generate_key() -> str:
    return Fernet.generate_key().decode()


class Cipher:
    """Encrypts and decrypts text; derives pseudonymous labels with a keyed hash."""

    def __init__(self, key: SecretStr) -> None:
        raw = key.get_secret_value().encode()
        try:
            self._fernet = Fernet(raw)
        except (ValueError, TypeError):
            raise ConfigError("TRANSCRIPT_KEY: not a valid Fernet key") from None
        self._label_key = hashlib.sha256(b"counselbot-label:" + raw).digest()

    def __repr__(self) -> str:
        return "Cipher(<key hidden>)"

    def encrypt(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8", errors="surrogatepass"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8", errors="surrogatepass")
        except InvalidToken:
            raise ConfigError("TRANSCRIPT_KEY does not match the key the transcripts were written with") from None

    def label(self, platform: str, platform_user_id: str) -> str:
        """A stable pseudonym for moderators: the platform and a keyed hash, never the id."""
        digest = hmac.new(self._label_key, f"{platform}:{platform_user_id}".encode(), hashlib.sha256)
        return f"{platform}-{digest.hexdigest()[:8]}"
