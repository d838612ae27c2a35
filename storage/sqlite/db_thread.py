"""The one call into aiosqlite's internals: a whole transaction as one job in its thread.

aiosqlite's public API runs each statement as its own job in the connection's thread,
so a transaction of ten statements costs ten hops between the event loop and that
thread, and other statements could run on the connection in between. Group commit
(`storage.sqlite.engine`) runs a whole batch of transactions as one job instead, which
is what keeps committed check-ins fast (docs/performance.md, figure 2). aiosqlite
has no public way to do that, so its `_execute` and `_conn` are used here and nowhere
else; `tests/test_house.py` fails loudly if a new aiosqlite changes them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


async def run_in_db_thread(db: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(connection, *args)` in the connection's thread, as one job."""
    connection: sqlite3.Connection = db._conn
    result: T = await db._execute(fn, connection, *args)  # type: ignore[no-untyped-call]
    return result
