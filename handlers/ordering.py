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
import contextlib
import heapq
import inspect
import logging
import os
import secrets
import socket
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from snowbot.domain.handling import handling
from snowbot.domain.model import Turn

MAX_CONCURRENT_UPDATES = 256
# python-telegram-bot's own limit is taken before `do_process_update` is called, that is
# before a person's turn comes: one person's thousand locations would hold every slot while
# they wait for each other, and everyone else would wait behind them. So PTB's limit is set
# out of reach and the real one is taken here, once it is this person's turn.
_UNLIMITED = 1_000_000
# how often a person's waiter asks again for a turn another process holds (or that waits
# for an older update another process has): the pause grows from the first to the most
TURN_POLL_FIRST, TURN_POLL_MOST = 0.005, 0.1

log = logging.getLogger("snowbot")


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(_UNLIMITED)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._queues: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # updates the inbox dropped (their person's backlog was full): marked handled
        # there, never handled here (polling still hands them over, for its offset)
        self.dropped: set[int] = set()

    def skip_dropped(self, update: object, coroutine: Awaitable[Any]) -> bool:
        if not isinstance(update, Update) or update.update_id not in self.dropped:
            return False
        self.dropped.discard(update.update_id)
        if inspect.iscoroutine(coroutine):
            coroutine.close()
        return True

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.skip_dropped(update, coroutine):
            return
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
    """The database's turns (the service): see `snowbot.domain.model.Turn`."""

    async def take_turn(self, person: int, update_id: int, holder: str) -> Turn: ...
    async def turn_may_be_free(self, person: int, update_id: int, holder: str) -> bool: ...
    async def give_back_turn(self, person: int, update_id: int, holder: str) -> None: ...


@dataclass(eq=False)
class _Waiting:
    """One of a person's updates in this process, until it is its turn (`go`) and until
    its handling has ended (`done`)."""

    update_id: int
    go: asyncio.Future[Turn]
    done: asyncio.Future[None]

    def __lt__(self, other: _Waiting) -> bool:  # a heap of them: the oldest first
        return _age(self.update_id) < _age(other.update_id)


def _age(update_id: int) -> tuple[int, int]:
    """How old an update is among a person's: Telegram's by their (positive) ids; an act in
    the Mini App (`handlers.miniapp`: minus the microsecond it was made) after them all,
    the earlier act first, as the database orders them (`take_turn`)."""
    return (0, update_id) if update_id >= 0 else (1, -update_id)


@dataclass(eq=False)
class _Line:
    """A person's updates in this process, oldest first, and their one waiter."""

    waiting: list[_Waiting] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    waiter: asyncio.Task[None] | None = None


class SharedUpdateProcessor(PerPersonUpdateProcessor):
    """Several webhook processes serving one bot (PostgreSQL): a person's updates may come
    to any of them, so the order is kept in the database rather than in this process.

    An update is handled once its process has the person's turn, which the database gives
    only to the oldest kept-but-unhandled update of that person, and to one live process
    at a time; the process gives the turn back once the update is handled and its replies
    are handed to Telegram, so that the person's next reply, from another process, cannot
    overtake them. In this process each person has one waiter, which asks for the turn
    of the person's oldest update here, and no more than that: the person's other updates
    wait in memory, so a flood costs the database one question at a time, not one per
    update (a question per update per pause was what stalled everyone, issue 27).
    """

    def __init__(self, turns: Turns, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._turns = turns
        # one process among several: its turns, and the updates it keeps, are told apart
        # by this (and it is alive while its heartbeat, under this name, is renewed)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        # update ids kept here (`handlers.inbox.KeepingQueue`) and not yet handled
        self.in_hand: set[int] = set()
        self._lines: dict[int, _Line] = {}

    def waiting(self, person: int) -> int:
        """How many of the person's updates wait here for their turn."""
        line = self._lines.get(person)
        return 0 if line is None else len(line.waiting)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = person_of(update)
        if key is None or not isinstance(update, Update) or update.update_id in self.dropped:
            await super().do_process_update(update, coroutine)
            return
        update_id = update.update_id
        self.in_hand.add(update_id)
        loop = asyncio.get_running_loop()
        mine = _Waiting(update_id, loop.create_future(), loop.create_future())
        try:
            line = self._lines.get(key)
            if line is None:
                line = self._lines[key] = _Line()
                line.waiter = asyncio.create_task(self._wait_turns(key, line))
            heapq.heappush(line.waiting, mine)
            line.arrived.set()
            if await mine.go is Turn.HANDLED:
                if inspect.iscoroutine(coroutine):
                    coroutine.close()  # handled by another process: nothing to run
                return
            try:
                async with self._slots:
                    await _handling(update, coroutine)
            finally:  # its replies handed over (or it failed): the person's next may go
                await asyncio.shield(self._turns.give_back_turn(key, update_id, self.holder))
        finally:
            if not mine.go.done():
                mine.go.cancel()
            if not mine.done.done():
                mine.done.set_result(None)
            self.in_hand.discard(update_id)

    async def _wait_turns(self, person: int, line: _Line) -> None:
        """The person's one waiter here: the oldest of their updates in this process is
        given the turn, then the next once its handling ended; until none is left."""
        pause = TURN_POLL_FIRST
        try:
            while line.waiting:
                head = line.waiting[0]
                if head.go.done():  # its task was cancelled (the bot stops)
                    heapq.heappop(line.waiting)
                    continue
                try:
                    # after a first no, it reads until the turn looks free: a write then
                    if pause > TURN_POLL_FIRST and not await self._turns.turn_may_be_free(
                        person, head.update_id, self.holder
                    ):
                        turn = Turn.WAIT
                    else:
                        turn = await self._turns.take_turn(person, head.update_id, self.holder)
                except Exception as exc:  # the database: ask again after a pause
                    log.warning("could not ask for the turn of %s: %r", head.update_id, exc)
                    turn = Turn.WAIT
                if turn is Turn.WAIT:
                    # an older update may arrive here meanwhile: it goes first
                    line.arrived.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(line.arrived.wait(), pause)
                    pause = min(pause * 2, TURN_POLL_MOST)
                    continue
                pause = TURN_POLL_FIRST
                heapq.heappop(line.waiting)
                if not head.go.done():
                    head.go.set_result(turn)
                await head.done
        finally:
            for left in line.waiting:  # cancelled with the bot: nobody waits for nothing
                if not left.go.done():
                    left.go.cancel()
            if self._lines.get(person) is line:
                del self._lines[person]


async def _handling(update: object, coroutine: Awaitable[Any]) -> None:
    """Handle the update as one transaction (`snowbot.domain.handling`)."""
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
