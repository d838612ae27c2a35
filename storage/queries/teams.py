"""Large teams waiting for a dispatcher's confirmation, and the check-ins of the last hour.

These run inside the check-in transaction (`storage.queries.shifts`); a confirmed request
opens its shift there too.
"""

from __future__ import annotations

import sqlite3

from snowbot.domain.model import Street, TeamRequest
from storage.engine import Engine, from_row, one, reads

COLUMNS = (
    "id, incident_id, user_id, headcount, district_id, street_id, lat, lon, asked_at, decision"
)
HOUR = 3600.0


def request_from(row: sqlite3.Row) -> TeamRequest:
    return from_row(TeamRequest, row)


def team_request(db: sqlite3.Connection, request_id: int) -> TeamRequest | None:
    row = one(db, f"SELECT {COLUMNS} FROM team_requests WHERE id = ?", (request_id,))
    return request_from(row) if row else None


def waiting_request(db: sqlite3.Connection, user_id: int) -> TeamRequest | None:
    """This person's request still waiting for a decision, if any (at most one)."""
    row = one(
        db,
        f"SELECT {COLUMNS} FROM team_requests WHERE user_id = ? AND decision IS NULL",
        (user_id,),
    )
    return request_from(row) if row else None


def ask_team(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    headcount: int,
    street: Street,
    lat: float,
    lon: float,
    now: float,
) -> TeamRequest:
    row = one(
        db,
        "INSERT INTO team_requests (incident_id, user_id, headcount, district_id, street_id, "
        f"lat, lon, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}",
        (incident_id, user_id, headcount, street.district_id, street.id, lat, lon, now),
    )
    assert row is not None
    return request_from(row)


def move_request(
    db: sqlite3.Connection, request: TeamRequest, street: Street, lat: float, lon: float
) -> TeamRequest:
    """The waiting leader shared a location again: the request waits at the new place."""
    row = one(
        db,
        "UPDATE team_requests SET street_id = ?, district_id = ?, lat = ?, lon = ? "
        f"WHERE id = ? RETURNING {COLUMNS}",
        (street.id, street.district_id, lat, lon, request.id),
    )
    assert row is not None
    return request_from(row)


def replace_request(db: sqlite3.Connection, request_id: int, now: float) -> None:
    db.execute(
        "UPDATE team_requests SET decision = 'replaced', decided_at = ? "
        "WHERE id = ? AND decision IS NULL",
        (now, request_id),
    )


def new_this_hour(db: sqlite3.Connection, user_id: int, now: float) -> int:
    """Shifts this person opened in the last hour, and team requests that opened none."""
    row = one(
        db,
        "SELECT (SELECT COUNT(*) FROM shifts WHERE user_id = ?1 AND started_at > ?2) "
        "+ (SELECT COUNT(*) FROM team_requests WHERE user_id = ?1 AND asked_at > ?2 "
        "AND (decision IS NULL OR decision <> 'confirmed')) AS n",
        (user_id, now - HOUR),
    )
    return int(row["n"]) if row else 0


def grow_shift(db: sqlite3.Connection, shift_id: int, added: int) -> None:
    """`added` more people on an open shift (a larger team confirmed, or a headcount
    raised on duty): counted for its district and its unit."""
    row = one(
        db,
        "UPDATE shifts SET headcount = headcount + ? WHERE id = ? AND ended_at IS NULL "
        "RETURNING incident_id, district_id, COALESCE(unit_id, 0) AS unit",
        (added, shift_id),
    )
    assert row is not None
    db.execute(
        "UPDATE district_counters SET person_times = person_times + ?1, on_duty = on_duty + ?1 "
        "WHERE incident_id = ?2 AND district_id = ?3",
        (added, row["incident_id"], row["district_id"]),
    )
    db.execute(
        "UPDATE unit_counters SET person_times = person_times + ?1, on_duty = on_duty + ?1 "
        "WHERE incident_id = ?2 AND unit_id = ?3",
        (added, row["incident_id"], row["unit"]),
    )


class TeamsQueries(Engine):
    """The reads of `snowbot.domain.stores.ShiftStore` about team requests, on SQLite."""

    team_request = reads(team_request)
