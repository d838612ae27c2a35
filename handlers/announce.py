"""Task announcements, edited as people join and finish (they are sent by the outbox)."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from handlers.buttons import task_buttons
from snowbot.render import task_line
from snowbot.service import Snowbot
from snowbot.texts import catalog
from storage.records import Task

log = logging.getLogger("snowbot.announce")


async def refresh(bot: Bot, service: Snowbot, task: Task) -> list[tuple[int, int]]:
    """Bring every announcement of the task up to date ("2/3", done, cancelled).

    Returns the (chat id, message id) of each announcement, edited or not.
    """
    places = await service.store.announcements(task.id)
    for chat_id, message_id in places:
        t = catalog(await service.chat_language(chat_id))
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
