"""What both engines share: the base of their stores, the methods made from named queries,
and the helpers a named query reads its rows with.

`Engine` runs named queries: writes through group commit, in the transaction the updates
in hand share (`storage.open_transaction`), reads alone or in one snapshot. Each engine
subclasses it (`storage.sqlite.engine.SqliteEngine`, `storage.postgres.engine.PgEngine`)
and supplies what is its own: its connection and its database thread, the hops into that
thread, its reads, its schema. The aggregate modules of `storage.queries` make a store's
methods from their named queries (`writes`, `reads`, `finishes`, `snapshot`): plain
functions of a connection that reads like `sqlite3.Connection`, whose rows are read by
column name (`one`, `every`, `from_row`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import fields
from typing import Any, Concatenate, ParamSpec, TypeVar

from snowbot.domain.handling import RedoUpdate, current_update
from storage.migrations import LATEST
from storage.open_transaction import (
    MAX_BATCH,
    OpenTransaction,
    Pending,
    Query,
    SharedTransaction,
    Work,
    settle,
)

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class Engine(SharedTransaction):
    """Runs named queries: writes through group commit, reads alone or in one snapshot.

    The writes' queue and its commits are here; an engine supplies the rest: `_read`,
    `_snapshot`, `_commit` (a batch in one transaction), the open transaction's three
    hops (`SharedTransaction`), its schema and `close`.
    """

    def __init__(self) -> None:
        self._waiting: list[Pending[Any]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._open: OpenTransaction | None = None
        self._wake = asyncio.Event()

    async def close(self) -> None:
        raise NotImplementedError

    async def _write(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `query(connection, *args)` in a write transaction.

        Outside an update: returns once committed. Writes that arrive while a
        transaction runs are committed together in the next one (group commit), each
        inside its own savepoint, so one failing changes nothing of the others.

        For an update being handled (`snowbot.domain.handling`): runs at once in the open
        transaction the update shares with others, and returns before the commit;
        the update's `finish` write commits it all.
        """
        return await self._queue(lambda db: query(db, *args, **kwargs), final=False)

    async def _finish(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """The last write of an update (its handled mark and replies): returns once it and
        everything the update wrote before are committed."""
        return await self._queue(lambda db: query(db, *args, **kwargs), final=True)

    async def _queue(self, work: Work[T], final: bool) -> T:
        scope = current_update()
        if scope is not None and scope.lost:
            raise RedoUpdate(f"update {scope.update_id}: its transaction was lost")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(Pending(work, future, scope, final))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        else:
            self._wake.set()
        return await future

    async def _read(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a query that only reads, in one hop."""
        raise NotImplementedError

    async def _snapshot(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a query of several reads in one read transaction: they all see one moment."""
        raise NotImplementedError

    async def _flush(self) -> None:
        try:
            while True:
                self._wake.clear()
                if self._open is None:
                    if not self._waiting:
                        return
                    if not any(p.scope for p in self._waiting[:MAX_BATCH]):
                        await self._commit_batch()
                        continue
                    self._open = OpenTransaction(asyncio.get_running_loop().time())
                if await self._step_open(self._open):
                    continue
                hold = self._open.hold_left(asyncio.get_running_loop().time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), hold)
        finally:
            self._flushing = None
            if self._open is not None:  # cancelled while one was open: nothing of it stays
                self._open = None
                await self._abort_hop()

    async def _commit_batch(self) -> None:
        """Writes outside any update: one transaction for up to MAX_BATCH of them."""
        batch = self._waiting[:MAX_BATCH]
        del self._waiting[:MAX_BATCH]
        try:
            results = await self._commit([p.work for p in batch])
        except Exception as exc:  # the commit itself failed: nothing of it happened
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
            return
        for p, (ok, value) in zip(batch, results, strict=True):
            settle(p.future, ok, value)

    async def _commit(self, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
        """One write transaction for the batch, in the database thread (each engine's own)."""
        raise NotImplementedError

    # -- schema ------------------------------------------------------------------

    async def schema_version(self) -> int:
        """The latest migration applied; 0 for a new database."""
        raise NotImplementedError

    async def migrate(self, target: int = LATEST) -> int:
        """Apply the missing migrations up to `target`, each in its own transaction."""
        raise NotImplementedError


# -- a store's methods, made from its named queries ---------------------------------------

Method = Callable[Concatenate[Engine, P], Coroutine[Any, Any, T]]


def writes(query: Query[P, T]) -> Method[P, T]:
    """The store method that runs `query` in a write transaction (with group commit)."""

    async def method(self: Engine, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._write(query, *args, **kwargs)

    return _named(method, query)


def reads(query: Query[P, T]) -> Method[P, T]:
    """The store method that runs `query`, which only reads, in one hop."""

    async def method(self: Engine, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._read(query, *args, **kwargs)

    return _named(method, query)


def finishes(query: Query[P, T]) -> Method[P, T]:
    """The store method that runs an update's last write (`Engine._finish`)."""

    async def method(self: Engine, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._finish(query, *args, **kwargs)

    return _named(method, query)


def snapshot(query: Query[P, T]) -> Method[P, T]:
    """The store method that runs `query`'s several reads in one read transaction."""

    async def method(self: Engine, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._snapshot(query, *args, **kwargs)

    return _named(method, query)


def _named(method: Method[P, T], query: Query[P, T]) -> Method[P, T]:
    method.__name__ = method.__qualname__ = query.__name__
    method.__doc__ = query.__doc__
    return method


# -- rows, read inside a named query ------------------------------------------------------


def one(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row of a query run inside a query function, or None."""
    row: sqlite3.Row | None = db.execute(sql, params).fetchone()
    return row


def every(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row of a query run inside a query function."""
    return db.execute(sql, params).fetchall()


def from_row(record: type[R], row: sqlite3.Row, **made: Any) -> R:
    """A record filled from the row's columns of the same names; `made`: fields converted.

    Which column fills which field is worked out by name once per record and column
    list, so filling a record costs little more than a positional call.
    """
    names = tuple(row.keys())
    key = (record, names)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(record, names)
    in_order, columns = plan
    if in_order and not made:
        return record(*row)
    return record(*[made[name] if name in made else row[at] for name, at in columns])


# (record, column names…) -> (whether the columns are the fields in order, (field, column)…)
_PLANS: dict[tuple[Any, tuple[str, ...]], tuple[bool, tuple[tuple[str, int], ...]]] = {}


def _plan(record: Any, names: tuple[str, ...]) -> tuple[bool, tuple[tuple[str, int], ...]]:
    wanted = tuple(f.name for f in fields(record))
    columns = tuple((name, names.index(name) if name in names else -1) for name in wanted)
    return names == wanted, columns
