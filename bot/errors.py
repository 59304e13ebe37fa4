"""The project's exception tree, in one place.

CounselbotError
├── ConfigError            a setting is missing or invalid (one line, no traceback)
├── DatabaseError          the store failed; `DatabaseNotMigrated` when the schema is behind
├── GenerationError        the generator could not answer
│   ├── GeneratorBusy          the queue is full (backpressure)
│   ├── GenerationTimeout      the deadline passed
│   ├── GenerationCancelled    the request was cancelled (erase, take-over)
│   └── GeneratorUnavailable   the model is down or reloading
├── DeliveryError          a platform could not deliver a message
│   └── UserUnreachable        the user blocked the bot or closed DMs
└── IllegalTransition      a lifecycle move that is not allowed

Adapters and backends map library errors to these with `raise X(...) from exc`.
Messages never contain user text or secrets.
"""

from __future__ import annotations


class CounselbotError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(CounselbotError):
    """A setting is missing or invalid. The message is one line naming the setting."""


class DatabaseError(CounselbotError):
    """The store could not complete an operation."""


class DatabaseNotMigrated(DatabaseError):
    """The database schema is missing or older than the code. The message says the fix."""


class GenerationError(CounselbotError):
    """The generator could not produce a reply."""


class GeneratorBusy(GenerationError):
    """The worker's queue is full; try again later."""


class GenerationTimeout(GenerationError):
    """The request's deadline passed before a reply was ready."""


class GenerationCancelled(GenerationError):
    """The request was cancelled before it was generated."""


class GeneratorUnavailable(GenerationError):
    """The model is not loaded or is being reloaded after repeated failures."""


class DeliveryError(CounselbotError):
    """A platform failed to deliver a message (after its own retries)."""


class UserUnreachable(DeliveryError):
    """The user cannot be messaged (blocked the bot, DMs closed, account gone)."""


class IllegalTransition(CounselbotError):
    """A lifecycle transition that the state machine refuses."""
