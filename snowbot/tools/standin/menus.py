"""The command menus as Telegram keeps them: a list per scope and language, set with
setMyCommands and dropped with deleteMyCommands; and the menu a chat shows, found as
Telegram finds it (core.telegram.org/bots/api#determining-list-of-commands)."""

from __future__ import annotations

import json
from typing import Any

Key = tuple[str, str]  # (scope, language code or "")


def scope_of(params: dict[str, Any]) -> str:
    """A call's scope as one word: "default", "all_private_chats", … or "chat:ID"."""
    scope = params.get("scope") or {"type": "default"}
    if isinstance(scope, str):
        scope = json.loads(scope)
    kind = str(scope.get("type", "default"))
    if "chat_id" in scope:
        return f"{kind}:{scope['chat_id']}"
    return kind


class Menus:
    """Every menu set, by scope and language."""

    def __init__(self) -> None:
        self.lists: dict[Key, list[dict[str, Any]]] = {}

    def set(self, params: dict[str, Any]) -> None:
        commands = params.get("commands") or []
        if isinstance(commands, str):
            commands = json.loads(commands)
        key = (scope_of(params), str(params.get("language_code") or ""))
        if commands:
            self.lists[key] = list(commands)
        else:  # an empty list deletes, as Telegram does
            self.lists.pop(key, None)

    def delete(self, params: dict[str, Any]) -> None:
        self.lists.pop((scope_of(params), str(params.get("language_code") or "")), None)

    def shown(
        self, chat_id: int, language: str, *, group: bool = False, admin: bool = False
    ) -> list[str]:
        """The commands (names) a person whose Telegram speaks `language` sees in the menu
        of chat `chat_id`: a private chat, or a group (as one of its admins, with `admin`)."""
        return [str(c["command"]) for c in self.items(chat_id, language, group, admin)]

    def described(self, chat_id: int, language: str) -> dict[str, str]:
        """The private menu of `chat_id`, each command with its description."""
        return {str(c["command"]): str(c["description"]) for c in self.items(chat_id, language)}

    def items(
        self, chat_id: int, language: str, group: bool = False, admin: bool = False
    ) -> list[dict[str, Any]]:
        scopes = [f"chat:{chat_id}"]
        if group:
            scopes += ["all_chat_administrators"] if admin else []
            scopes += ["all_group_chats"]
        else:
            scopes += ["all_private_chats"]
        for scope in [*scopes, "default"]:
            for code in (language, ""):
                found = self.lists.get((scope, code))
                if found:
                    return found
        return []
