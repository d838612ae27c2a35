"""The PostgreSQL engine: the named queries of `storage.queries` on one psycopg connection.

Like the SQLite engine it runs every query in one database thread of its own, whole
transactions in one hop, and commits the writes that arrive meanwhile together (group
commit, `storage.engine`, the base of both), each in a savepoint when one fails.

Invariants: SQLite lets one writer at a time (BEGIN IMMEDIATE), so a query may read
and then write inside its transaction. Here every write transaction is SERIALIZABLE
instead: PostgreSQL lets it commit only if running it alone would have given the same
result, and otherwise fails it with a serialization failure (40001) or a deadlock
(40P01); then the whole batch runs again, from its first read. So the named queries
are the same on both engines, with no `FOR UPDATE` to remember on each read.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import psycopg
from psycopg import errors

from snowbot.domain.handling import RedoUpdate, current_update
from storage.engine import Engine, P
from storage.migrations import LATEST, statements
from storage.migrations.postgres import MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.open_transaction import Query, TransactionLost, Work
from storage.postgres.connection import PgConnection

T = TypeVar("T")

# a batch that keeps meeting other processes' transactions gives up after this many tries
MAX_TRIES = 30
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)
# pg_advisory_lock key held while migrating, so two processes starting at once take turns
MIGRATION_LOCK = 0x736E6F77  # "snow"
# the table every write transaction locks first, so that the writers of several processes
# take turns, as SQLite's do (BEGIN IMMEDIATE), instead of failing each other. A table lock
# and not an advisory one: LOCK TABLE is the one way to wait for the turn before the
# transaction's snapshot is taken (a SELECT of pg_advisory_xact_lock takes it first, and the
# transaction then fails against the very writer it waited for). No one writes this table
# but a migration, and its readers are not kept out (EXCLUSIVE admits ACCESS SHARE).
WRITE_TURN = "LOCK TABLE schema_version IN EXCLUSIVE MODE"


class PgEngine(Engine):
    """Runs the named queries on PostgreSQL: the same methods as the SQLite engine."""

    def __init__(self, conn: PgConnection) -> None:
        self._pg = conn
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snowbot-pg")
        super().__init__()
        self._reader: PgConnection | None = None  # reads outside any update (`_reading`)

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, _revived, self._pg, fn, args
        )

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        if self._reader is not None:
            await self._in_thread(self._reader.close)
        await self._in_thread(self._pg.close)
        self._thread.shutdown(wait=True)

    async def _read(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, await self._reading(lambda db: query(cast(Any, db), *args, **kwargs)))

    async def _snapshot(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(
            T,
            await self._reading(
                lambda db: _run_read(db, lambda: query(cast(Any, db), *args, **kwargs))
            ),
        )

    async def _reading(self, read: Callable[[PgConnection], Any]) -> Any:
        """A read. An update's reads run in its open transaction (they see what it wrote);
        one failing there has lost it, and the update is handled again. Every other read
        (the courier, the scheduler, the overview) runs on a connection of its own and
        sees only what is committed, without joining anyone's transaction."""
        scope = current_update()
        if scope is None:
            return await self._in_thread(self._on_reader, read)
        try:
            return await self._in_thread(read, self._pg)
        except psycopg.Error as exc:
            if self._open is None:
                raise
            scope.lost = True
            raise RedoUpdate(f"update {scope.update_id}: {type(exc).__name__}") from exc

    def _on_reader(self, read: Callable[[PgConnection], Any]) -> Any:
        """(In the database thread.) `read` on the reading connection, made when first
        needed (the writer's, for a connection made without its address)."""
        if not self._pg.url:
            return read(self._pg)
        if self._reader is None:
            self._reader = PgConnection.open(self._pg.url)
        self._reader.revive()
        return read(self._reader)

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
    try:
        with db.pipelined():  # a failure comes out when its answer is read, or at the sync
            _begin_writing(db)
            results: list[tuple[bool, Any]] = [(True, work(sql)) for work in works]
            db.script("COMMIT")
            db.sync()
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
    try:
        with db.pipelined():
            _begin_writing(db)
            results = _each_in_savepoint(db, works)
            db.script("COMMIT")
            db.sync()
    except BaseException:
        _rollback(db)
        raise
    return results


def _each_in_savepoint(db: PgConnection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    """Each work in a savepoint of its own, waited for at its end (pipeline mode), so that
    what fails is known to be its own and rolled back alone; a serialization failure is
    raised, as it loses the whole transaction."""
    sql = cast(Any, db)
    results: list[tuple[bool, Any]] = []
    for work in works:
        db.script("SAVEPOINT work")
        try:
            value = work(sql)
            db.sync()
        except RETRYABLE:
            raise
        except Exception as exc:
            _resync(db)  # the pipeline takes statements again only after a sync
            db.script("ROLLBACK TO SAVEPOINT work")
            db.script("RELEASE SAVEPOINT work")
            results.append((False, exc))
        else:
            db.script("RELEASE SAVEPOINT work")
            results.append((True, value))
    return results


def _resync(db: PgConnection) -> None:
    """After a failure read from the pipeline: its end, whose own answer is that failure
    again (or nothing), so that the next statements run."""
    with contextlib.suppress(psycopg.Error):
        db.sync()


def _run_open(db: PgConnection, works: list[Work[Any]], begin: bool) -> list[tuple[bool, Any]]:
    """Works of the updates in hand in the SERIALIZABLE transaction left open for them,
    each in a savepoint; a serialization failure loses the whole transaction."""
    try:
        if not begin:
            _still_open(db)
        with db.pipelined():
            if begin:
                _begin_writing(db)
            results = _each_in_savepoint(db, works)
            db.sync()
    except RETRYABLE:
        _rollback(db)
        raise TransactionLost from None
    except BaseException:
        _rollback(db)
        raise
    return results


def _still_open(db: PgConnection) -> None:
    """The transaction is gone (the connection was lost and made again: the server rolled
    it back) or spoilt (a read in it failed): the updates in it are handled again."""
    status = db.raw.info.transaction_status
    if status == psycopg.pq.TransactionStatus.IDLE:
        raise errors.SerializationFailure("the connection was lost mid-transaction")
    if status == psycopg.pq.TransactionStatus.INERROR:
        raise errors.SerializationFailure("a read failed in the transaction")


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


def _begin_writing(db: PgConnection) -> None:
    """A write transaction, SERIALIZABLE, once the other processes' writers are done.

    SERIALIZABLE alone holds every invariant, but each transaction that clashes with
    another process's is lost whole, and an update's transaction holds several updates
    while their handlers run (`snowbot.domain.handling`): under a morning rush two webhook
    processes would lose them over and over. Taking turns costs no round trip in
    pipeline mode, and SERIALIZABLE still guards against any writer that does not.
    """
    db.script("BEGIN ISOLATION LEVEL SERIALIZABLE")
    db.script(WRITE_TURN)


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
        db.script(SCHEMA_VERSION_TABLE)
        current = _schema_version(db)
        if current > LATEST:
            raise RuntimeError(
                f"database schema version {current} is newer than this snowbot ({LATEST})"
            )
        for version in sorted(v for v in MIGRATIONS if current < v <= target):
            db.script("BEGIN")
            try:
                for statement in statements(MIGRATIONS[version]):
                    db.script(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                db.script("COMMIT")
            except BaseException:
                _rollback(db)
                raise
        return _schema_version(db)
    finally:
        db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))
