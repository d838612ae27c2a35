"""Bulk loading for the benchmark: a long storm's rows written at once, counters included.

The bot never writes this way (each of its changes is one transaction with its counters);
the benchmark needs a database as a six-day storm leaves it in seconds, and a recount
from the raw rows to check the tally against.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from snowbot.domain.counts import Recount
from storage.bulk import ShiftRow, TaskRow
from storage.queries.counts import full_recount


@contextmanager
def bulk_load(path: Path) -> Iterator[sqlite3.Connection]:
    """One unsynchronised transaction on a migrated database file; statistics after it."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        yield db
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()


def insert_districts(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """(id, name) each."""
    db.executemany("INSERT INTO districts (id, name) VALUES (?, ?)", rows)


def insert_streets(
    db: sqlite3.Connection, rows: Iterable[tuple[int, int, str, float, float]]
) -> None:
    """(id, district id, name, lat, lon) each: point streets."""
    db.executemany(
        "INSERT INTO streets (id, district_id, name, lat, lon) VALUES (?, ?, ?, ?, ?)", rows
    )


def insert_users(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """(id, name) each: registered cadres."""
    db.executemany("INSERT INTO users (id, name, registered, created_at) VALUES (?, ?, 1, 0)", rows)


def insert_incident(db: sqlite3.Connection, incident_id: int, name: str, started_at: float) -> None:
    db.execute(
        "INSERT INTO incidents (id, name, started_at) VALUES (?, ?, ?)",
        (incident_id, name, started_at),
    )


def insert_shifts(db: sqlite3.Connection, rows: Iterable[ShiftRow]) -> None:
    """(incident, user, headcount, district, street, lat, lon, started_at, ended_at) each."""
    db.executemany(
        "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, lat, lon, "
        "started_at, welfare_from, located_at, ended_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?8, ?8, ?8, ?9)",
        rows,
    )


def insert_tasks(db: sqlite3.Connection, rows: Iterable[TaskRow]) -> None:
    """(incident, street, needed, accepted, status, created_by, created_at, done_at) each."""
    db.executemany(
        "INSERT INTO tasks (incident_id, street_id, needed, accepted, status, created_by, "
        "created_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def insert_units(db: sqlite3.Connection, count: int) -> None:
    """Units 1..count ("Unit 0001" …); every tenth street has none, the others one each in
    turn; every seventh person is in no unit, the others in one by their id."""
    db.executemany(
        "INSERT INTO units (id, name, key, created_at) VALUES (?, ?, ?, 0)",
        ((u, f"Unit {u:04d}", f"unit {u:04d}") for u in range(1, count + 1)),
    )
    db.execute(
        "UPDATE streets SET unit_id = CASE WHEN id % 10 = 0 THEN NULL ELSE 1 + id % ? END",
        (count,),
    )
    db.execute(
        "UPDATE users SET unit_id = CASE WHEN id % 7 = 0 THEN NULL ELSE 1 + id % ? END", (count,)
    )
    # each shift carries its cadre's unit
    db.execute("UPDATE shifts SET unit_id = (SELECT unit_id FROM users WHERE id = shifts.user_id)")


def rebuild_counters(db: sqlite3.Connection, incident_id: int) -> None:
    """The counters the tally reads, made from the raw rows of one incident."""
    iid = (incident_id,)
    db.execute(
        "INSERT INTO served_streets (incident_id, street_id, served_at) "
        "SELECT incident_id, street_id, MIN(done_at) FROM tasks "
        "WHERE incident_id = ? AND status = 'done' GROUP BY street_id ON CONFLICT DO NOTHING",
        iid,
    )
    db.execute(
        "INSERT INTO district_counters (incident_id, district_id, person_times, on_duty) "
        "SELECT incident_id, district_id, SUM(headcount), "
        "SUM(CASE WHEN ended_at IS NULL THEN headcount ELSE 0 END) FROM shifts "
        "WHERE incident_id = ? GROUP BY district_id",
        iid,
    )
    db.execute(
        "INSERT INTO incident_people (incident_id, user_id) "
        "SELECT DISTINCT incident_id, user_id FROM shifts WHERE incident_id = ?",
        iid,
    )
    db.execute(
        "UPDATE incidents SET people = "
        "(SELECT COUNT(*) FROM incident_people WHERE incident_id = ?1) WHERE id = ?1",
        iid,
    )
    db.execute(
        "INSERT INTO unit_people (incident_id, unit_id, user_id) "
        "SELECT DISTINCT incident_id, COALESCE(unit_id, 0), user_id FROM shifts "
        "WHERE incident_id = ?",
        iid,
    )
    db.execute(
        "INSERT INTO unit_counters (incident_id, unit_id, person_times, on_duty, people) "
        "SELECT incident_id, COALESCE(unit_id, 0), SUM(headcount), "
        "SUM(CASE WHEN ended_at IS NULL THEN headcount ELSE 0 END), COUNT(DISTINCT user_id) "
        "FROM shifts WHERE incident_id = ? GROUP BY COALESCE(unit_id, 0)",
        iid,
    )


def recount_file(path: Path, incident_id: int) -> Recount:
    """The tally's totals added up from the raw rows of a database file (no counters)."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return full_recount(db, incident_id)
    finally:
        db.close()
