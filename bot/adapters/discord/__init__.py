"""Discord adapter (discord.py 2.x): users in DMs, moderators in a guild channel."""

import warnings

with warnings.catch_warnings():
    # discord.py imports the stdlib `audioop` for voice, which this bot never uses; on
    # Python 3.11-3.12 that import warns (the module is gone in 3.13, where discord.py
    # uses its audioop-lts dependency instead).
    warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
    import discord  # noqa: F401

from bot.adapters.discord.adapter import Core, DiscordAdapter  # noqa: E402

__all__ = ["Core", "DiscordAdapter"]
