"""Task announcements, edited as people join and finish (they are sent by the outbox).

An edit Telegram cannot take now (an outage, a flood wait) is not lost: the task is
marked stale and the courier edits it again once Telegram answers, so a group never
keeps showing "0/3 open" for a task three people took during the outage.
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from handlers.buttons import task_buttons
from handlers.common import after_commit
from snowbot.domain.model import Task
from snowbot.service import Snowbot
from snowbot.service.outbox import task_text
from snowbot.text.texts import catalog

log = logging.getLogger("snowbot.announce")

STALE_BATCH = 20  # stale tasks edited per delivery


async def refresh(bot: Bot, service: Snowbot, task: Task) -> list[tuple[int, int]]:
    """Bring every announcement of the task up to date ("2/3", done, cancelled), once the
    change is committed. Returns the (chat id, message id) of each announcement.
    """
    places = await service.announcements(task.id)

    async def edit() -> None:
        if not await _edit(bot, service, task, places):
            await service.mark_stale([task.id])

    await after_commit(edit)  # shown once committed, without holding the transaction
    return places


async def refresh_stale(bot: Bot, service: Snowbot) -> int:
    """Edit the announcements that an outage left behind; returns how many tasks were done.

    Stops at the first that still cannot be edited (Telegram is not back after all), and
    leaves it and the rest marked.
    """
    taken = await service.take_stale(STALE_BATCH)
    if not taken:
        return 0
    for done, task_id in enumerate(taken):
        task = await service.task(task_id)
        if task is None:  # a task of an ended incident: its announcements stay as they were
            continue
        if not await _edit(bot, service, task, await service.announcements(task_id)):
            await service.mark_stale(taken[done:])
            return done
    return len(taken)


async def _edit(bot: Bot, service: Snowbot, task: Task, places: list[tuple[int, int]]) -> bool:
    """Edit each announcement; False when Telegram could not take an edit now."""
    for chat_id, message_id in places:
        lang = await service.chat_language(chat_id)
        t = catalog(lang)
        try:
            await bot.edit_message_text(
                await task_text(service, lang, task, "newtask.announce"),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=task_buttons(t, task),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning("editing #%s in chat %s failed: %s", task.id, chat_id, exc)
        except (NetworkError, RetryAfter) as exc:
            log.warning("editing #%s in chat %s failed: %s; again later", task.id, chat_id, exc)
            return False
        except TelegramError as exc:
            log.warning("editing #%s in chat %s failed: %s", task.id, chat_id, exc)
    return True
