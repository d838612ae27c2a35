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
import inspect
import os
import secrets
import socket
from collections.abc import Awaitable
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from snowbot.handling import handling
from snowbot.model import Turn

MAX_CONCURRENT_UPDATES = 256
# python-telegram-bot's own limit is taken before `do_process_update` is called, that is
# before a person's turn comes: one person's thousand locations would hold every slot while
# they wait for each other, and everyone else would wait behind them. So PTB's limit is set
# out of reach and the real one is taken here, once it is this person's turn.
_UNLIMITED = 1_000_000
# how often an update waiting for its person's turn held by another process asks again
TURN_POLL_FIRST, TURN_POLL_MOST = 0.01, 0.25


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(_UNLIMITED)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._queues: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = person_of(update)
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


class Turns(Protocol):
    """The database's turns (the service): see `snowbot.model.Turn`."""

    async def take_turn(self, person: int, update_id: int, holder: str) -> Turn: ...
    async def give_back_turn(self, person: int, update_id: int, holder: str) -> None: ...


class SharedUpdateProcessor(PerPersonUpdateProcessor):
    """Several webhook processes serving one bot (PostgreSQL): a person's updates may come
    to any of them, so the order is kept in the database rather than in this process.

    An update is handled once its process has the person's turn, which the database gives
    only to the oldest kept-but-unhandled update of that person, and to one process at a
    time; the process gives the turn back once the update is handled and its replies are
    handed to Telegram, so that the person's next reply, from another process, cannot
    overtake them. No in-process lock: the database alone orders, so updates that arrive
    here out of order wait for each other without a deadlock.
    """

    def __init__(self, turns: Turns, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._turns = turns
        # one process among several: its turns are told apart by this
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.in_hand: set[int] = set()  # update ids queued here and not yet handled

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = person_of(update)
        if key is None or not isinstance(update, Update):
            await super().do_process_update(update, coroutine)
            return
        update_id = update.update_id
        self.in_hand.add(update_id)
        try:
            if await self._wait_for_turn(key, update_id) is Turn.HANDLED:
                if inspect.iscoroutine(coroutine):
                    coroutine.close()  # handled by another process: nothing to run
                return
            try:
                async with self._slots:
                    await _handling(update, coroutine)
            finally:  # its replies handed over (or it failed): the person's next may go
                await asyncio.shield(self._turns.give_back_turn(key, update_id, self.holder))
        finally:
            self.in_hand.discard(update_id)

    async def _wait_for_turn(self, person: int, update_id: int) -> Turn:
        pause = TURN_POLL_FIRST
        while (turn := await self._turns.take_turn(person, update_id, self.holder)) is Turn.WAIT:
            await asyncio.sleep(pause)
            pause = min(pause * 2, TURN_POLL_MOST)
        return turn


async def _handling(update: object, coroutine: Awaitable[Any]) -> None:
    """Handle the update as one transaction (`snowbot.handling`)."""
    if not isinstance(update, Update):
        await coroutine
        return
    with handling(update.update_id):
        await coroutine


def person_of(update: object) -> int | None:
    """Whose update it is: the sender, or the chat (a channel post); None: nobody's."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None
