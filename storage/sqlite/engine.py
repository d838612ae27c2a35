"""The SQLite engine: one aiosqlite connection in WAL mode, group commit, snapshots, migrations.

Every change runs as one `BEGIN IMMEDIATE` transaction, so invariants hold across
processes too (the write lock is the database's, not ours). A transaction runs
whole in aiosqlite's database thread, in one hop, and the writes that arrive
meanwhile are committed together in the next one (group commit): a morning rush
of check-ins costs a few transactions, not thousands.

The aggregate modules beside this one hold the SQL: each is a set of named queries,
plain functions of a `sqlite3.Connection` whose rows are read by column name.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite

from snowbot.domain.handling import RedoUpdate, current_update
from storage.migrations import LATEST, statements
from storage.migrations.sqlite import MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.open_transaction import (
    MAX_BATCH,
    OpenTransaction,
    Pending,
    Query,
    SharedTransaction,
    Work,
    settle,
)
from storage.sqlite.db_thread import run_in_db_thread

BUSY_TIMEOUT_MS = 15_000
T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


async def connect(path: Path | str) -> aiosqlite.Connection:
    """The connection every store of one database file shares, set up for WAL."""
    db = await aiosqlite.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        db.row_factory = sqlite3.Row  # rows are read by column name
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await db.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode survives a killed process; only power loss can drop the last commits.
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await db.close()
        raise
    return db


class Engine(SharedTransaction):
    """Runs named queries: writes through group commit, reads alone or in one snapshot."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        db.row_factory = sqlite3.Row
        self._db = db
        self._waiting: list[Pending[Any]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._open: OpenTransaction | None = None
        self._wake = asyncio.Event()

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        await self._db.close()

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
        """Run a query that only reads, in the database thread, in one hop."""
        return await run_in_db_thread(self._db, lambda db: query(db, *args, **kwargs))

    async def _snapshot(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a query of several reads in one read transaction: they all see one moment."""
        return await run_in_db_thread(self._db, _run_read, lambda db: query(db, *args, **kwargs))

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

    # -- the open transaction of the updates in hand: one job each in the database thread --

    async def _run_hop(self, works: list[Work[Any]], begin: bool) -> list[tuple[bool, Any]]:
        """Run works in the open transaction (beginning it first), each in a savepoint."""
        return await run_in_db_thread(self._db, _run_open, works, begin)

    async def _commit_hop(self) -> None:
        await run_in_db_thread(self._db, _commit_open)

    async def _abort_hop(self) -> None:
        await run_in_db_thread(self._db, _abort_open)

    async def _commit(self, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
        """One write transaction for the batch, in the database thread (each engine's own)."""
        return await run_in_db_thread(self._db, _run_batch, works)

    # -- schema ------------------------------------------------------------------

    async def schema_version(self) -> int:
        return await self._read(_schema_version)

    async def migrate(self, target: int = LATEST) -> int:
        """Apply the missing migrations up to `target`, each in its own transaction."""
        await self._db.execute(SCHEMA_VERSION_TABLE)
        current = await self.schema_version()
        if current > LATEST:
            raise RuntimeError(
                f"database schema version {current} is newer than this snowbot ({LATEST})"
            )
        # in order, skipping a number that is not (or not yet) there: branches are given
        # their numbers ahead of merging
        for version in sorted(v for v in MIGRATIONS if current < v <= target):
            await self._write(_apply_migration, version)
        return await self.schema_version()


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


# -- run in the database thread --------------------------------------------------------------


def _run_batch(db: sqlite3.Connection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    """One write transaction for a batch of works.

    Works do not fail in the normal course (their conditions are in their SQL), so
    the batch runs straight through; if one does raise, the whole transaction is
    rolled back and run again with each work in a savepoint of its own, so that
    the failing one changes nothing and the others still commit.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        results: list[tuple[bool, Any]] = [(True, work(db)) for work in works]
    except Exception:
        db.execute("ROLLBACK")
        if len(works) == 1:
            raise
        return _run_batch_guarded(db, works)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return results


def _run_open(
    db: sqlite3.Connection, works: list[Work[Any]], begin: bool
) -> list[tuple[bool, Any]]:
    """Works of the updates in hand, in the transaction left open for them."""
    try:
        if begin:
            db.execute("BEGIN IMMEDIATE")
        return _each_in_savepoint(db, works)
    except BaseException:
        _abort_open(db)
        raise


def _commit_open(db: sqlite3.Connection) -> None:
    try:
        db.execute("COMMIT")
    except BaseException:
        _abort_open(db)
        raise


def _abort_open(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        db.execute("ROLLBACK")


def _run_batch_guarded(db: sqlite3.Connection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    try:
        db.execute("BEGIN IMMEDIATE")
        results = _each_in_savepoint(db, works)
        db.execute("COMMIT")
    except BaseException:
        _abort_open(db)
        raise
    return results


def _each_in_savepoint(db: sqlite3.Connection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    """Each work in a savepoint of its own: one that fails changes nothing of the others."""
    results: list[tuple[bool, Any]] = []
    for work in works:
        db.execute("SAVEPOINT work")
        try:
            value = work(db)
        except Exception as exc:
            db.execute("ROLLBACK TO work")
            db.execute("RELEASE work")
            results.append((False, exc))
        else:
            db.execute("RELEASE work")
            results.append((True, value))
    return results


def _run_read(db: sqlite3.Connection, work: Work[T]) -> T:
    if db.in_transaction:  # the updates' open transaction: it reads as one moment too
        return work(db)
    db.execute("BEGIN")
    try:
        return work(db)
    finally:
        db.execute("COMMIT")


def _schema_version(db: sqlite3.Connection) -> int:
    """The latest migration applied; 0 for a new file."""
    known = one(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    )
    if known is None:
        return 0
    found = one(db, "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version")
    return int(found["version"]) if found else 0


def _apply_migration(db: sqlite3.Connection, version: int) -> None:
    for statement in statements(MIGRATIONS[version]):
        db.execute(statement)
    db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


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
