"""Storage: the only package with SQL. It implements the domain's store interfaces
(`snowbot.domain.stores`) with the domain's records (`snowbot.domain.model`), and imports nothing
else of snowbot."""

from __future__ import annotations

from pathlib import Path

from snowbot.settings.leadership import Leadership
from storage.postgres import PostgresStore, is_postgres, open_postgres
from storage.queries import Queries
from storage.sqlite import SqliteStore
from storage.sqlite import open_store as open_sqlite
from storage.sqlite.leader import FileLeadership


async def open_store(address: Path | str) -> Queries:
    """The store a `[storage] database` value names: a PostgreSQL URL, else a SQLite file."""
    if isinstance(address, str) and is_postgres(address):
        return await open_postgres(address)
    return await open_sqlite(address)


def leadership_for(address: Path | str) -> Leadership:
    """The lock that makes one `snowbot run` of this database the leader."""
    if isinstance(address, str) and is_postgres(address):
        from storage.postgres.leader import LeaseLeadership

        return LeaseLeadership(address)
    return FileLeadership(Path(address))


__all__ = ["PostgresStore", "Queries", "SqliteStore", "is_postgres", "leadership_for", "open_store"]
