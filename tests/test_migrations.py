"""storage/migrations: each engine its own schema history, the same tables at every number.

The SQLite and PostgreSQL migrations are written apart (neither is made from the other),
so what holds them together is checked here: at every version both engines have the same
tables, columns (with their NOT NULL), primary keys and indexes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from storage.migrations import LATEST, postgres, sqlite, statements
from storage.postgres.connection import PgConnection
from tests.engines import Databases

Shape = dict[str, Any]


def test_both_engines_have_every_number() -> None:
    assert sorted(sqlite.MIGRATIONS) == sorted(postgres.MIGRATIONS) == list(range(1, LATEST + 1))


@pytest.mark.parametrize("version", sorted(postgres.MIGRATIONS))
def test_postgresql_migrations_are_in_postgresql_types(version: int) -> None:
    script = postgres.MIGRATIONS[version]
    assert "WITHOUT ROWID" not in script and " REAL" not in script
    assert "INTEGER" not in script  # every integer is 64 bits (Telegram ids)


def test_statements_split_where_each_ends() -> None:
    script = (
        "-- a comment; not a statement\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nDROP TABLE a;\n"
    )
    assert statements(script) == [
        "-- a comment; not a statement\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "DROP TABLE a;",
    ]


@pytest.mark.parametrize("version", [1, 8, LATEST])
def test_both_engines_make_the_same_tables(version: int, tmp_path: Path) -> None:
    lite = sqlite3.connect(tmp_path / "shape.db")
    try:
        _migrate(lite.execute, sqlite, version)
        want = _sqlite_shape(lite)
    finally:
        lite.close()
    made = Databases("postgres", tmp_path)
    try:
        pg = PgConnection.open(str(made.new()))
        try:
            _migrate(pg.script, postgres, version)
            got = _postgres_shape(pg)
        finally:
            pg.close()
    finally:
        made.drop()
    assert got == want


def _migrate(run: Callable[[str], object], engine: ModuleType, version: int) -> None:
    run(engine.SCHEMA_VERSION_TABLE)
    for number in range(1, version + 1):
        for statement in statements(engine.MIGRATIONS[number]):
            run(statement)


def _sqlite_shape(db: sqlite3.Connection) -> Shape:
    shape: Shape = {}
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        info = db.execute(f"PRAGMA table_info({table})").fetchall()
        shape[table] = {
            "columns": {(name, bool(notnull or pk)) for _, name, _, notnull, _, pk in info},
            "key": [name for *_, name, _, _, _, pk in sorted(info, key=lambda r: r[5]) if pk],
        }
    shape["indexes"] = {
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    return shape


def _postgres_shape(db: PgConnection) -> Shape:
    shape: Shape = {}
    for (table,) in db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchall():
        columns = db.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ?",
            (table,),
        ).fetchall()
        key = db.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ?::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)",
            (table,),
        ).fetchall()
        shape[table] = {
            "columns": {(name, nullable == "NO") for name, nullable in columns},
            "key": [name for (name,) in key],
        }
    shape["indexes"] = {
        name
        for (name,) in db.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
        ).fetchall()
    }
    return shape
