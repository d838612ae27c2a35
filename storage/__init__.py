"""Storage: the only package with SQL. The domain talks to it through `Store`."""

from storage.interface import Store
from storage.sqlite import SqliteStore, open_store

__all__ = ["SqliteStore", "Store", "open_store"]
