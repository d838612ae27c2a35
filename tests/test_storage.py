"""Storage: migrations, concurrency across connections, import idempotence."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from snowbot.domain.gazetteer import read_gazetteer
from snowbot.domain.messages import Outgoing
from snowbot.domain.places import PlaceOutcome
from storage.migrations import LATEST, MIGRATIONS
from storage.postgres import PostgresStore
from storage.postgres.connection import PgConnection
from storage.queries import Queries
from storage.sqlite import SqliteStore
from tests.engines import NewDatabase, raw
from tests.harness import opened_store

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


async def test_migrations_on_an_empty_file(new_database: NewDatabase) -> None:
    address = new_database("new.db")
    async with opened_store(address) as store:
        assert await store.schema_version() == LATEST
    with raw(address) as db:
        versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == sorted(MIGRATIONS)
        if isinstance(address, Path):
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_migrations_from_the_first_version_keep_the_data(
    new_database: NewDatabase,
) -> None:
    path = new_database("old.db")
    # a database as the first release left it, written with that release's schema
    old, db = await _unmigrated(path)
    try:
        await old.migrate(target=1)
        assert await old.schema_version() == 1
        for sql in (
            "INSERT INTO districts (id, name) VALUES (1, 'North')",
            "INSERT INTO streets (id, district_id, name, lat, lon) "
            "VALUES (1, 1, 'Old Street', 50, 127)",
            "INSERT INTO incidents (id, name, started_at) VALUES (1, 'first', 1.0)",
            "INSERT INTO users (id, name, registered, created_at) VALUES (10, 'Zhao', 1, 1.0)",
            "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
            "lat, lon, started_at) VALUES (1, 10, 3, 1, 1, 50, 127, 100.0)",
        ):
            await db(sql)
    finally:
        await old.close()

    async with opened_store(path) as store:
        assert await store.schema_version() == LATEST
        assert [s.name for s in await store.streets()] == ["Old Street"]
        assert await store.street_lines() == {}
        assert (await store.current_incident("ignored", 2.0)).id == 1
        shift = await store.open_shift(1, 10)
        # later columns are filled in for old rows: max_shift counts from the shift's start
        assert shift is not None and shift.headcount == 3 and shift.welfare_from == 100.0


async def _unmigrated(address: Path | str) -> tuple[Queries, Callable[[str], Awaitable[Any]]]:
    """A store on `address` before any migration, and a way to run SQL on its connection."""
    if isinstance(address, Path):
        import aiosqlite

        db = await aiosqlite.connect(str(address), isolation_level=None)
        return SqliteStore(db), db.execute
    pg = await asyncio.to_thread(PgConnection.open, address)
    return PostgresStore(pg), lambda sql: asyncio.to_thread(pg.execute, sql)


async def test_reopening_applies_nothing_twice(new_database: NewDatabase) -> None:
    address = new_database("x.db")
    for _ in range(2):
        async with opened_store(address) as store:
            assert await store.schema_version() == LATEST


async def test_two_connections_racing_for_the_last_place(
    new_database: NewDatabase, city_csv: Path
) -> None:
    path = new_database("race.db")
    async with opened_store(path) as first, opened_store(path) as second:
        await first.import_streets(read_gazetteer(city_csv))
        await _race(first, second)


async def _race(first: Queries, second: Queries) -> None:
    incident = await first.current_incident("storm", 1.0)
    street = (await first.streets())[0]
    for uid in range(1, 81):
        await first.register_user(uid, f"u{uid}", None, None, 1.0)
        await first.check_in(incident.id, uid, 1, street, street.lat, street.lon, 1.0, 0.0)
    rounds = 40
    for r in range(rounds):
        task = await first.create_task(incident.id, street.id, 1, "", 1, 2.0)
        a, b = 1 + 2 * r, 2 + 2 * r
        results = await asyncio.gather(
            first.take_places(incident.id, task.id, a, None, 3.0),
            second.take_places(incident.id, task.id, b, None, 3.0),
        )
        outcomes = sorted(str(r.outcome) for r in results)
        assert outcomes == [PlaceOutcome.FULL, PlaceOutcome.TAKEN], outcomes
        stored = await second.get_task(incident.id, task.id)
        assert stored is not None and stored.accepted == 1


async def test_many_accepts_on_one_connection_never_overfill(
    new_database: NewDatabase, city_csv: Path
) -> None:
    async with opened_store(new_database("many.db")) as store:
        await store.import_streets(read_gazetteer(city_csv))
        incident = await store.current_incident("storm", 1.0)
        street = (await store.streets())[0]
        for uid in range(1, 21):
            await store.register_user(uid, f"u{uid}", None, None, 1.0)
            await store.check_in(incident.id, uid, 1, street, street.lat, street.lon, 1.0, 0.0)
        task = await store.create_task(incident.id, street.id, 3, "", 1, 2.0)
        results = await asyncio.gather(
            *(store.take_places(incident.id, task.id, uid, None, 3.0) for uid in range(1, 21))
        )
    accepted = [r for r in results if r.outcome == PlaceOutcome.TAKEN]
    full = [r for r in results if r.outcome == PlaceOutcome.FULL]
    assert (len(accepted), len(full)) == (3, 17)


async def test_reimporting_the_same_file_changes_nothing(
    new_database: NewDatabase, city_csv: Path
) -> None:
    rows = read_gazetteer(city_csv)
    async with opened_store(new_database("imp.db")) as store:
        first = await store.import_streets(rows)
        before = await store.streets()
        second = await store.import_streets(rows)
        assert (first.added, second.added, second.moved, second.unchanged) == (7, 0, 0, 7)
        assert await store.streets() == before


async def test_a_write_that_fails_in_a_group_commit_leaves_nothing_and_spoils_nothing(
    new_database: NewDatabase,
) -> None:
    """Writes arriving together commit together; one that fails halfway (here its second
    message names a task that does not exist) must take back its first half and let the
    others commit."""
    no_task = Outgoing("b", 1, "en", task_id=999, template="newtask.announce")
    half = [Outgoing("a", 1, "en", text="kept?"), no_task]
    whole = [Outgoing("c", 2, "en", text="other chat")]
    async with opened_store(new_database("batch.db")) as store:
        failed, done = await asyncio.gather(
            store.enqueue(half, now=1.0), store.enqueue(whole, now=1.0), return_exceptions=True
        )
        assert isinstance(failed, sqlite3.IntegrityError | psycopg.IntegrityError) and done == 1
        assert [i.message.key for i in await store.due_outbox(2.0, 10)] == ["c"]
        # and the connection is sound for what comes next
        assert await store.enqueue([Outgoing("d", 3, "en", text="later")], now=2.0) == 1


async def test_a_lost_postgresql_connection_is_made_again(
    new_database: NewDatabase, engine: str
) -> None:
    if engine != "postgres":
        pytest.skip("PostgreSQL only: SQLite has no connection to lose")
    address = new_database("lost.db")
    async with opened_store(address) as store:
        first = await store.current_incident("storm", 1.0)
        # the writing connection and the reading one (`PgEngine._reading`)
        backends = [c.raw.info.backend_pid for c in (store._pg, store._reader) if c]
        with raw(address) as db:
            for backend in backends:
                db.execute("SELECT pg_terminate_backend(?)", (backend,))
        with pytest.raises(psycopg.OperationalError):  # what was under way fails, in one piece
            await store.current_incident("storm", 2.0)
        assert (await store.current_incident("storm", 3.0)).id == first.id
