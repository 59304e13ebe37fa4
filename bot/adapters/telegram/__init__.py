"""Telegram: python-telegram-bot 22 inside the bot's own event loop (see adapter.py)."""

from bot.adapters.telegram.adapter import Core, TelegramAdapter, TelegramOptions
from bot.adapters.telegram.delivery import RetryPolicy

__all__ = ["Core", "RetryPolicy", "TelegramAdapter", "TelegramOptions"]
