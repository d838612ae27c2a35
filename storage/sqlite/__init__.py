"""The embedded default engine: aiosqlite on one SQLite file in WAL mode.

`engine` runs the named queries of `storage.queries` (group commit, snapshots,
migrations), as `storage.postgres` runs the same ones; `functions` holds SQLite's spelling
of the few functions the engines name otherwise.
"""

from __future__ import annotations

from pathlib import Path

from storage.queries import Queries
from storage.sqlite.engine import connect


class SqliteStore(Queries):
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
