"""Places on tasks (docs/commands.md "Places"): taken, released and given back in one transaction.

Both bounds are the database's own: `tasks.accepted` never exceeds `needed`, and
`shifts.placed` never exceeds `headcount` (CHECK constraints). Each change moves a count
with conditional UPDATEs that fail rather than pass a bound; the CHECKs are the last word.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.domain.model import Task, TaskStatus
from snowbot.domain.places import (
    PlaceChange,
    Placement,
    PlaceOutcome,
    Reopen,
    places_to_give_back,
    places_to_take,
)
from storage.engine import Engine, every, one, reads, writes
from storage.queries.outbox import drop_escalations, enqueue
from storage.queries.tasks import SELECT, get_task, task_from

LIVE = "('open', 'in_progress')"


class PlaceConflict(Exception):
    """A bound moved under a change (never on SQLite, whose writers take turns): the
    transaction is rolled back rather than pass it."""


def _shift(db: sqlite3.Connection, incident_id: int, user_id: int) -> sqlite3.Row | None:
    return one(
        db,
        "SELECT id, headcount, placed FROM shifts "
        "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
        (incident_id, user_id),
    )


def _placement(db: sqlite3.Connection, shift_id: int, headcount: int) -> Placement:
    rows = every(
        db,
        "SELECT task_id, count FROM places WHERE shift_id = ? ORDER BY taken_at, task_id",
        (shift_id,),
    )
    return Placement(headcount, tuple((r["task_id"], r["count"]) for r in rows))


def placement(db: sqlite3.Connection, incident_id: int, user_id: int) -> Placement | None:
    """Where this person's shift's people are; None when they are not on duty."""
    shift = _shift(db, incident_id, user_id)
    return None if shift is None else _placement(db, shift["id"], shift["headcount"])


def held_tasks(db: sqlite3.Connection, incident_id: int, user_id: int) -> list[Task]:
    """The live tasks this person's open shift holds places on, oldest place first."""
    rows = every(
        db,
        SELECT + " JOIN places p ON p.task_id = t.id JOIN shifts sh ON sh.id = p.shift_id "
        "WHERE sh.incident_id = ? AND sh.user_id = ? AND sh.ended_at IS NULL "
        "ORDER BY p.taken_at, t.id",
        (incident_id, user_id),
    )
    return [task_from(r) for r in rows]


def _repeated(db: sqlite3.Connection, origin: int | None) -> bool:
    """Whether this update moved places before."""
    if origin is None:
        return False
    return one(db, "SELECT 1 FROM place_updates WHERE update_id = ?", (origin,)) is not None


def _record(db: sqlite3.Connection, origin: int | None, now: float) -> None:
    """This update moved places (a refused one is not kept: asked again, it is refused
    again, as it should be)."""
    if origin is not None:
        db.execute("INSERT INTO place_updates (update_id, at) VALUES (?, ?)", (origin, now))


def _move(db: sqlite3.Connection, task_id: int, shift_id: int, n: int) -> bool:
    """Move n places (negative: give back) between a live task and an open shift.

    Returns whether the task was left with nobody (then it is open again).
    """
    task = one(
        db,
        "UPDATE tasks SET accepted = accepted + ?1, "
        "status = CASE WHEN accepted + ?1 = 0 THEN 'open' ELSE 'in_progress' END "
        f"WHERE id = ?2 AND status IN {LIVE} AND accepted + ?1 BETWEEN 0 AND needed "
        "RETURNING accepted",
        (n, task_id),
    )
    shift = db.execute(
        "UPDATE shifts SET placed = placed + ?1 "
        "WHERE id = ?2 AND ended_at IS NULL AND placed + ?1 BETWEEN 0 AND headcount",
        (n, shift_id),
    )
    if task is None or shift.rowcount != 1:
        raise PlaceConflict(f"task {task_id}, shift {shift_id}, {n:+d}")
    return bool(task["accepted"] == 0)


def _shift_and_live_task(
    db: sqlite3.Connection, incident_id: int, task_id: int, user_id: int, origin: int | None
) -> tuple[sqlite3.Row, Task] | PlaceChange:
    """The person's open shift and the live task whose places move, or why none can:
    the update was handled already, nobody on duty, no such task, or the task is closed."""
    if _repeated(db, origin):
        return PlaceChange(PlaceOutcome.REPEATED, get_task(db, incident_id, task_id))
    shift = _shift(db, incident_id, user_id)
    if shift is None:
        return PlaceChange(PlaceOutcome.NOT_ON_DUTY, get_task(db, incident_id, task_id))
    task = get_task(db, incident_id, task_id)
    if task is None:
        return PlaceChange(PlaceOutcome.UNKNOWN, None)
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return PlaceChange(PlaceOutcome.CLOSED, task)
    return shift, task


def take_places(
    db: sqlite3.Connection,
    incident_id: int,
    task_id: int,
    user_id: int,
    wanted: int | None,
    now: float,
    origin: int | None = None,
) -> PlaceChange:
    """Take places on a task for the person's open shift: `wanted`, or as many as the task
    still needs, never more than it needs or the shift has people free.

    `origin`: the update that asked; asked again, it moves nothing (REPEATED).
    """
    found = _shift_and_live_task(db, incident_id, task_id, user_id, origin)
    if isinstance(found, PlaceChange):
        return found
    shift, task = found
    free = shift["headcount"] - shift["placed"]
    needs = task.needed - task.accepted
    n = places_to_take(free, needs, wanted)
    if n <= 0:
        holding = _placement(db, shift["id"], shift["headcount"])
        if holding.on(task_id):
            outcome = PlaceOutcome.ALREADY
        elif needs <= 0:
            outcome = PlaceOutcome.FULL
        else:
            outcome = PlaceOutcome.ALL_PLACED
        return PlaceChange(outcome, task, placement=holding)
    _move(db, task_id, shift["id"], n)
    _record(db, origin, now)
    db.execute(
        "INSERT INTO places (task_id, shift_id, count, taken_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (task_id, shift_id) DO UPDATE SET count = places.count + excluded.count",
        (task_id, shift["id"], n, now),
    )
    # who ever joined the task, for the record
    db.execute(
        "INSERT INTO task_accepts (task_id, user_id, accepted_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (task_id, user_id, now),
    )
    drop_escalations(db, task_id, now)  # taken: its escalations still waiting are not sent
    return PlaceChange(
        PlaceOutcome.TAKEN,
        get_task(db, incident_id, task_id),
        n,
        _placement(db, shift["id"], shift["headcount"]),
    )


def release_places(
    db: sqlite3.Connection,
    incident_id: int,
    task_id: int,
    user_id: int,
    wanted: int | None,
    now: float,
    reopen: Reopen | None = None,
    origin: int | None = None,
) -> PlaceChange:
    """Give back `wanted` (default: all) of the shift's places on a task; a task left
    with nobody is open again, and `reopen[task_id]` is queued. `origin` as in
    `take_places`."""
    found = _shift_and_live_task(db, incident_id, task_id, user_id, origin)
    if isinstance(found, PlaceChange):
        return found
    shift, task = found
    held = one(
        db, "SELECT count FROM places WHERE task_id = ? AND shift_id = ?", (task_id, shift["id"])
    )
    if held is None:
        placed = _placement(db, shift["id"], shift["headcount"])
        return PlaceChange(PlaceOutcome.NOT_HOLDING, task, placement=placed)
    n = places_to_give_back(held["count"], wanted)
    reopened = _give_back(db, task_id, shift["id"], n)
    _record(db, origin, now)
    if reopened and reopen:
        enqueue(db, reopen.get(task_id, ()), now)
    _mark_stale(db, [task_id], now)
    return PlaceChange(
        PlaceOutcome.RELEASED,
        get_task(db, incident_id, task_id),
        n,
        _placement(db, shift["id"], shift["headcount"]),
        reopened,
    )


def _give_back(db: sqlite3.Connection, task_id: int, shift_id: int, n: int) -> bool:
    """n of the shift's places on the task, back to the task; whether it is left with nobody."""
    gone = db.execute(
        "DELETE FROM places WHERE task_id = ? AND shift_id = ? AND count = ?",
        (task_id, shift_id, n),
    )
    if gone.rowcount != 1:
        kept = db.execute(
            "UPDATE places SET count = count - ?1 WHERE task_id = ?2 AND shift_id = ?3 "
            "AND count > ?1",
            (n, task_id, shift_id),
        )
        if kept.rowcount != 1:
            raise PlaceConflict(f"task {task_id}, shift {shift_id}, -{n}")
    return _move(db, task_id, shift_id, -n)


def give_back_all(
    db: sqlite3.Connection, shift_id: int, now: float, reopen: Reopen | None = None
) -> list[int]:
    """Every place of a shift that is ending, back to its task (done before the shift is
    closed); tasks left with nobody are open again and `reopen` is queued for them.
    Returns the tasks reopened."""
    held = every(db, "SELECT task_id, count FROM places WHERE shift_id = ?", (shift_id,))
    reopened = [r["task_id"] for r in held if _give_back(db, r["task_id"], shift_id, r["count"])]
    for task_id in reopened:
        enqueue(db, (reopen or {}).get(task_id, ()), now)
    _mark_stale(db, [r["task_id"] for r in held], now)
    return reopened


def _mark_stale(db: sqlite3.Connection, task_ids: Sequence[int], now: float) -> None:
    """The tasks' announcements show an old count: the courier edits them ("3/6")."""
    db.executemany(
        "INSERT INTO stale_announcements (task_id, since) "
        "SELECT ?, ? WHERE EXISTS (SELECT 1 FROM announcements WHERE task_id = ?) "
        "ON CONFLICT DO NOTHING",
        [(task_id, now, task_id) for task_id in task_ids],
    )


class PlacesQueries(Engine):
    """`snowbot.domain.places.PlaceStore` on SQLite."""

    take_places = writes(take_places)
    release_places = writes(release_places)
    placement = reads(placement)
    held_tasks = reads(held_tasks)
