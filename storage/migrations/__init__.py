"""Numbered schema migrations, applied in order at start-up, each engine its own.

`sqlite` and `postgres` hold the same history (the same tables, columns, indexes and
constraints at every number), each in its engine's own DDL; neither is made from the
other. Never edit a released migration: add the next number to both. The applied
version is recorded in `schema_version`, one row per migration.
"""

import sqlite3

from storage.migrations import postgres, sqlite

# the SQLite history is the one the copies and backups (storage.copy, storage.backup) read
MIGRATIONS = sqlite.MIGRATIONS
SCHEMA_VERSION_TABLE = sqlite.SCHEMA_VERSION_TABLE
LATEST = max(MIGRATIONS)

if sorted(postgres.MIGRATIONS) != sorted(sqlite.MIGRATIONS):
    raise RuntimeError("storage.migrations: the engines' migrations must have the same numbers")


def statements(script: str) -> list[str]:
    """A migration's statements, one by one (sqlite3.complete_statement knows where each
    ends: the migrations of both engines quote and comment alike)."""
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        out.append(buffer.strip())
    return out


__all__ = ["LATEST", "MIGRATIONS", "SCHEMA_VERSION_TABLE", "postgres", "sqlite", "statements"]
