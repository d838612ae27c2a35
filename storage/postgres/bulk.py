"""Bulk loading for the benchmark on PostgreSQL: `storage.sqlite.bulk`'s long storm, written
with COPY, and what makes the benchmark's scratch database empty again between figures.

The bot never writes this way (each of its changes is one transaction with its counters);
the benchmark needs a database as a six-day storm leaves it in seconds, and a recount
from the raw rows to check the tally against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg

from snowbot.domain.counts import Recount
from storage.bulk import ShiftRow, TaskRow
from storage.copy import tables
from storage.postgres.connection import PgConnection
from storage.queries.counts import full_recount

__all__ = [
    "ShiftRow",
    "TaskRow",
    "bulk_load",
    "empty_tables",
    "filled_tables",
    "insert_districts",
    "insert_incident",
    "insert_shifts",
    "insert_streets",
    "insert_tasks",
    "insert_units",
    "insert_users",
    "rebuild_counters",
    "recount_url",
]


def filled_tables(url: str) -> list[str]:
    """snowbot's tables (of a migrated database) that hold any row, schema_version aside."""
    with psycopg.connect(url, autocommit=True) as db:
        return [
            t.name
            for t in tables()
            if db.execute(f"SELECT EXISTS (SELECT 1 FROM {t.name})").fetchone() == (True,)
        ]


def empty_tables(url: str) -> None:
    """Every row of snowbot's tables gone, their numbering from 1 again: only for the
    benchmark's scratch database (the caller has seen it empty before it wrote there)."""
    names = ", ".join(t.name for t in tables())
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"TRUNCATE {names} RESTART IDENTITY")


@contextmanager
def bulk_load(url: str) -> Iterator[psycopg.Connection[Any]]:
    """One transaction on a migrated, empty database; the numbering follows the ids
    written, and statistics are taken, after it."""
    with psycopg.connect(url) as db:
        with db.transaction():
            yield db
            for table in tables():
                if table.identity:
                    db.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                        f"'{table.identity}'), COALESCE(MAX({table.identity}), 0) + 1, false) "
                        f"FROM {table.name}"
                    )
        # the units' UPDATE of every shift left dead rows: a recount should not read them
        db.autocommit = True
        db.execute("VACUUM ANALYZE")


def _copy(db: psycopg.Connection[Any], table: str, columns: str, rows: Iterable[Any]) -> None:
    with db.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_districts(db: psycopg.Connection[Any], rows: Iterable[tuple[int, str]]) -> None:
    """(id, name) each."""
    _copy(db, "districts", "id, name", rows)


def insert_streets(
    db: psycopg.Connection[Any], rows: Iterable[tuple[int, int, str, float, float]]
) -> None:
    """(id, district id, name, lat, lon) each: point streets."""
    _copy(db, "streets", "id, district_id, name, lat, lon", rows)


def insert_users(db: psycopg.Connection[Any], rows: Iterable[tuple[int, str]]) -> None:
    """(id, name) each: registered cadres."""
    _copy(
        db,
        "users",
        "id, name, registered, created_at",
        ((uid, name, 1, 0) for uid, name in rows),
    )


def insert_incident(
    db: psycopg.Connection[Any], incident_id: int, name: str, started_at: float
) -> None:
    db.execute(
        "INSERT INTO incidents (id, name, started_at) VALUES (%s, %s, %s)",
        (incident_id, name, started_at),
    )


def insert_shifts(db: psycopg.Connection[Any], rows: Iterable[ShiftRow]) -> None:
    """(incident, user, headcount, district, street, lat, lon, started_at, ended_at) each."""
    _copy(
        db,
        "shifts",
        "incident_id, user_id, headcount, district_id, street_id, lat, lon, started_at, "
        "welfare_from, located_at, ended_at",
        ((*r[:8], r[7], r[7], r[8]) for r in rows),
    )


def insert_tasks(db: psycopg.Connection[Any], rows: Iterable[TaskRow]) -> None:
    """(incident, street, needed, accepted, status, created_by, created_at, done_at) each."""
    _copy(
        db,
        "tasks",
        "incident_id, street_id, needed, accepted, status, created_by, created_at, done_at",
        rows,
    )


def insert_units(db: psycopg.Connection[Any], count: int) -> None:
    """As `storage.sqlite.bulk.insert_units`: units 1..count; every tenth street has none,
    the others one each in turn; every seventh person is in no unit, the others in one by
    their id; each shift carries its cadre's unit."""
    _copy(
        db,
        "units",
        "id, name, key, created_at",
        ((u, f"Unit {u:04d}", f"unit {u:04d}", 0) for u in range(1, count + 1)),
    )
    db.execute(
        "UPDATE streets SET unit_id = CASE WHEN id %% 10 = 0 THEN NULL ELSE 1 + id %% %s END",
        (count,),
    )
    db.execute(
        "UPDATE users SET unit_id = CASE WHEN id %% 7 = 0 THEN NULL ELSE 1 + id %% %s END",
        (count,),
    )
    db.execute(
        "UPDATE shifts SET unit_id = users.unit_id FROM users "
        "WHERE users.id = shifts.user_id AND users.unit_id IS NOT NULL"
    )


def rebuild_counters(db: psycopg.Connection[Any], incident_id: int) -> None:
    """The counters the tally reads, made from the raw rows of one incident (as
    `storage.sqlite.bulk.rebuild_counters`)."""
    iid = {"i": incident_id}
    db.execute(
        "INSERT INTO served_streets (incident_id, street_id, served_at) "
        "SELECT incident_id, street_id, MIN(done_at) FROM tasks "
        "WHERE incident_id = %(i)s AND status = 'done' GROUP BY incident_id, street_id "
        "ON CONFLICT DO NOTHING",
        iid,
    )
    db.execute(
        "INSERT INTO district_counters (incident_id, district_id, person_times, on_duty) "
        "SELECT incident_id, district_id, SUM(headcount), "
        "SUM(CASE WHEN ended_at IS NULL THEN headcount ELSE 0 END) FROM shifts "
        "WHERE incident_id = %(i)s GROUP BY incident_id, district_id",
        iid,
    )
    db.execute(
        "INSERT INTO incident_people (incident_id, user_id) "
        "SELECT DISTINCT incident_id, user_id FROM shifts WHERE incident_id = %(i)s",
        iid,
    )
    db.execute(
        "UPDATE incidents SET people = "
        "(SELECT COUNT(*) FROM incident_people WHERE incident_id = %(i)s) WHERE id = %(i)s",
        iid,
    )
    db.execute(
        "INSERT INTO unit_people (incident_id, unit_id, user_id) "
        "SELECT DISTINCT incident_id, COALESCE(unit_id, 0), user_id FROM shifts "
        "WHERE incident_id = %(i)s",
        iid,
    )
    db.execute(
        "INSERT INTO unit_counters (incident_id, unit_id, person_times, on_duty, people) "
        "SELECT incident_id, COALESCE(unit_id, 0), SUM(headcount), "
        "SUM(CASE WHEN ended_at IS NULL THEN headcount ELSE 0 END), COUNT(DISTINCT user_id) "
        "FROM shifts WHERE incident_id = %(i)s GROUP BY incident_id, COALESCE(unit_id, 0)",
        iid,
    )


def recount_url(url: str, incident_id: int) -> Recount:
    """The tally's totals added up from the raw rows (no counters): the same recount as
    on SQLite, through the same connection the store's named queries use."""
    db = PgConnection.open(url)
    try:
        return full_recount(cast(Any, db), incident_id)
    finally:
        db.close()
