"""The few SQL functions the engines spell otherwise, and how a named query finds its
engine's spelling (`functions_of`), so that one query reads right on both engines without
its text being translated.

A connection says which spelling is its engine's by its `functions`
(storage.postgres.connection.PgConnection carries PostgreSQL's, storage.postgres.functions);
sqlite3's connection cannot carry one, so a connection without it is SQLite's, whose
spelling is therefore here (`SQLITE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast


@dataclass(frozen=True, slots=True)
class SqlFunctions:
    """One engine's spelling of each: `{}` stands for the argument."""

    now: str  # the database's clock, in seconds since 1970
    json_list: str  # an aggregate's values as one JSON array, as text ('[]' when none)
    whole: str  # a number truncated toward zero, as an integer


SQLITE = SqlFunctions(
    now="((julianday('now') - 2440587.5) * 86400.0)",  # in any SQLite 3 (not unixepoch)
    json_list="json_group_array({})",
    whole="CAST({} AS INTEGER)",  # SQLite's CAST truncates
)


def functions_of(db: object) -> SqlFunctions:
    """The functions of the engine `db` belongs to: a connection says so by its
    `functions` (storage.postgres.connection.PgConnection); sqlite3's has none."""
    return cast(SqlFunctions, getattr(db, "functions", SQLITE))
