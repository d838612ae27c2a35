"""The PostgreSQL engine: the SQLite engine's named queries on one psycopg connection.

Like the SQLite engine it runs every query in one database thread of its own, whole
transactions in one hop, and commits the writes that arrive meanwhile together (group
commit), each in a savepoint when one fails.

Invariants: SQLite lets one writer at a time (BEGIN IMMEDIATE), so a query may read
and then write inside its transaction. Here every write transaction is SERIALIZABLE
instead: PostgreSQL lets it commit only if running it alone would have given the same
result, and otherwise fails it with a serialization failure (40001) or a deadlock
(40P01); then the whole batch runs again, from its first read. So the named queries
are the same on both engines, with no `FOR UPDATE` to remember on each read.
"""

from __future__ import annotations

import asyncio
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import psycopg
from psycopg import errors

from storage.migrations import LATEST, MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.open_transaction import OpenTransaction, Pending, Query, TransactionLost, Work
from storage.postgres.connection import PgConnection
from storage.postgres.dialect import ddl, migration_sql
from storage.sqlite.engine import Engine, P, _statements

T = TypeVar("T")

MAX_BATCH = 256
# a batch that keeps meeting other processes' transactions gives up after this many tries
MAX_TRIES = 30
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)
# pg_advisory_lock key held while migrating, so two processes starting at once take turns
MIGRATION_LOCK = 0x736E6F77  # "snow"


class PgEngine(Engine):
    """Runs the named queries on PostgreSQL: the same methods as the SQLite engine."""

    def __init__(self, conn: PgConnection) -> None:  # not super().__init__: that is SQLite's
        self._pg = conn
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snowbot-pg")
        self._waiting: list[Pending[Any]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._open: OpenTransaction | None = None
        self._wake = asyncio.Event()

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, _revived, self._pg, fn, args
        )

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        await self._in_thread(self._pg.close)
        self._thread.shutdown(wait=True)

    async def _read(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        db = cast(Any, self._pg)
        return cast(T, await self._in_thread(lambda: query(db, *args, **kwargs)))

    async def _snapshot(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        db = cast(Any, self._pg)
        return cast(
            T, await self._in_thread(_run_read, self._pg, lambda: query(db, *args, **kwargs))
        )

    async def _commit(self, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
        """The batch as one SERIALIZABLE transaction (group commit as on SQLite)."""
        return cast(list[tuple[bool, Any]], await self._in_thread(_run_batch, self._pg, works))

    async def _run_hop(self, works: list[Work[Any]], begin: bool) -> list[tuple[bool, Any]]:
        return cast(
            list[tuple[bool, Any]], await self._in_thread(_run_open, self._pg, works, begin)
        )

    async def _commit_hop(self) -> None:
        await self._in_thread(_commit_open, self._pg)

    async def _abort_hop(self) -> None:
        await self._in_thread(_rollback, self._pg)

    # -- schema ------------------------------------------------------------------

    async def schema_version(self) -> int:
        return cast(int, await self._in_thread(_schema_version, self._pg))

    async def migrate(self, target: int = LATEST) -> int:
        """Apply the missing migrations up to `target`, each in its own transaction."""
        return cast(int, await self._in_thread(_migrate, self._pg, target))


# -- run in the database thread --------------------------------------------------------------


def _revived(db: PgConnection, fn: Any, args: tuple[Any, ...]) -> Any:
    if fn != db.close:  # (a new bound method each time: equal, not identical)
        db.revive()
    return fn(*args)


def _run_batch(db: PgConnection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    """One SERIALIZABLE transaction for a batch of works, run again whole when PostgreSQL
    finds it clashed with another process's; a failing work is isolated as on SQLite."""
    guarded = False
    for attempt in range(MAX_TRIES):
        try:
            return _run_guarded(db, works) if guarded else _run_straight(db, works)
        except RETRYABLE:
            if attempt == MAX_TRIES - 1:
                raise
            time.sleep(random.uniform(0.001, 0.005 * (attempt + 1)))
        except _WorkFailed:
            guarded = True
    raise AssertionError("unreachable")


class _WorkFailed(Exception):
    """A work raised in a straight batch: run the batch again, each work guarded."""


def _run_straight(db: PgConnection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    sql = cast(Any, db)
    db.script("BEGIN ISOLATION LEVEL SERIALIZABLE")
    try:
        results: list[tuple[bool, Any]] = [(True, work(sql)) for work in works]
        db.script("COMMIT")
    except RETRYABLE:
        _rollback(db)
        raise
    except Exception:
        _rollback(db)
        if len(works) == 1:
            raise
        raise _WorkFailed from None
    except BaseException:
        _rollback(db)
        raise
    return results


def _run_guarded(db: PgConnection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    sql = cast(Any, db)
    db.script("BEGIN ISOLATION LEVEL SERIALIZABLE")
    results: list[tuple[bool, Any]] = []
    try:
        for work in works:
            db.script("SAVEPOINT work")
            try:
                value = work(sql)
            except RETRYABLE:
                raise
            except Exception as exc:
                db.script("ROLLBACK TO SAVEPOINT work")
                db.script("RELEASE SAVEPOINT work")
                results.append((False, exc))
            else:
                db.script("RELEASE SAVEPOINT work")
                results.append((True, value))
        db.script("COMMIT")
    except BaseException:
        _rollback(db)
        raise
    return results


def _run_open(db: PgConnection, works: list[Work[Any]], begin: bool) -> list[tuple[bool, Any]]:
    """Works of the updates in hand in the SERIALIZABLE transaction left open for them,
    each in a savepoint; a serialization failure loses the whole transaction."""
    sql = cast(Any, db)
    results: list[tuple[bool, Any]] = []
    try:
        if begin:
            db.script("BEGIN ISOLATION LEVEL SERIALIZABLE")
        else:
            _still_open(db)
        for work in works:
            db.script("SAVEPOINT work")
            try:
                value = work(sql)
            except RETRYABLE:
                raise
            except Exception as exc:
                db.script("ROLLBACK TO SAVEPOINT work")
                db.script("RELEASE SAVEPOINT work")
                results.append((False, exc))
            else:
                db.script("RELEASE SAVEPOINT work")
                results.append((True, value))
    except RETRYABLE:
        _rollback(db)
        raise TransactionLost from None
    except BaseException:
        _rollback(db)
        raise
    return results


def _still_open(db: PgConnection) -> None:
    """The connection was lost and made again since the transaction began: the server
    rolled it back, so the updates in it are handled again."""
    if db.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        raise errors.SerializationFailure("the connection was lost mid-transaction")


def _commit_open(db: PgConnection) -> None:
    try:
        _still_open(db)
        db.script("COMMIT")
    except RETRYABLE:
        _rollback(db)
        raise TransactionLost from None
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: PgConnection) -> None:
    if db.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        db.script("ROLLBACK")


def _run_read(db: PgConnection, work: Any) -> Any:
    if db.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return work()  # the updates' open transaction: one snapshot already
    db.script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        return work()
    finally:
        _rollback(db)


def _schema_version(db: PgConnection) -> int:
    known = db.execute("SELECT to_regclass('schema_version') IS NOT NULL AS known").fetchone()
    if known is None or not known["known"]:
        return 0
    found = db.execute("SELECT COALESCE(MAX(version), 0) AS version FROM schema_version").fetchone()
    return int(found["version"]) if found else 0


def _migrate(db: PgConnection, target: int) -> int:
    db.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
    try:
        db.script(ddl(SCHEMA_VERSION_TABLE))
        current = _schema_version(db)
        if current > LATEST:
            raise RuntimeError(
                f"database schema version {current} is newer than this snowbot ({LATEST})"
            )
        for version in sorted(v for v in MIGRATIONS if current < v <= target):
            db.script("BEGIN")
            try:
                for statement in _statements(migration_sql(version, MIGRATIONS[version])):
                    db.script(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                db.script("COMMIT")
            except BaseException:
                _rollback(db)
                raise
        return _schema_version(db)
    finally:
        db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))
