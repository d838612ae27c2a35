"""A leader on duty gives a new headcount (docs/commands.md "Everyone affected hears it"): more
people add the difference to person-times (above `max_team_unconfirmed` it waits for a
dispatcher, like a new team); fewer gives back unplaced people first, then places on
tasks, newest first. The people who left keep the person-times already counted: their
part of the shift is split off as a shift of its own, ended now, so that person-times
stay the sum of the shifts' headcounts and shifts.csv adds up to the tally."""

from __future__ import annotations

import sqlite3

from snowbot.domain.model import Resized, Shift, TeamRequest
from snowbot.domain.places import Reopen
from snowbot.domain.teams import waits_for_confirmation
from storage.engine import Engine, every, one, writes
from storage.queries import places, teams
from storage.queries.outbox import enqueue
from storage.queries.shifts import COLUMNS, shift_from


def resize_shift(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    count: int,
    now: float,
    max_unconfirmed: int | None,
    reopen: Reopen | None = None,
) -> Resized:
    """Give this person's open shift the headcount `count` (see the module's docstring)."""
    row = one(
        db,
        f"SELECT {COLUMNS}, placed FROM shifts "
        "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
        (incident_id, user_id),
    )
    if row is None:
        return Resized("not_on_duty", 0, count)
    shift = shift_from(row)
    old = shift.headcount
    if count == old:
        return Resized("same", old, count)
    if count > old:
        if waits_for_confirmation(count, max_unconfirmed):
            return Resized("waiting", old, count, request=_ask(db, shift, count, now))
        teams.grow_shift(db, shift.id, count - old)
        return Resized("grown", old, count)
    left = old - count
    gave_back = _give_back(db, shift.id, left - (old - int(row["placed"])), now, reopen)
    db.execute("UPDATE shifts SET headcount = ? WHERE id = ?", (count, shift.id))
    db.execute(
        "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, lat, lon, "
        "started_at, ended_at, welfare_from, located_at, closed_by, unit_id) "
        "SELECT incident_id, user_id, ?, district_id, street_id, lat, lon, started_at, ?, "
        "welfare_from, located_at, 'left', unit_id FROM shifts WHERE id = ?",
        (left, now, shift.id),
    )
    db.execute(
        "UPDATE district_counters SET on_duty = on_duty - ? "
        "WHERE incident_id = ? AND district_id = ?",
        (left, incident_id, shift.district_id),
    )
    db.execute(
        "UPDATE unit_counters SET on_duty = on_duty - ? WHERE incident_id = ? "
        "AND unit_id = (SELECT COALESCE(unit_id, 0) FROM shifts WHERE id = ?)",
        (left, incident_id, shift.id),
    )
    return Resized("shrunk", old, count, gave_back=tuple(gave_back))


def _give_back(
    db: sqlite3.Connection, shift_id: int, needed: int, now: float, reopen: Reopen | None
) -> list[int]:
    """`needed` of the shift's places back to their tasks, newest first; the tasks."""
    if needed <= 0:
        return []
    held = every(
        db,
        "SELECT task_id, count FROM places WHERE shift_id = ? ORDER BY taken_at DESC, task_id",
        (shift_id,),
    )
    touched = []
    for place in held:
        n = min(needed, int(place["count"]))
        if places._give_back(db, place["task_id"], shift_id, n):  # left with nobody
            enqueue(db, (reopen or {}).get(place["task_id"], ()), now)
        touched.append(int(place["task_id"]))
        needed -= n
        if needed == 0:
            break
    places._mark_stale(db, touched, now)
    return touched


def _ask(db: sqlite3.Connection, shift: Shift, count: int, now: float) -> TeamRequest:
    """The larger team waits for a dispatcher, where the shift is (a request of its own
    replaces one still waiting)."""
    waiting = teams.waiting_request(db, shift.user_id)
    if waiting is not None:
        teams.replace_request(db, waiting.id, now)
    made = one(
        db,
        "INSERT INTO team_requests (incident_id, user_id, headcount, district_id, street_id, "
        f"lat, lon, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {teams.COLUMNS}",
        (
            shift.incident_id,
            shift.user_id,
            count,
            shift.district_id,
            shift.street_id,
            shift.lat,
            shift.lon,
            now,
        ),
    )
    assert made is not None
    return teams.request_from(made)


class ResizeQueries(Engine):
    """`snowbot.domain.stores.ShiftStore.resize_shift` on SQLite."""

    resize_shift = writes(resize_shift)
