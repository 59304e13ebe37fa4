"""The `counselbot` command.

    counselbot setup                 key into .env, migrate, fetch the default model
    counselbot run                   the bot: platform adapters with tokens, else the terminal chat
    counselbot shell --user NAME     chat as a user in the terminal (--json for scripts)
    counselbot mod list|show|claim|takeover|say|release|resolve|note|block
    counselbot db upgrade            apply migrations
    counselbot keygen                print a new TRANSCRIPT_KEY line
    counselbot assess                risk-assess JSON lines from stdin
    counselbot worker --serve        the model worker as an OpenAI-compatible server
    counselbot model fetch-default | info | merge
    counselbot train / eval          the fine-tuning pipeline (training/)

Heavy imports (torch, transformers, platform clients) happen inside commands, so
`--help` stays fast. A bad setting prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from bot.config import AdapterName, ModelBackend, Settings, load_settings
from bot.core.types import ActionKind, Actor, FlagStatus, ModeratorAction, Outcome, Platform
from bot.errors import CounselbotError
from bot.logs import setup_logging
from bot.safety import cli as safety_cli
from bot.store import db
from bot.store.crypto import generate_key
from model import cli as model_cli
from training import cli as training_cli

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="counselbot: a mental-health support bot for Discord and Telegram, with human moderators.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
mod_app = typer.Typer(no_args_is_help=True, help="Act on flags as the local operator (full rights).")
app.add_typer(db_app, name="db")
app.add_typer(mod_app, name="mod")
app.add_typer(model_cli.model_app, name="model")
model_cli.model_app.command("merge")(training_cli.merge)
app.command("worker")(model_cli.worker)
app.command("assess")(safety_cli.assess)
app.command("train")(training_cli.train)
app.command("eval")(training_cli.evaluate)

T = TypeVar("T")
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _settings() -> Settings:
    settings = load_settings()
    setup_logging(settings)
    return settings


def _run(coroutine: Awaitable[T]) -> T:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


# Set-up ---------------------------------------------------------------------------------


@app.command()
def keygen() -> None:
    """Print a new TRANSCRIPT_KEY line (append it to .env)."""
    print(f"TRANSCRIPT_KEY={generate_key()}")


def ensure_env_key(env_file: Path) -> bool:
    """Write a TRANSCRIPT_KEY into .env when none is set; returns whether one was written."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    if any(line.strip().startswith("TRANSCRIPT_KEY=") and line.split("=", 1)[1].strip() for line in lines):
        return False
    lines = [line for line in lines if not line.strip().startswith("TRANSCRIPT_KEY=")]
    lines.append(f"TRANSCRIPT_KEY={generate_key()}")
    env_file.write_text("\n".join(lines) + "\n")
    env_file.chmod(0o600)
    return True


@app.command()
def setup(
    skip_model: Annotated[bool, typer.Option("--skip-model", help="Don't fetch the default model.")] = False,
) -> None:
    """Prepare this machine: a transcript key in .env, the database migrated, the default model cached."""
    if ensure_env_key(Path(".env")):
        err.print("Generated TRANSCRIPT_KEY into .env (keep it secret and backed up: transcripts can't be read without it).")
    settings = _settings()
    db.upgrade(settings.database_url)
    err.print(f"Database ready ({db.head_revision()}).")
    if not skip_model and settings.model_backend is not ModelBackend.OPENAI and settings.base_model is None:
        from model.default import fetch_default

        path = fetch_default(settings.model_cache_dir)
        err.print(f"Default model ready at {path}.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to DATABASE_URL."""
    settings = _settings()
    db.upgrade(settings.database_url)
    err.print(f"Database at {db.head_revision()}.")


# Running --------------------------------------------------------------------------------


@app.command()
def run() -> None:
    """Run the bot: the adapters whose tokens are set, or the terminal chat when none is."""
    settings = _settings()
    from bot import app as composition

    if settings.enabled_adapters() == [AdapterName.CONSOLE]:
        err.print("No platform token is set: starting the terminal chat (`counselbot shell`). Ctrl-D or /quit leaves.")
        _run(composition.shell(settings, getpass.getuser(), country=None, json_mode=False))
        return
    _run(composition.run(settings))


@app.command()
def shell(
    user: Annotated[str, typer.Option("--user", help="Who you are in this chat (any name).")] = "",
    country: Annotated[str | None, typer.Option("--country", help="Two-letter country for helplines.")] = None,
    json_mode: Annotated[bool, typer.Option("--json", help="One JSON line per message out.")] = False,
) -> None:
    """Chat as a user. Reads one message per line when stdin is not a terminal."""
    settings = _settings()
    from bot import app as composition

    _run(composition.shell(settings, user or getpass.getuser(), country=country, json_mode=json_mode))


# Moderation -------------------------------------------------------------------------------


def _operator() -> Actor:
    name = getpass.getuser()
    return Actor(Platform.CONSOLE, name, f"{name} (terminal)")


def _with_moderation(work: Callable[..., Awaitable[int]]) -> int:
    from bot.app import moderator_core

    async def go() -> int:
        async with moderator_core(_settings()) as manager:
            return await work(manager)

    return _run(go())


def _act(kind: ActionKind, flag: int, text: str | None = None, outcome: Outcome | None = None) -> None:
    async def work(manager) -> int:  # type: ignore[no-untyped-def]
        result = await manager.act(ModeratorAction(_operator(), kind, flag, text, outcome))
        (out if result.ok else err).print(result.message)
        return 0 if result.ok else 1

    raise typer.Exit(_with_moderation(work))


class StatusChoice(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


@mod_app.command("list")
def mod_list(
    status: Annotated[StatusChoice | None, typer.Option("--status")] = None,
    json_mode: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List flags, highest tier first."""
    from bot.adapters.console import flag_json, render_flags

    async def work(manager) -> int:  # type: ignore[no-untyped-def]
        flags = await manager.store.flags.by_status(None if status is None else FlagStatus(status.value))
        views = [v for v in [await manager.moderation.view(f.id) for f in flags] if v is not None]
        if json_mode:
            for view in views:
                print(json.dumps(flag_json(view), ensure_ascii=False))
        else:
            render_flags(views, out)
        return 0

    raise typer.Exit(_with_moderation(work))


@mod_app.command("show")
def mod_show(flag: int, json_mode: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a flag: tier, reasons, flagged messages, the transcript only if the user consented."""
    from bot.adapters.console import flag_json, render_flag

    async def work(manager) -> int:  # type: ignore[no-untyped-def]
        view = await manager.moderation.view(flag)
        if view is None:
            err.print(f"No flag {flag}.")
            return 1
        if json_mode:
            print(json.dumps(flag_json(view), ensure_ascii=False))
        else:
            render_flag(view, out)
        return 0

    raise typer.Exit(_with_moderation(work))


@mod_app.command("claim")
def mod_claim(flag: int) -> None:
    """Claim a flag (the first claim wins everywhere)."""
    _act(ActionKind.CLAIM, flag)


@mod_app.command("takeover")
def mod_takeover(flag: int) -> None:
    """Take the conversation over: the model pauses; `mod say` talks to the user."""
    _act(ActionKind.TAKEOVER, flag)


@mod_app.command("say")
def mod_say(flag: int, text: str) -> None:
    """Say something to the user of a session you took over."""
    _act(ActionKind.SAY, flag, text)


@mod_app.command("release")
def mod_release(flag: int) -> None:
    """Hand the conversation back to the AI."""
    _act(ActionKind.RELEASE, flag)


@mod_app.command("resolve")
def mod_resolve(
    flag: int,
    outcome: Annotated[Outcome, typer.Option("--outcome", help="How it ended.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Resolve a flag with an outcome and an optional note."""
    _act(ActionKind.RESOLVE, flag, note, outcome)


@mod_app.command("note")
def mod_note(flag: int, text: str) -> None:
    """Add an internal note (never sent to the user)."""
    _act(ActionKind.NOTE, flag, text)


@mod_app.command("block")
def mod_block(flag: int) -> None:
    """Block the flag's user (they are told once)."""
    _act(ActionKind.BLOCK, flag)


def main() -> None:
    try:
        app()
    except CounselbotError as exc:
        print(f"counselbot: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
