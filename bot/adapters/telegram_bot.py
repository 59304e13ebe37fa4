"""The Telegram adapter's public name; the code lives in `bot.adapters.telegram`."""

from bot.adapters.telegram import RetryPolicy, TelegramAdapter, TelegramOptions

__all__ = ["RetryPolicy", "TelegramAdapter", "TelegramOptions"]
