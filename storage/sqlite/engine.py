"""The SQLite engine: one aiosqlite connection in WAL mode, its transactions, its migrations.

Every change runs as one `BEGIN IMMEDIATE` transaction, so invariants hold across
processes too (the write lock is the database's, not ours). A transaction runs
whole in aiosqlite's database thread, in one hop, and the writes that arrive
meanwhile are committed together in the next one (group commit, `storage.engine`):
a morning rush of check-ins costs a few transactions, not thousands.

The named queries it runs are those of `storage.queries`, which PostgreSQL runs too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiosqlite

from storage.engine import Engine, one
from storage.migrations import LATEST, statements
from storage.migrations.sqlite import MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.open_transaction import Query, Work
from storage.sqlite.db_thread import run_in_db_thread

BUSY_TIMEOUT_MS = 15_000
T = TypeVar("T")
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


class SqliteEngine(Engine):
    """Runs the named queries on SQLite: one aiosqlite connection, whose thread runs
    each transaction whole, in one hop."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        db.row_factory = sqlite3.Row
        self._db = db
        super().__init__()

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        await self._db.close()

    async def _read(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a query that only reads, in the database thread, in one hop."""
        return await run_in_db_thread(self._db, lambda db: query(db, *args, **kwargs))

    async def _snapshot(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a query of several reads in one read transaction: they all see one moment."""
        return await run_in_db_thread(self._db, _run_read, lambda db: query(db, *args, **kwargs))

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
