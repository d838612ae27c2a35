"""No fetched update is lost to a crash.

python-telegram-bot's updater confirms updates to Telegram with its next
getUpdates call, whether or not they have been handled yet. So the bot keeps
each batch in the database as it is fetched, before that next call; at start-up,
those it kept but never handled (it was killed mid-burst) are handled first.
A replayed update that Telegram also delivers again is handled once: each
person's updates are handled in order, and a handled one is skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, ExtBot

from handlers.common import Context, service
from handlers.ordering import SharedUpdateProcessor, person_of

log = logging.getLogger("snowbot.inbox")

# keeps (update id, JSON body) pairs, with whose each update is (by update id)
Keeper = Callable[[list[tuple[int, str]], dict[int, int]], Awaitable[None]]


def _kept(keeper: Keeper, updates: Sequence[Update]) -> Awaitable[None]:
    people = {u.update_id: p for u in updates if (p := person_of(u)) is not None}
    return keeper([(u.update_id, u.to_json()) for u in updates], people)


def inbox_bot(keeper: Keeper, **settings: Any) -> ExtBot[int]:
    """An ExtBot that hands every fetched batch of updates to `keeper` before returning it.

    A Bot is immutable once built, so the keeper is not stored on it: the subclass
    closes over it (overriding `get_updates`, a public method, is all it takes).
    """

    class InboxBot(ExtBot[int]):  # int: the rate limiter's extra argument
        async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
            updates = await super().get_updates(*args, **kwargs)
            if updates:
                await _kept(keeper, updates)
            return updates

    return InboxBot(**settings)


class KeepingQueue(asyncio.Queue[object]):
    """The update queue of a webhook: each update is kept before it is queued, and so
    before the webhook answers Telegram 200 (after which Telegram never sends it again)."""

    def __init__(self, keeper: Keeper) -> None:
        super().__init__()
        self._keeper = keeper

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await _kept(self._keeper, [item])
        await super().put(item)


async def replay(app: Application, bodies: list[str]) -> int:  # type: ignore[type-arg]
    """Queue the updates kept but never handled; returns how many."""
    for body in bodies:
        await app.update_queue.put(Update.de_json(json.loads(body), app.bot))
    if bodies:
        log.warning(
            "%d updates fetched before the last stop were not handled: handling them", len(bodies)
        )
    return len(bodies)


async def replay_orphans(context: Context) -> None:
    """Several webhook processes: queue here the updates kept long ago and still
    unhandled (their process died), but not those this process has in hand. Another
    survivor may queue them too: the person's turn lets one handle each, once."""
    app = context.application
    processor = app.update_processor
    in_hand = processor.in_hand if isinstance(processor, SharedUpdateProcessor) else set()
    bodies = await service(context).orphan_updates()
    updates = [Update.de_json(json.loads(body), app.bot) for body in bodies]
    orphans = [u for u in updates if u.update_id not in in_hand]
    for update in orphans:
        await app.update_queue.put(update)
    if orphans:
        log.warning(
            "%d updates another process took in were left unhandled: handling them", len(orphans)
        )
