"""Storage: migrations, concurrency across connections, import idempotence."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from snowbot.gazetteer import read_gazetteer
from snowbot.model import AcceptOutcome
from storage import open_store
from storage.migrations import LATEST
from storage.sqlite import SqliteStore


async def _seeded(path: Path, city_csv: Path) -> SqliteStore:
    store = await open_store(path)
    await store.import_streets(read_gazetteer(city_csv))
    return store


async def test_migrations_on_an_empty_file(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "new.db")
    assert await store.schema_version() == LATEST
    await store.close()
    with sqlite3.connect(tmp_path / "new.db") as db:
        versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == list(range(1, LATEST + 1))
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_migrations_from_the_first_version_keep_the_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    # a database as the first release left it, written with that release's schema
    import aiosqlite

    db = await aiosqlite.connect(str(path), isolation_level=None)
    old = SqliteStore(db)
    await old.migrate(target=1)
    assert await old.schema_version() == 1
    for sql in (
        "INSERT INTO districts (id, name) VALUES (1, 'North')",
        "INSERT INTO streets (id, district_id, name, lat, lon) "
        "VALUES (1, 1, 'Old Street', 50, 127)",
        "INSERT INTO incidents (id, name, started_at) VALUES (1, 'first', 1.0)",
        "INSERT INTO users (id, name, registered, created_at) VALUES (10, 'Zhao', 1, 1.0)",
        "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, lat, lon, "
        "started_at) VALUES (1, 10, 3, 1, 1, 50, 127, 100.0)",
    ):
        await db.execute(sql)
    await old.close()

    store = await open_store(path)
    assert await store.schema_version() == LATEST
    assert [s.name for s in await store.streets()] == ["Old Street"]
    assert await store.street_lines() == {}
    assert (await store.current_incident("ignored", 2.0)).id == 1
    shift = await store.open_shift(1, 10)
    # later columns are filled in for old rows: max_shift counts from the shift's start
    assert shift is not None and shift.headcount == 3 and shift.welfare_from == 100.0
    await store.close()


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    for _ in range(2):
        store = await open_store(tmp_path / "x.db")
        assert await store.schema_version() == LATEST
        await store.close()


async def test_two_connections_racing_for_the_last_place(tmp_path: Path, city_csv: Path) -> None:
    path = tmp_path / "race.db"
    first = await _seeded(path, city_csv)
    second = await open_store(path)
    incident = await first.current_incident("storm", 1.0)
    street = (await first.streets())[0]
    for uid in range(1, 81):
        await first.register_user(uid, f"u{uid}", None, None, 1.0)
    rounds = 40
    for r in range(rounds):
        task = await first.create_task(incident.id, street.id, 1, "", 1, 2.0)
        a, b = 1 + 2 * r, 2 + 2 * r
        results = await asyncio.gather(
            first.accept_task(incident.id, task.id, a, 3.0),
            second.accept_task(incident.id, task.id, b, 3.0),
        )
        outcomes = sorted(str(r.outcome) for r in results)
        assert outcomes == [AcceptOutcome.ACCEPTED, AcceptOutcome.FULL], outcomes
        stored = await second.get_task(incident.id, task.id)
        assert stored is not None and stored.accepted == 1
    await first.close()
    await second.close()


async def test_many_accepts_on_one_connection_never_overfill(
    tmp_path: Path, city_csv: Path
) -> None:
    store = await _seeded(tmp_path / "many.db", city_csv)
    incident = await store.current_incident("storm", 1.0)
    street = (await store.streets())[0]
    for uid in range(1, 21):
        await store.register_user(uid, f"u{uid}", None, None, 1.0)
    task = await store.create_task(incident.id, street.id, 3, "", 1, 2.0)
    results = await asyncio.gather(
        *(store.accept_task(incident.id, task.id, uid, 3.0) for uid in range(1, 21))
    )
    accepted = [r for r in results if r.outcome == AcceptOutcome.ACCEPTED]
    full = [r for r in results if r.outcome == AcceptOutcome.FULL]
    assert (len(accepted), len(full)) == (3, 17)
    await store.close()


async def test_reimporting_the_same_file_changes_nothing(tmp_path: Path, city_csv: Path) -> None:
    store = await open_store(tmp_path / "imp.db")
    rows = read_gazetteer(city_csv)
    first = await store.import_streets(rows)
    before = await store.streets()
    second = await store.import_streets(rows)
    assert (first.added, second.added, second.moved, second.unchanged) == (7, 0, 0, 7)
    assert await store.streets() == before
    await store.close()
