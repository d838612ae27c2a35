"""/help and Telegram's command menus, made from the registry (`handlers.registry`).

Telegram shows a private chat the menu of the narrowest scope set for it: the chat's own
(`BotCommandScopeChat`), else all private chats', else the default; a group, its
administrators' menu to them, else all groups'; each first in the reader's language,
then without one. So newcomers' private menu (guests', or cadres' with open enrolment)
is set for all private chats in zh, en and without a language (the bot's own), groups
get theirs, and whoever's role offers a different menu gets it in their own chat, in
their language: set after the commit that changed the role, never before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError
from telegram.ext import Application

from handlers.command import Command
from handlers.common import Context, after_commit, service, service_of
from snowbot.domain.roles import Role
from snowbot.service import Snowbot
from snowbot.text.texts import LANGUAGES, Catalog, catalog

log = logging.getLogger("snowbot.handlers")
COMMANDS_KEY = "snowbot.commands"  # bot_data: the registry's commands
MENU_LOCK_KEY = "snowbot.menu_lock"  # bot_data: one menu change at a time


def commands_of(app: Application) -> Sequence[Command]:  # type: ignore[type-arg]
    found: Sequence[Command] = app.bot_data[COMMANDS_KEY]
    return found


def offered(commands: Sequence[Command], role: Role, chat: str) -> list[Command]:
    """The commands a person of `role` is offered in a chat of kind `chat`."""
    return [c for c in commands if c.role <= role and chat in c.chats]


# -- /help ----------------------------------------------------------------------------------


def help_text(t: Catalog, role: Role, commands: Sequence[Command]) -> str:
    """What `role` can do: a line a command, by the least role that may use it, each role's
    commands under their own heading; a guest is also told how to join."""
    if role == Role.GUEST:
        lines = [t("help_lines.head_guest"), *_lines(t, commands, Role.GUEST, Role.GUEST)]
        return "\n".join([*lines, "", t("help_lines.join")])
    parts = ["\n".join([t("help_lines.head_cadre"), *_lines(t, commands, Role.GUEST, Role.CADRE)])]
    for higher in (Role.DISPATCHER, Role.COORDINATOR):
        if role >= higher:
            head = t(f"help_lines.head_{higher.key}")
            parts.append("\n".join([head, *_lines(t, commands, higher, higher)]))
    return "\n\n".join(parts)


def _lines(t: Catalog, commands: Sequence[Command], low: Role, high: Role) -> list[str]:
    """The help lines of the commands whose least role is from `low` to `high`, then the
    further lines (`Command.more`) of that section's roles."""
    own = [t(c.help_key) for c in commands if c.help_key and low <= c.role <= high]
    more = [t(key) for c in commands for (r, key) in c.more if low <= r <= high]
    return own + more


def help_for(context: Context, t: Catalog, role: Role) -> str:
    return help_text(t, role, commands_of(context.application))


# -- menus ----------------------------------------------------------------------------------


def menu(t: Catalog, role: Role, chat: str, commands: Sequence[Command]) -> list[BotCommand]:
    return [BotCommand(c.name, t(c.menu_key)) for c in offered(commands, role, chat)]


def newcomer(svc: Snowbot) -> Role:
    """The role of someone who just wrote to the bot: the all-private-chats menu's."""
    return Role.CADRE if svc.config.access.open else Role.GUEST


async def set_menus(app: Application) -> None:  # type: ignore[type-arg]
    """Every shared scope's menu, in each language and without one (the bot's language);
    then the coordinators' and dispatchers' own (the commands may have changed since)."""
    svc, commands = service_of(app), commands_of(app)
    shared: list[tuple[BotCommandScope, Role, str]] = [
        (BotCommandScopeDefault(), newcomer(svc), "private"),
        (BotCommandScopeAllPrivateChats(), newcomer(svc), "private"),
        (BotCommandScopeAllGroupChats(), Role.CADRE, "group"),
        (BotCommandScopeAllChatAdministrators(), Role.COORDINATOR, "group"),
    ]
    for scope, role, chat in shared:
        for language in (*LANGUAGES, None):
            t = catalog(language or svc.config.language)
            await app.bot.set_my_commands(menu(t, role, chat, commands), scope, language)
    people = set(svc.config.coordinators) | {u.id for u in await svc.dispatchers()}
    for user_id in sorted(people):
        await person_menu(app.bot, svc, commands, user_id)


async def person_menu(bot: Bot, svc: Snowbot, commands: Sequence[Command], user_id: int) -> None:
    """Set (or drop, when it is the newcomers') the menu of one person's private chat, as
    their role and language are now. Someone who never wrote to the bot has no chat yet:
    theirs is set at their /start."""
    person = await svc.person(user_id)
    if person is None or not person.user.registered:
        return
    scope = BotCommandScopeChat(user_id)
    t = catalog(svc.language_of(person))
    mine = menu(t, person.role, "private", commands)
    try:
        if [c.command for c in mine] == [c.command for c in _newcomers(svc, commands)]:
            await bot.delete_my_commands(scope)
        else:
            await bot.set_my_commands(mine, scope)
    except TelegramError as exc:  # a menu is a convenience: the commands work without it
        log.warning("setting the command menu of %s failed: %s", user_id, exc)


def _newcomers(svc: Snowbot, commands: Sequence[Command]) -> list[BotCommand]:
    return menu(catalog(svc.config.language), newcomer(svc), "private", commands)


async def refresh_menu(context: Context, user_id: int) -> None:
    """Once this update is committed, set `user_id`'s menu to their role and language as
    they are then: beside the replies, not before them (a round trip to Telegram each), one
    person's menu at a time, so that the last change read is the one Telegram keeps."""
    app = context.application
    svc, commands = service(context), commands_of(app)
    lock: asyncio.Lock = app.bot_data.setdefault(MENU_LOCK_KEY, asyncio.Lock())

    async def refresh() -> None:
        async with lock:
            await person_menu(app.bot, svc, commands, user_id)

    async def start() -> None:
        # a stopping bot sets no more menus: the task would outlive the Application and
        # could reach a closed database; the next start sets every dispatcher's and
        # coordinator's menu again, and a cadre's comes with their next /start or /lang
        if app.running:
            app.create_task(refresh())  # awaited by the Application's stop

    await after_commit(start)
