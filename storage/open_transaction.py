"""The transaction the updates in hand share (`snowbot.domain.handling`), on either engine.

Each update's writes run at once in a transaction kept open for the updates being
handled together, each write in a savepoint of its own (one failing changes nothing of
the others), and each hands its result back at once. The transaction commits when
every update in it has written its handled mark and replies (or ended without them),
so an update is never kept half-done. Writes from outside any update (the inbox as
it is fetched, the courier, the scheduler's sweeps) ride along and are told only once
it has committed.

An update joins an open transaction until one of its updates is marked (or for
`JOIN_SECONDS` at most): later ones wait for the next, as writes waited for the next
group commit before. A transaction waits at most `HOLD_SECONDS` for its updates to
end; one still busy then goes on in the next transaction, its earlier writes committed
without its mark, as every write was committed before this transaction was shared.
Calls to Telegram are made after the commit for this reason (`handlers.common.after_commit`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from snowbot.domain.handling import RedoUpdate, UpdateScope

T = TypeVar("T")
P = ParamSpec("P")
Work = Callable[[sqlite3.Connection], T]
Query = Callable[Concatenate[sqlite3.Connection, P], T]

MAX_BATCH = 256  # writes run (or updates joining) in one hop at most
JOIN_SECONDS = 0.2
HOLD_SECONDS = 1.0


class TransactionLost(Exception):
    """The database gave the open transaction up (PostgreSQL: a serialization failure
    or a deadlock against another process); it is rolled back already."""


@dataclass(eq=False)
class Pending(Generic[T]):
    """A write waiting to run: its work, who waits for it, and the update it is of."""

    work: Work[T]
    future: asyncio.Future[T]
    scope: UpdateScope | None
    final: bool  # the update's handled mark: told only once committed


@dataclass(eq=False)
class OpenTransaction:
    started: float
    begun: bool = False
    closing: bool = False  # an update in it is marked: it commits once the rest are
    members: list[UpdateScope] = field(default_factory=list)
    # run, not yet told: writes from outside any update, and the updates' marks
    held: list[tuple[Pending[Any], bool, Any]] = field(default_factory=list)

    def admits(self, scope: UpdateScope | None, now: float) -> bool:
        if scope is None or scope.transaction is self:
            return True
        if self.closing or now - self.started >= JOIN_SECONDS or len(self.members) >= MAX_BATCH:
            return False
        scope.transaction = self
        self.members.append(scope)
        return True

    def ready(self, now: float) -> bool:
        return now - self.started >= HOLD_SECONDS or all(m.ended for m in self.members)

    def hold_left(self, now: float) -> float:
        return max(0.001, self.started + HOLD_SECONDS - now)


def settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class SharedTransaction:
    """The steps of the updates' open transaction; the engine supplies the three hops
    into its database thread and the waiting writes."""

    _waiting: list[Pending[Any]]
    _open: OpenTransaction | None
    _wake: asyncio.Event

    async def _run_hop(self, works: list[Work[Any]], begin: bool) -> list[tuple[bool, Any]]:
        raise NotImplementedError

    async def _commit_hop(self) -> None:
        raise NotImplementedError

    async def _abort_hop(self) -> None:
        raise NotImplementedError

    async def _step_open(self, tx: OpenTransaction) -> bool:
        """Run the writes that may join `tx`, or commit it once its updates have ended.
        False when there is nothing to do but wait."""
        now = asyncio.get_running_loop().time()
        ready: list[Pending[Any]] = []
        rest: list[Pending[Any]] = []
        for p in self._waiting:
            if p.scope is not None and p.scope.lost:
                p.future.set_exception(RedoUpdate(f"update {p.scope.update_id}: lost"))
            elif len(ready) < MAX_BATCH and tx.admits(p.scope, now):
                if p.scope is not None:
                    p.scope.on_end(self._wake.set)
                ready.append(p)
            else:
                rest.append(p)
        self._waiting = rest
        if ready:
            await self._run_open(tx, ready)
            return True
        if tx.begun and tx.ready(now):
            await self._commit_open(tx)
            return True
        if not tx.begun:  # nothing joined after all
            self._open = None
            return True
        return False

    async def _run_open(self, tx: OpenTransaction, ready: list[Pending[Any]]) -> None:
        try:
            results = await self._run_hop([p.work for p in ready], not tx.begun)
        except TransactionLost:
            await self._lose(tx, ready, None)
            return
        except Exception as exc:  # the database failed beyond one write: all of it is gone
            await self._lose(tx, ready, exc)
            return
        tx.begun = True
        for p, (ok, value) in zip(ready, results, strict=True):
            if p.scope is None or p.final:
                tx.held.append((p, ok, value))
                if p.scope is not None:
                    p.scope.end()  # marked handled: nothing more of it to wait for
                    tx.closing = True
            else:
                settle(p.future, ok, value)

    async def _commit_open(self, tx: OpenTransaction) -> None:
        self._open = None
        try:
            await self._commit_hop()
        except TransactionLost:
            await self._lose(tx, [], None)
            return
        except Exception as exc:
            await self._lose(tx, [], exc)
            return
        for scope in tx.members:
            if scope.transaction is tx:
                scope.transaction = None
        for p, ok, value in tx.held:
            settle(p.future, ok, value)

    async def _lose(
        self, tx: OpenTransaction, running: list[Pending[Any]], exc: Exception | None
    ) -> None:
        """Nothing of `tx` is kept: its updates are handled again, and writes from outside
        any update run again in the next transaction (or, after a failure, are told it)."""
        self._open = None
        await self._abort_hop()
        for scope in tx.members:  # their next write, or their mark, says so
            scope.lost, scope.transaction = True, None
        again: list[Pending[Any]] = []
        for p in [*running, *(held for held, _, _ in tx.held)]:
            if p.scope is not None:
                p.scope.lost = True
                settle(p.future, False, RedoUpdate(f"update {p.scope.update_id}: lost"))
            elif exc is None:
                again.append(p)
            else:
                settle(p.future, False, exc)
        self._waiting[:0] = again
