"""Storage: the only package with SQL. It implements the domain's store interfaces
(`snowbot.stores`) with the domain's records (`snowbot.model`), and imports nothing else
of snowbot."""

from storage.sqlite import SqliteStore, open_store

__all__ = ["SqliteStore", "open_store"]
