"""What the registry (`handlers.registry`) says of one command."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers.common import Context
from snowbot.domain.roles import Role

# the kinds of chat a command is offered in
PRIVATE = frozenset({"private"})
GROUP = frozenset({"group"})
BOTH = PRIVATE | GROUP


@dataclass(frozen=True)
class Command:
    """One command. `help`: the catalog key of its /help line ("" when another command's
    line names it too, None when /help need not list it); `more`: further help lines for
    higher roles (`/unit add` for coordinators); `words`: what may be typed without the
    slash to mean it in a private chat (read by `handlers.words` and `handlers.checkin`;
    tests/test_commands.py holds them together)."""

    name: str
    handler: Callable[[Update, Context], Coroutine[Any, Any, None]]
    role: Role
    chats: frozenset[str] = BOTH
    help: str | None = ""
    more: tuple[tuple[Role, str], ...] = ()
    words: tuple[str, ...] = ()

    @property
    def help_key(self) -> str | None:
        """The catalog key of its own /help line, if it has one."""
        if self.help is None:
            return None
        return self.help or f"help_lines.{self.name}"

    @property
    def menu_key(self) -> str:
        return f"commands.{self.name}"
