"""The last line of defence: log the failure with its update id or job, apologise, go on.

A failed update's apology is queued like any reply: the update is still marked handled
(`handlers.app`, after every feature handler) in the transaction that queues it, so a
crash in between has the update handled again and apologised for once.
"""

from __future__ import annotations

import logging

from telegram import Update

from handlers.common import Context, answer_press, reply, service
from snowbot.domain.handling import RedoUpdate
from snowbot.text.texts import catalog

log = logging.getLogger("snowbot.settings.errors")


async def on_error(update: object, context: Context) -> None:
    if isinstance(context.error, RedoUpdate):  # handled again after it (handlers.marking)
        log.info("an update's transaction was lost: it is handled again")
        return
    service(context).health.handler_errors += 1
    if not isinstance(update, Update):
        # a scheduled job: it runs again at its next time, and what it owed is still due
        job = context.job.name if context.job else "?"
        log.error("job %s failed: %r", job, context.error, exc_info=context.error)
        return
    log.error("update %s failed: %r", update.update_id, context.error, exc_info=context.error)
    try:
        text = await apology(update, context)
        if update.callback_query is not None:  # a passing notice, answered now or never
            await answer_press(update.callback_query, text, alert=True)
        else:  # queued with the update's mark, after the feature handlers (handlers.app)
            await reply(update, context, text)
    except Exception as exc:  # never let the apology fail loudly
        log.warning("could not tell the user about the failure: %r", exc)


async def apology(update: Update, context: Context) -> str:
    """ "Something went wrong", in the language of the person the update came from."""
    svc = service(context)
    user = update.effective_user
    person = await svc.person(user.id) if user else None
    return catalog(svc.language_of(person))("error.generic")
