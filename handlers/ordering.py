"""Updates from different people are handled at once; one person's, in the order sent.

A morning rush is thousands of people each sending a location: handling them
concurrently lets the storage commit many check-ins together (group commit). But
"/checkin 5" and then the location must be handled in that order, as must two
presses of one button, so each person's updates wait for the one before; and a person
waiting for their own earlier update holds none of the shared places, so one person's
flood delays only that person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from snowbot.handling import handling

MAX_CONCURRENT_UPDATES = 256
# python-telegram-bot's own limit is taken before `do_process_update` is called, that is
# before a person's turn comes: one person's thousand locations would hold every slot while
# they wait for each other, and everyone else would wait behind them. So PTB's limit is set
# out of reach and the real one is taken here, once it is this person's turn.
_UNLIMITED = 1_000_000


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(_UNLIMITED)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._queues: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _person(update)
        if key is None:
            async with self._slots:
                await _handling(update, coroutine)
            return
        lock = self._queues.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:  # asyncio.Lock is first come, first served
                await _handling(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle people: memory stays bounded
                del self._waiting[key]
                del self._queues[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


async def _handling(update: object, coroutine: Awaitable[Any]) -> None:
    """Handle the update as one transaction (`snowbot.handling`)."""
    if not isinstance(update, Update):
        await coroutine
        return
    with handling(update.update_id):
        await coroutine


def _person(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None
