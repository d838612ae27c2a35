"""What every handler needs: the service, the person and their language, safe replies.

`action` wraps a handler so that a `Refused` from the domain becomes a localised
reply, and bad input never escapes as an exception.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from snowbot.domain import limits
from snowbot.domain.handling import current_update
from snowbot.domain.messages import LANE_REPLY, Outgoing
from snowbot.domain.model import Street
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Person, Snowbot
from snowbot.settings.config import CityConfig
from snowbot.text.texts import Catalog, catalog

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
    """A refusal's values as the reader's language writes them: a role or the city by its
    name, a list
    of names joined as the language joins them, suggested streets one a line."""
    return {name: _localised(t, value) for name, value in params.items()}


def _localised(t: Catalog, value: Any) -> Any:
    if isinstance(value, Role):
        return t(f"role.{value.key}")
    if isinstance(value, CityConfig):  # the city, as the reader's language names it
        return value.display_name(t.language)
    if isinstance(value, list) and all(isinstance(v, Street) for v in value):
        return "\n".join(
            t("suggest.street", street=s.name, district=s.district, id=s.id) for s in value
        )
    if isinstance(value, list):
        return t("suggest.separator").join(str(v) for v in value)
    return value


REPLIES_KEY = "replies"


def replies_of(app: Application) -> dict[int, list[Outgoing]]:  # type: ignore[type-arg]
    """The replies each update in hand owes, by update id, until it is marked handled."""
    found: dict[int, list[Outgoing]] = app.bot_data.setdefault(REPLIES_KEY, {})
    return found


def owe(update: Update, context: Context, message: Outgoing) -> None:
    """Add to what the update owes; keyed by the update and the reply's place in it, unless
    it has a key of its own (a question whose sent copies are edited later: `copy_key`)."""
    owed = replies_of(context.application).setdefault(update.update_id, [])
    if message.key:
        owed.append(replace(message, lane=LANE_REPLY))
    else:
        owed.append(replace(message, key=f"reply:{update.update_id}:{len(owed)}"))


async def reply(
    update: Update,
    context: Context,
    text: str,
    copy_key: str = "",
    lang: str = "",
    **kwargs: Any,
) -> None:
    """Answer in the chat the update came from (`copy_key`: the outbox key its sent copy is
    found by, in language `lang`, to be edited when its question is withdrawn; see
    `storage.queries.outbox.sent_copies`).

    The answer is not sent here: it is queued in the outbox in the transaction that marks
    the update handled (see `handlers.app`), and sent right after. So an update handled
    again after a crash has answered no one yet, and nobody hears back twice; and what the
    answer confirms, committed already, is never left untold by an outage.
    """
    message = update.effective_message
    if message is None:
        return
    markup: TelegramObject | None = kwargs.get("reply_markup")
    text = text[: limits.MAX_MESSAGE]
    owe(
        update,
        context,
        Outgoing(
            copy_key, message.chat_id, lang, text=text, markup=markup.to_json() if markup else None
        ),
    )


def reply_task(update: Update, context: Context, me: Who, template: str, task_id: int) -> None:
    """Answer with a task shown as it is when sent, with its buttons (see `reply`); the
    message becomes one of the task's announcements, edited as the task changes."""
    message = update.effective_message
    if message is not None:
        shown = Outgoing("", message.chat_id, me.t.language, task_id=task_id, template=template)
        owe(update, context, shown)


async def say(update: Update, context: Context, chat_id: int, text: str) -> None:
    """A message an update owes to a chat other than its own, queued like a reply."""
    owe(update, context, Outgoing("", chat_id, "", text=text[: limits.MAX_MESSAGE]))


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


async def after_commit(step: Callable[[], Awaitable[None]]) -> None:
    """Do `step` once the update in hand is committed (at once outside an update).

    For calls to Telegram that are not messages (a button's answer, an edit): made
    mid-update, each would hold the transaction that every update in hand shares
    (`snowbot.domain.handling`) for a round trip to Telegram, and so everyone's replies.
    """
    scope = current_update()
    if scope is None:
        await step()
    else:
        scope.after.append(step)


async def answer_press(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press, once what it did is committed. The answer is a passing
    notice: if Telegram cannot take it then, it is not worth keeping, and what the
    press did still stands and is shown."""
    await after_commit(lambda: answer_now(query, text, alert))


async def answer_now(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press now (see `answer_press`)."""
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
