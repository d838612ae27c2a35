"""The first and the last step of every update: a redelivery goes no further, and a
handled update is marked, with its replies queued, in the transaction that holds what
it changed (`snowbot.domain.handling`); then its replies go out."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.common import Context, answer_now, replies_of, service
from handlers.errors import apology
from handlers.jobs import courier, deliver_soon
from snowbot.domain.handling import MAX_TRIES, RedoUpdate, current_update, handling

log = logging.getLogger("snowbot")


async def first_delivery(update: Update, context: Context) -> None:
    """An update handled before (the same update_id again) goes no further."""
    if await service(context).already_handled(update.update_id):
        log.info("update %s was delivered again: ignored", update.update_id)
        raise ApplicationHandlerStop


async def handled(update: Update, context: Context) -> None:
    """After every other handler: this update need not be handled again, and its replies
    are queued, committed with what it changed; then they go out at once (the courier
    sends those that must wait for older messages of their chat)."""
    scope = current_update()
    owed = replies_of(context.application).pop(update.update_id, [])
    try:
        claimed = await service(context).handled(update.update_id, owed)
    except RedoUpdate:
        await _again(update, context)
        return
    except Exception as exc:  # the database failed at the last step: nothing is marked
        await _unmarked(update, context, exc)
        return
    for step in scope.after if scope is not None else ():
        try:
            await step()
        except Exception as exc:  # an answer or an edit; what the update did is committed
            log.warning("update %s: a call to Telegram after it failed: %r", update.update_id, exc)
    if claimed:
        await courier(context).send_now(claimed)
    if len(claimed) < len(owed):
        deliver_soon(context)


async def _again(update: Update, context: Context) -> None:
    """The transaction holding the update was lost (PostgreSQL: it clashed with another
    process's): nothing of it was kept or sent, so it is handled again from the start."""
    lost = current_update()
    tries = lost.tries if lost is not None else MAX_TRIES
    if tries >= MAX_TRIES:
        await _unmarked(update, context, RuntimeError(f"lost {tries} times in a row"))
        return
    log.info("update %s clashed with another process: handling it again", update.update_id)
    with handling(update.update_id, tries + 1):
        await context.application.process_update(update)


async def _unmarked(update: Update, context: Context, exc: Exception) -> None:
    """Marking the update failed: it is handled again at the next start (kept in the
    inbox), and its replies were not queued; the person hears only that it failed."""
    service(context).health.handler_errors += 1
    log.error("update %s could not be marked handled: %r", update.update_id, exc, exc_info=exc)
    try:
        text = await apology(update, context)
        if update.callback_query is not None:
            await answer_now(update.callback_query, text, alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text, do_quote=False)
    except Exception as failed:  # the apology is a courtesy; the update is still kept
        log.warning("could not tell the user about the failure: %r", failed)
