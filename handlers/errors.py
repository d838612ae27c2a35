"""The last line of defence: log the failure with its update id or job, apologise, go on."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from handlers.common import Context, service
from snowbot.texts import catalog

log = logging.getLogger("snowbot.errors")


async def on_error(update: object, context: Context) -> None:
    service(context).health.handler_errors += 1
    if not isinstance(update, Update):
        # a scheduled job: it runs again at its next time, and what it owed is still due
        job = context.job.name if context.job else "?"
        log.error("job %s failed: %r", job, context.error, exc_info=context.error)
        return
    log.error("update %s failed: %r", update.update_id, context.error, exc_info=context.error)
    try:
        svc = service(context)
        user = update.effective_user
        person = await svc.person(user.id) if user else None
        text = catalog(svc.language_of(person))("error.generic")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text, do_quote=False)
    except (TelegramError, Exception) as exc:  # never let the apology fail loudly
        log.warning("could not tell the user about the failure: %r", exc)
