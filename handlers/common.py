"""What every handler needs: the service, the person and their language, safe replies.

`action` wraps a handler so that a `Refused` from the domain becomes a localised
reply, and bad input never escapes as an exception.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from snowbot import limits
from snowbot.refusals import Refused
from snowbot.service import Person, Snowbot
from snowbot.texts import Catalog, catalog

log = logging.getLogger("snowbot.handlers")
Context = ContextTypes.DEFAULT_TYPE
SERVICE_KEY = "snowbot"


def service(context: Context) -> Snowbot:
    found: Snowbot = context.application.bot_data[SERVICE_KEY]
    return found


@dataclass(frozen=True)
class Who:
    """The person behind an update and the catalog to answer them in."""

    person: Person
    t: Catalog
    chat_id: int
    private: bool


async def who(update: Update, context: Context) -> Who | None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    bot = service(context)
    name = user.full_name[: limits.MAX_PERSON_NAME]
    person = await bot.meet(user.id, name, user.username, user.language_code)
    return Who(person, catalog(bot.language_of(person)), chat.id, chat.type == ChatType.PRIVATE)


Handler = Callable[[Update, Context, Who], Coroutine[Any, Any, None]]


def action(handler: Handler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """Meet the sender, run the handler, and answer a refusal in the sender's language."""

    @functools.wraps(handler)
    async def wrapped(update: Update, context: Context) -> None:
        me = await who(update, context)
        if me is None:
            return
        try:
            await handler(update, context, me)
        except Refused as refused:
            await reply(update, me.t(refused.key, **refused.params))

    return wrapped


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Answer in the chat the update came from."""
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text[:4096], do_quote=False, **kwargs)


def args_of(context: Context) -> list[str]:
    return list(context.args or [])
