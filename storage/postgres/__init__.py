"""PostgreSQL: the same store, the same named queries, on a shared database server.

`functions` holds PostgreSQL's spelling of the few SQL functions it names otherwise than
SQLite, `storage.migrations.postgres` its schema; `dialect` turns the queries' `?`
parameters into psycopg's (and nothing else), `connection` makes a psycopg connection
read like sqlite3's, `engine` runs the queries (group commit, SERIALIZABLE retries).
"""

from __future__ import annotations

import asyncio

from storage.postgres.connection import PgConnection
from storage.postgres.engine import PgEngine
from storage.queries import Queries

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(address: object) -> bool:
    """Whether a `[storage] database` value names a PostgreSQL database (a URL)."""
    return isinstance(address, str) and address.startswith(SCHEMES)


class PostgresStore(PgEngine, Queries):
    """`snowbot.domain.stores.Store` on PostgreSQL: the aggregate stores' named queries (written
    in the SQL both engines accept) on the PostgreSQL engine."""

    async def data_version(self) -> int:
        """The server's next transaction id: it moves whenever any process writes (and
        with anything else written on the server: a change too many, never one missed)."""
        return int(await self._reading(_next_transaction))


def _next_transaction(db: PgConnection) -> int:
    row = db.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()
    return int(row[0]) if row is not None else 0


async def open_postgres(url: str) -> PostgresStore:
    """Connect to the database the URL names and bring its schema up to date."""
    conn = await asyncio.to_thread(PgConnection.open, url)
    store = PostgresStore(conn)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store


__all__ = ["PostgresStore", "is_postgres", "open_postgres"]
