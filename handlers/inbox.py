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
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, ExtBot

from handlers.common import SERVICE_KEY, Context, service
from handlers.ordering import SharedUpdateProcessor, person_of
from snowbot.service.delivery import HEARTBEAT_SECONDS

# a person whose update the database dropped (backlog full) has their next ones dropped
# here for this long without asking it (a flood's would each take a transaction); then
# the database is asked again. A speed-up only: what is full is the database's to say
FULL_SECONDS = 0.5
ORPHANS_EVERY_SECONDS = 5.0  # several webhook processes: how often each looks for orphans

log = logging.getLogger("snowbot.inbox")

# keeps (update id, JSON body) pairs, with whose each update is (by update id) and its
# sender's language code; returns the ids of those dropped (their person's backlog is full)
Keeper = Callable[
    [list[tuple[int, str]], dict[int, int], dict[int, str | None]], Awaitable[list[int]]
]


def _kept(keeper: Keeper, updates: Sequence[Update]) -> Awaitable[list[int]]:
    people = {u.update_id: p for u in updates if (p := person_of(u)) is not None}
    languages = {
        u.update_id: u.effective_user.language_code for u in updates if u.effective_user is not None
    }
    return keeper([(u.update_id, u.to_json()) for u in updates], people, languages)


def inbox_bot(keeper: Keeper, dropped: set[int], **settings: Any) -> ExtBot[int]:
    """An ExtBot that hands every fetched batch of updates to `keeper` before returning it;
    the ids of those the keeper dropped go into `dropped` (the update processor skips
    them: they are still returned, as the next getUpdates confirms them by the last id).

    A Bot is immutable once built, so the keeper is not stored on it: the subclass
    closes over it (overriding `get_updates`, a public method, is all it takes).
    """

    class InboxBot(ExtBot[int]):  # int: the rate limiter's extra argument
        async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
            updates = await super().get_updates(*args, **kwargs)
            if updates:
                dropped.update(await _kept(keeper, updates))
            return updates

    return InboxBot(**settings)


class LocalDrops:
    """Several webhook processes: a person with `bound` updates waiting in this process's
    own memory has a full backlog whatever the database says, so their next updates are
    dropped at once, without a transaction each (a flood's thousand would take the time
    of everyone else's), and marked handled in the background, many at a time."""

    def __init__(
        self,
        waiting: Callable[[int], int],
        bound: int,
        drop: Callable[[dict[int, int], dict[int, str | None]], Awaitable[None]],
    ) -> None:
        self._waiting, self._bound, self._drop = waiting, bound, drop
        self._people: dict[int, int] = {}
        self._languages: dict[int, str | None] = {}
        self._flushing: asyncio.Task[None] | None = None
        self._full_until: dict[int, float] = {}  # person -> this process's monotonic clock

    def full(self, update: Update) -> None:
        """The database dropped this update: its person's backlog is full, which holds for
        their next updates for a moment (FULL_SECONDS) without asking it each time."""
        person = person_of(update)
        if person is not None:
            self._full_until[person] = time.monotonic() + FULL_SECONDS

    def take(self, update: Update) -> bool:
        """Whether the update is dropped here (its person's backlog is full)."""
        person = person_of(update)
        if person is None:
            return False
        until = self._full_until.get(person)
        if until is not None and until < time.monotonic():
            del self._full_until[person]
            until = None
        if until is None and self._waiting(person) < self._bound:
            return False
        self._people[update.update_id] = person
        user = update.effective_user
        self._languages[update.update_id] = user.language_code if user is not None else None
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return True

    async def _flush(self) -> None:
        while self._people:
            people, languages = self._people, self._languages
            self._people, self._languages = {}, {}
            try:
                await self._drop(people, languages)
            except Exception as exc:  # never handled all the same: Telegram had its 200
                log.warning("could not mark %d dropped updates: %r", len(people), exc)


class KeepingQueue(asyncio.Queue[object]):
    """The update queue of a webhook: each update is kept before it is queued, and so
    before the webhook answers Telegram 200 (after which Telegram never sends it again);
    one the keeper dropped is not queued. `in_hand`: the ids of those kept here and not
    handled yet (several processes: another process never takes them for orphans)."""

    def __init__(
        self, keeper: Keeper, in_hand: set[int] | None = None, drops: LocalDrops | None = None
    ) -> None:
        super().__init__()
        self._keeper = keeper
        self._in_hand = in_hand
        self._drops = drops

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            if self._drops is not None and self._drops.take(item):
                return
            if self._in_hand is not None:
                self._in_hand.add(item.update_id)
            if item.update_id in await _kept(self._keeper, [item]):
                if self._in_hand is not None:
                    self._in_hand.discard(item.update_id)
                if self._drops is not None:
                    self._drops.full(item)
                return  # acknowledged and dropped: Telegram is answered 200 all the same
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
    """Several webhook processes: queue here the updates kept and unhandled whose process
    is not alive (it died, or stopped), claimed for this one in the database so that no
    other survivor queues them too; a live process's are never taken."""
    app = context.application
    processor = app.update_processor
    if not isinstance(processor, SharedUpdateProcessor):
        return
    bodies = await service(context).claim_orphans(processor.holder)
    updates = [Update.de_json(json.loads(body), app.bot) for body in bodies]
    orphans = [u for u in updates if u.update_id not in processor.in_hand]
    for update in orphans:
        processor.in_hand.add(update.update_id)
        await app.update_queue.put(update)
    if orphans:
        log.warning(
            "%d updates another process took in were left unhandled: handling them", len(orphans)
        )


async def heartbeat(context: Context) -> None:
    """Several webhook processes: this one is alive (`snowbot.service.delivery`)."""
    processor = context.application.update_processor
    if isinstance(processor, SharedUpdateProcessor):
        try:
            await service(context).beat(processor.holder)
        except Exception as exc:  # the database: the next beat tries again
            log.warning("could not renew this process's heartbeat: %r", exc)


async def start_sharing(app: Application) -> None:  # type: ignore[type-arg]
    """One of several webhook processes: alive from now on (before it serves), renewing
    its heartbeat, and looking for orphans now and then."""
    processor = app.update_processor
    assert isinstance(processor, SharedUpdateProcessor) and app.job_queue is not None
    await app.bot_data[SERVICE_KEY].beat(processor.holder)
    app.job_queue.run_repeating(heartbeat, interval=HEARTBEAT_SECONDS, name="heartbeat")
    app.job_queue.run_repeating(
        replay_orphans, interval=ORPHANS_EVERY_SECONDS, first=0, name="orphans"
    )


async def leave(app: Application) -> None:  # type: ignore[type-arg]
    """The process stops: what it kept and did not handle is another's to handle now."""
    processor = app.update_processor
    if isinstance(processor, SharedUpdateProcessor):
        try:
            await app.bot_data[SERVICE_KEY].leave(processor.holder)
        except Exception as exc:  # its heartbeat runs out instead
            log.warning("could not say this process stops: %r", exc)
