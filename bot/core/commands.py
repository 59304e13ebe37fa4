"""The user commands the core understands, and how to parse them.

Adapters publish `USER_COMMANDS` as platform menus (Telegram setMyCommands, Discord
slash commands); the core parses the text, so `/word` typed in any chat works the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    START = "start"
    HELP = "help"
    CONSENT = "consent"
    AGREE = "agree"
    DECLINE = "decline"
    FORGET = "forget"
    CONFIRM_FORGET = "confirm_forget"
    CANCEL = "cancel"
    EXPORT = "export"
    RESOURCES = "resources"
    COUNTRY = "country"
    HUMAN = "human"
    RESET = "reset"


@dataclass(frozen=True)
class CommandSpec:
    command: Command
    descriptions: dict[str, str]  # language -> short description (menus)
    takes_argument: bool = False

    def description(self, language: str) -> str:
        return self.descriptions.get(language, self.descriptions["en"])


# The commands shown in platform menus (button-only commands such as /agree are not listed).
USER_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(Command.START, {"en": "Start and see how this bot works", "fr": "Commencer et voir comment ce bot fonctionne", "es": "Empezar y ver cómo funciona este bot"}),
    CommandSpec(Command.HELP, {"en": "What I can do and the commands", "fr": "Ce que je peux faire et les commandes", "es": "Lo que puedo hacer y los comandos"}),
    CommandSpec(Command.RESOURCES, {"en": "Crisis lines and emergency numbers", "fr": "Lignes d'écoute et numéros d'urgence", "es": "Líneas de crisis y números de emergencia"}),
    CommandSpec(Command.HUMAN, {"en": "Ask for a human moderator", "fr": "Demander un modérateur humain", "es": "Pedir un moderador humano"}),
    CommandSpec(Command.COUNTRY, {"en": "Set your country for helplines, e.g. /country FR", "fr": "Choisir votre pays pour les lignes d'aide, ex. /country FR", "es": "Elegir tu país para las líneas de ayuda, p. ej. /country ES"}, takes_argument=True),
    CommandSpec(Command.CONSENT, {"en": "See or change what is stored", "fr": "Voir ou changer ce qui est conservé", "es": "Ver o cambiar lo que se guarda"}),
    CommandSpec(Command.EXPORT, {"en": "Get a copy of your data", "fr": "Obtenir une copie de vos données", "es": "Obtener una copia de tus datos"}),
    CommandSpec(Command.FORGET, {"en": "Erase your data", "fr": "Effacer vos données", "es": "Borrar tus datos"}),
    CommandSpec(Command.RESET, {"en": "Start a new conversation", "fr": "Commencer une nouvelle conversation", "es": "Empezar una conversación nueva"}),
)

_COMMAND_RE = re.compile(r"^/(?P<name>[A-Za-z_]{1,32})(?:@\w+)?(?:\s+(?P<arg>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # lower-cased; may be unknown
    argument: str

    @property
    def command(self) -> Command | None:
        try:
            return Command(self.name)
        except ValueError:
            return None


def parse_command(text: str) -> ParsedCommand | None:
    """`/name args` (Telegram's `/name@botname` too) → ParsedCommand; other text → None."""
    match = _COMMAND_RE.match(text.strip())
    if match is None:
        return None
    return ParsedCommand(match["name"].lower(), (match["arg"] or "").strip())
