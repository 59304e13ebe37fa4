"""The composition root: one place that owns the store, the model worker, the manager and
the platform clients, inside one event loop, with every task tracked."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator
from typing import Protocol

from bot.config import AdapterName, Settings
from bot.core.conversation import ConversationManager
from bot.core.outbox import OutboxChannel
from bot.core.ports import Generator, ModeratorSurface, UserChannel
from bot.core.types import Platform
from bot.store import Store, open_store

log = logging.getLogger(__name__)
PURGE_EVERY_S = 6 * 3600


class PlatformAdapter(UserChannel, ModeratorSurface, Protocol):
    """What `run` needs of a platform adapter: a channel for its users, a moderator surface
    (named after its platform) when a moderator channel/group is configured, a lifecycle."""

    @property
    def moderation_enabled(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@contextlib.asynccontextmanager
async def open_core(settings: Settings, generator: Generator | None) -> AsyncIterator[ConversationManager]:
    """A manager over the configured store; the store is closed on exit."""
    store = await open_store(settings)
    try:
        yield ConversationManager(settings, store, generator)
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def moderator_core(settings: Settings) -> AsyncIterator[ConversationManager]:
    """For `counselbot mod`: no model and no platform; what it says to users is queued in
    the outbox for the bot process to deliver."""
    async with open_core(settings, None) as manager:
        outbox = OutboxChannel(manager.store, lambda: manager.now())
        for platform in Platform:
            manager.register_channel(platform, outbox)
        yield manager


async def check_database(settings: Settings) -> None:
    """Fail fast, before the model loads, on a missing key or an unmigrated database."""
    store = await open_store(settings)
    await store.close()


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[Generator]:
    from model.loading import build_generator

    worker = build_generator(settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


def build_adapters(settings: Settings, manager: ConversationManager) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    enabled = settings.enabled_adapters()
    if AdapterName.DISCORD in enabled:
        from bot.adapters.discord_bot import DiscordAdapter

        adapters.append(DiscordAdapter(settings, manager))
    if AdapterName.TELEGRAM in enabled:
        from bot.adapters.telegram_bot import TelegramAdapter

        adapters.append(TelegramAdapter(settings, manager))
    return adapters


async def _purge_periodically(store: Store, settings: Settings, manager: ConversationManager) -> None:
    while True:
        removed = await store.users.purge_transcripts(manager.now(), settings.retention_days)
        if removed:
            log.info("retention purge removed %d transcript line(s)", removed)
        await asyncio.sleep(PURGE_EVERY_S)


async def run(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run the platform adapters until SIGINT/SIGTERM (or `stop`)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await check_database(settings)
    async with running_worker(settings) as worker, open_core(settings, worker) as manager:
        adapters = build_adapters(settings, manager)
        for adapter in adapters:
            manager.register_channel(Platform(adapter.name), adapter)
            if adapter.moderation_enabled:
                manager.register_surface(adapter)
        await manager.recover()
        started: list[PlatformAdapter] = []
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(manager.run_maintenance())
                tasks.create_task(_purge_periodically(manager.store, settings, manager))
                for adapter in adapters:
                    await adapter.start()
                    started.append(adapter)
                log.info("counselbot is running: %s", ", ".join(a.name for a in adapters))
                gc.freeze()  # start-up objects leave the collector's view: shorter pauses under load
                await stop.wait()
                raise _Shutdown
        except* _Shutdown:
            pass
        finally:
            for adapter in reversed(started):
                await adapter.stop()


async def shell(settings: Settings, user: str, *, country: str | None, json_mode: bool) -> None:
    """`counselbot shell`: chat as a user in the terminal, with the console moderator surface."""
    from bot.adapters.console import ConsoleChannel, ConsoleSurface, run_shell

    channel = ConsoleChannel(sys.stdout, json_mode=json_mode)
    await check_database(settings)
    async with running_worker(settings) as worker, open_core(settings, worker) as manager:
        manager.register_channel(Platform.CONSOLE, channel)
        manager.register_surface(ConsoleSurface(sys.stderr))
        await manager.recover()
        await manager.tick()  # deliver what moderators queued while the user was away
        async with asyncio.TaskGroup() as tasks:
            maintenance = tasks.create_task(manager.run_maintenance(interval_s=1.0))
            await run_shell(manager, channel, user, country=country, interactive=sys.stdin.isatty() and not json_mode)
            maintenance.cancel()
        await manager.tick()


class _Shutdown(Exception):
    """Raised inside the task group to stop every task on shutdown."""
