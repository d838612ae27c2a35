"""Storage: the only package with SQL. It implements the domain's store interfaces
(`snowbot.stores`) with the domain's records (`snowbot.model`), and imports nothing else
of snowbot."""

from pathlib import Path

from snowbot.leadership import Leadership
from storage.sqlite import SqliteStore, open_store
from storage.sqlite.leader import FileLeadership

__all__ = ["SqliteStore", "leadership_for", "open_store"]


def leadership_for(database: Path) -> Leadership:
    """The lock that makes one `snowbot run` of this database the leader."""
    # PostgreSQL standby: its advisory-lock Leadership is chosen here, by the database URL
    return FileLeadership(database)
