"""Buttons, selects and modals whose meaning lives entirely in their custom ids.

Every button the bot sends is a `DynamicItem`: discord.py rebuilds it from the custom id
of whatever message was pressed, so buttons on messages sent before a restart keep
working with no view state kept anywhere. User buttons carry the core command itself
("/agree"); moderator buttons carry "mod:<action>:<flag_id>"; the resolve flow adds
"mod:outcome:<flag_id>" (a select of `Outcome`) and then a modal for the note.

The items only parse; what a press means is the handler's business (`ComponentHandler`,
implemented by the adapter and reached through the client).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord
from discord import ui

from bot.adapters.discord.render import ACTION_LABELS, ACTION_STYLES, CUSTOM_ID_LIMIT
from bot.core.types import ActionKind, Button, Outcome

# Kinds that need text from the moderator open a modal; resolve first asks for an outcome.
TEXT_ACTIONS: frozenset[ActionKind] = frozenset({ActionKind.NOTE, ActionKind.SAY})
MODAL_TIMEOUT_S = 15 * 60
NOTE_LIMIT = 1000


class ComponentHandler(Protocol):
    """What the adapter does when a component is used (it owns the core and the errors)."""

    async def user_pressed(self, interaction: discord.Interaction, command: str) -> None: ...

    async def moderator_pressed(self, interaction: discord.Interaction, kind: ActionKind, flag_id: int) -> None: ...

    async def outcome_chosen(self, interaction: discord.Interaction, flag_id: int, outcome: Outcome) -> None: ...

    async def modal_submitted(
        self, interaction: discord.Interaction, kind: ActionKind, flag_id: int, outcome: Outcome | None, text: str
    ) -> None: ...


def handler_of(interaction: discord.Interaction) -> ComponentHandler:
    """The adapter behind the client that received `interaction`."""
    handler: ComponentHandler = getattr(interaction.client, "component_handler")
    return handler


_ACTION_ALTERNATION = "|".join(re.escape(kind.value) for kind in ActionKind)


class UserCommandButton(ui.DynamicItem[ui.Button[Any]], template=r"(?P<command>/[^\s].{0,98})"):
    """A user button; its custom id is the command the press stands for."""

    def __init__(self, label: str, command: str) -> None:
        if len(command) > CUSTOM_ID_LIMIT:
            raise ValueError(f"button command longer than {CUSTOM_ID_LIMIT} characters")
        super().__init__(ui.Button(label=label[:80], custom_id=command, style=discord.ButtonStyle.primary))
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> UserCommandButton:
        label = getattr(item, "label", None) or match["command"]
        return cls(label, match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await handler_of(interaction).user_pressed(interaction, self.command)


class ModeratorButton(
    ui.DynamicItem[ui.Button[Any]], template=rf"mod:(?P<action>{_ACTION_ALTERNATION}):(?P<flag_id>[0-9]{{1,19}})"
):
    """A moderator button on a flag card: "mod:<action>:<flag_id>"."""

    def __init__(self, kind: ActionKind, flag_id: int) -> None:
        super().__init__(
            ui.Button(label=ACTION_LABELS[kind], style=ACTION_STYLES[kind], custom_id=f"mod:{kind.value}:{flag_id}")
        )
        self.kind = kind
        self.flag_id = flag_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ModeratorButton:
        return cls(ActionKind(match["action"]), int(match["flag_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await handler_of(interaction).moderator_pressed(interaction, self.kind, self.flag_id)


class OutcomeSelect(ui.DynamicItem[ui.Select[Any]], template=r"mod:outcome:(?P<flag_id>[0-9]{1,19})"):
    """The outcome choice shown (ephemerally) after Resolve: "mod:outcome:<flag_id>"."""

    def __init__(self, flag_id: int) -> None:
        options = [discord.SelectOption(label=outcome.label.capitalize(), value=outcome.value) for outcome in Outcome]
        super().__init__(
            ui.Select(
                custom_id=f"mod:outcome:{flag_id}", placeholder="How was this resolved?", options=options, min_values=1, max_values=1
            )
        )
        self.flag_id = flag_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> OutcomeSelect:
        return cls(int(match["flag_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        values = self.item.values
        if not values:
            return
        await handler_of(interaction).outcome_chosen(interaction, self.flag_id, Outcome(values[0]))


class ModeratorTextModal(ui.Modal):
    """Asks a moderator for text: the resolve note (optional), a note or a message (required)."""

    def __init__(self, kind: ActionKind, flag_id: int, outcome: Outcome | None = None) -> None:
        if kind is ActionKind.RESOLVE:
            title = f"Resolve flag #{flag_id}: {outcome.label if outcome else ''}"
            label, required = "Note for the team (optional)", False
        elif kind is ActionKind.NOTE:
            title, label, required = f"Note on flag #{flag_id}", "Internal note (never sent to the user)", True
        else:
            title, label, required = f"Message the user of flag #{flag_id}", "Message (sent as Moderator)", True
        super().__init__(title=title[:45], timeout=MODAL_TIMEOUT_S)
        self.kind = kind
        self.flag_id = flag_id
        self.outcome = outcome
        self.text: ui.TextInput[ModeratorTextModal] = ui.TextInput(
            label=label, style=discord.TextStyle.paragraph, required=required, max_length=NOTE_LIMIT
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await handler_of(interaction).modal_submitted(interaction, self.kind, self.flag_id, self.outcome, self.text.value)


def user_view(buttons: tuple[Button, ...]) -> ui.View | None:
    """A persistent view (no timeout) of the core's buttons, or None when there are none."""
    if not buttons:
        return None
    view = ui.View(timeout=None)
    for button in buttons[:25]:
        view.add_item(UserCommandButton(button.label, button.command))
    return view


def moderator_view(flag_id: int, actions: tuple[ActionKind, ...]) -> ui.View | None:
    """One button per action valid in the flag's state; None removes the buttons."""
    if not actions:
        return None
    view = ui.View(timeout=None)
    for kind in actions[:25]:
        view.add_item(ModeratorButton(kind, flag_id))
    return view


def outcome_view(flag_id: int) -> ui.View:
    view = ui.View(timeout=None)
    view.add_item(OutcomeSelect(flag_id))
    return view


DYNAMIC_ITEMS: tuple[type[ui.DynamicItem[Any]], ...] = (UserCommandButton, ModeratorButton, OutcomeSelect)
