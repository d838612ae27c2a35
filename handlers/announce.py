"""Task announcements: posted to the district's groups, edited as people join and finish."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers.buttons import task_buttons
from snowbot.render import task_line
from snowbot.service import Snowbot
from snowbot.texts import Catalog, catalog
from storage.records import Task

log = logging.getLogger("snowbot.announce")


async def chat_catalog(bot: Snowbot, chat_id: int) -> Catalog:
    """A private chat speaks its user's language; groups the city's default."""
    if chat_id > 0:
        return catalog(bot.language_of(await bot.person(chat_id)))
    return catalog(bot.config.language)


async def announce(bot: Bot, service: Snowbot, task: Task, chats: list[int]) -> None:
    """Post a new task to each bound group, remembering where, so it can be edited later."""
    for chat_id in chats:
        t = await chat_catalog(service, chat_id)
        text = t("newtask.announce", task=task_line(t, task))
        try:
            sent = await bot.send_message(chat_id, text, reply_markup=task_buttons(t, task))
        except (Forbidden, BadRequest) as exc:
            log.warning("announcement of #%s to chat %s failed: %s", task.id, chat_id, exc)
            continue
        await service.store.add_announcement(task.id, chat_id, sent.message_id)


async def refresh(bot: Bot, service: Snowbot, task: Task) -> list[tuple[int, int]]:
    """Bring every announcement of the task up to date ("2/3", done, cancelled).

    Returns the (chat id, message id) of each announcement, edited or not.
    """
    places = await service.store.announcements(task.id)
    for chat_id, message_id in places:
        t = await chat_catalog(service, chat_id)
        try:
            await bot.edit_message_text(
                t("newtask.announce", task=task_line(t, task)),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=task_buttons(t, task),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning("editing #%s in chat %s failed: %s", task.id, chat_id, exc)
        except TelegramError as exc:
            log.warning("editing #%s in chat %s failed: %s", task.id, chat_id, exc)
    return places
