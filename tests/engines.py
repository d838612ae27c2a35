"""Both engines for the tests: a fresh database per test, a SQLite file or a PostgreSQL
database made for the test and dropped after it.

A module marked `pytestmark = pytest.mark.both_engines` runs each of its tests that
use a database (the `config`/`bot` fixtures, or `new_database`) once per engine. Where
PostgreSQL cannot be reached those runs skip with the reason, unless
SNOWBOT_REQUIRE_POSTGRES=1 (as `.ci/run` sets): then they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from snowbot.settings.config import Config
from storage.postgres import PostgresStore
from storage.postgres.connection import PgConnection
from storage.queries import Queries
from storage.sqlite import SqliteStore
from storage.sqlite.engine import connect

# the server every development and CI machine runs (trust authentication)
SERVER = os.environ.get("SNOWBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
ENGINES = ("sqlite", "postgres")
_numbers = itertools.count(1)
# the `new_database` fixture: new_database(name) -> a fresh database's address
NewDatabase = Callable[..., Path | str]


@functools.cache
def unreachable() -> str:
    """Why PostgreSQL cannot be reached, or '' when it can."""
    try:
        with psycopg.connect(f"{SERVER}/postgres", connect_timeout=3) as db:
            db.execute("SELECT 1")
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL not reachable at {SERVER}: {first}"
    return ""


def need_postgres() -> None:
    reason = unreachable()
    if reason:
        if os.environ.get("SNOWBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


class Databases:
    """Makes fresh databases of one engine for one test, and drops them after it."""

    def __init__(self, engine: str, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.made: list[str] = []

    def new(self, name: str = "snowbot.db") -> Path | str:
        if self.engine == "sqlite":
            return self.folder / name
        need_postgres()
        db = f"snowbot_test_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {db}")
        self.made.append(db)
        return f"{SERVER}/{db}"

    def drop(self) -> None:
        if not self.made:
            return
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            for db in self.made:
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


@contextlib.contextmanager
def raw(address: Path | str) -> Iterator[Any]:
    """A plain connection to a test's database (no snowbot code between): `execute` takes
    `?` parameters on both engines and rows unpack like tuples."""
    if isinstance(address, Path):
        with contextlib.closing(sqlite3.connect(address)) as db:
            yield db
        return
    db = PgConnection.open(address)
    try:
        yield db
    finally:
        db.close()


def with_database(config: Config, address: Path | str) -> Config:
    """`config` on another database of the same engine."""
    if isinstance(address, Path):
        return replace(config, database=address, database_url="")
    return replace(config, database_url=address)


async def unmigrated_store(address: Path | str) -> Queries:
    """A store on `address` before any migration (the caller migrates it as far as it likes)."""
    if isinstance(address, Path):
        return SqliteStore(await connect(address))
    return PostgresStore(await asyncio.to_thread(PgConnection.open, address))


def sqlite_only(engine: str, why: str) -> None:
    """Skip a PostgreSQL run of a test about what only SQLite has."""
    if engine != "sqlite":
        pytest.skip(f"SQLite only: {why}")
