"""The Discord adapter's stable import path; the code lives in `bot.adapters.discord`."""

from bot.adapters.discord import Core, DiscordAdapter

__all__ = ["Core", "DiscordAdapter"]
