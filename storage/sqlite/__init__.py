"""The embedded default engine: aiosqlite on one SQLite file in WAL mode.

`engine` runs the named queries of `storage.queries` (its transactions, snapshots,
migrations, on the base both engines share, `storage.engine`), as `storage.postgres` runs
the same ones; `db_thread` runs a whole transaction as one job, `bulk` loads the
benchmark's storm, `leader` is the lock file of the leading `snowbot run`.
"""

from __future__ import annotations

from pathlib import Path

from storage.queries import Queries
from storage.sqlite.engine import SqliteEngine, connect


class SqliteStore(SqliteEngine, Queries):
    """`snowbot.domain.stores.Store` on SQLite: every aggregate's queries on one connection."""


async def open_store(path: Path | str) -> SqliteStore:
    """Open (creating if needed) the database file and bring its schema up to date."""
    db = await connect(path)
    store = SqliteStore(db)
    try:
        await store.migrate()
    except BaseException:
        await db.close()
        raise
    return store


__all__ = ["SqliteStore", "open_store"]
