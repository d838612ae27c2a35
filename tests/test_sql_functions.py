"""storage/{sqlite,postgres}/functions.py: the few SQL functions each engine spells its own
way mean the same on both (run on a real SQLite file and a real PostgreSQL database)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.functions import functions_of
from storage.postgres.connection import PgConnection
from tests.engines import Databases


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        lite = sqlite3.connect(tmp_path / "f.db")
        try:
            yield lite
        finally:
            lite.close()
        return
    made = Databases("postgres", tmp_path)
    try:
        pg = PgConnection.open(str(made.new()))
        try:
            yield pg
        finally:
            pg.close()
    finally:
        made.drop()


def _one(db: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = db.execute(sql, params).fetchone()
    return row[0]


def test_whole_truncates_toward_zero(db: Any) -> None:
    whole = functions_of(db).whole
    assert _one(db, f"SELECT {whole.format('?1 / 3600.0')}", (7199.9,)) == 1
    assert _one(db, f"SELECT {whole.format('?1 / 900.0')} * 900", (1799.0,)) == 900


def test_json_list_is_one_array_even_of_nothing(db: Any) -> None:
    js = functions_of(db).json_list
    db.execute("CREATE TABLE t (x INTEGER)")
    assert json.loads(_one(db, f"SELECT {js.format('x')} FROM t")) == []
    db.execute("INSERT INTO t (x) VALUES (2), (3)")
    assert sorted(json.loads(_one(db, f"SELECT {js.format('x')} FROM t"))) == [2, 3]


def test_now_is_seconds_since_1970(db: Any) -> None:
    before = time.time()
    now = float(_one(db, f"SELECT {functions_of(db).now}"))
    assert before - 5 < now < time.time() + 5  # the same machine's clock, in seconds
