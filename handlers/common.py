"""What every handler needs: the service, the person and their language, safe replies.

`action` wraps a handler so that a `Refused` from the domain becomes a localised
reply, and bad input never escapes as an exception.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from snowbot import limits
from snowbot.model import Street
from snowbot.refusals import Refused
from snowbot.roles import Role
from snowbot.service import Person, Snowbot
from snowbot.texts import Catalog, catalog

log = logging.getLogger("snowbot.handlers")
Context = ContextTypes.DEFAULT_TYPE
SERVICE_KEY = "snowbot"


def service(context: Context) -> Snowbot:
    """The snow-clearing service behind this Application (not `context.bot`, Telegram's)."""
    return service_of(context.application)


def service_of(app: Application) -> Snowbot:  # type: ignore[type-arg]
    found: Snowbot = app.bot_data[SERVICE_KEY]
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
    svc = service(context)
    name = user.full_name[: limits.MAX_PERSON_NAME]
    person = await svc.meet(user.id, name, user.username, user.language_code)
    return Who(person, catalog(svc.language_of(person)), chat.id, chat.type == ChatType.PRIVATE)


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
            await reply(update, context, me.t(refused.key, **localised(me.t, refused.params)))

    return wrapped


def localised(t: Catalog, params: dict[str, Any]) -> dict[str, Any]:
    """A refusal's values as the reader's language writes them: a role by its name, a list
    of names joined as the language joins them, suggested streets one a line."""
    return {name: _localised(t, value) for name, value in params.items()}


def _localised(t: Catalog, value: Any) -> Any:
    if isinstance(value, Role):
        return t(f"role.{value.key}")
    if isinstance(value, list) and all(isinstance(v, Street) for v in value):
        return "\n".join(
            t("suggest.street", street=s.name, district=s.district, id=s.id) for s in value
        )
    if isinstance(value, list):
        return t("suggest.separator").join(str(v) for v in value)
    return value


async def reply(update: Update, context: Context, text: str, **kwargs: Any) -> Message | None:
    """Answer in the chat the update came from.

    What the answer confirms is already committed, so it must not be lost to an outage:
    when Telegram cannot take it now (a network error, a 5xx, a flood wait that outlasted
    the rate limiter's retries), the outbox sends it, with its buttons, once Telegram can;
    None is returned then. A timeout may have delivered it after all: then it comes twice,
    which is better than a cadre on the street never hearing that the check-in counted.
    """
    message = update.effective_message
    if message is None:
        return None
    text = text[: limits.MAX_MESSAGE]
    try:
        return await message.reply_text(text, do_quote=False, **kwargs)
    except BadRequest:  # the message itself is wrong: sending it later would not help
        raise
    except (NetworkError, RetryAfter) as exc:
        await _keep(update, context, message.chat_id, text, kwargs.get("reply_markup"), exc)
        return None


async def say(update: Update, context: Context, chat_id: int, text: str) -> None:
    """Send a message an update owes to a chat other than its own, kept like a reply."""
    text = text[: limits.MAX_MESSAGE]
    try:
        await context.bot.send_message(chat_id, text)
    except BadRequest as exc:
        log.warning("telling chat %s failed: %s", chat_id, exc)
    except (NetworkError, RetryAfter) as exc:
        await _keep(update, context, chat_id, text, None, exc)


async def _keep(
    update: Update,
    context: Context,
    chat_id: int,
    text: str,
    markup: TelegramObject | None,
    exc: Exception,
) -> None:
    await service(context).reply_later(
        update.update_id, chat_id, text, markup.to_json() if markup else None
    )
    log.warning("the reply to update %s waits in the outbox: %s", update.update_id, exc)


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def markup_from_json(text: str | None, bot: Bot) -> Markup | None:
    """The buttons or keyboard of a reply kept in the outbox (see `reply`)."""
    if not text:
        return None
    data = json.loads(text)
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, bot)
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, bot)
    if "remove_keyboard" in data:
        return ReplyKeyboardRemove.de_json(data, bot)
    return ForceReply.de_json(data, bot)


def args_of(context: Context) -> list[str]:
    return list(context.args or [])


PressT = TypeVar("PressT")


async def answer_press(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press. The answer is a passing notice: if Telegram cannot take it
    now, it is not worth keeping, and what the press did still stands and is shown."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:
        log.warning("answering a button press failed: %s", exc)


async def pressed(
    update: Update, context: Context, decode: Callable[[str | None], PressT | None]
) -> tuple[CallbackQuery, Who, PressT] | None:
    """A button press, read: the query, who pressed and what (the versioned data decoded).

    None when there is nothing to do: a press from nobody we can answer is answered
    silently, and stale or forged data gets the "button.stale" alert."""
    query = update.callback_query
    if query is None:
        return None
    me = await who(update, context)
    if me is None:
        await answer_press(query)
        return None
    press = decode(query.data)
    if press is None:
        await answer_press(query, me.t("button.stale"), alert=True)
        return None
    return query, me, press
