"""Tasks and their places: one conditional statement takes a place, so none is over-accepted."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from snowbot.model import (
    AcceptOutcome,
    CloseOutcome,
    Outgoing,
    Proposal,
    Task,
    TaskChange,
    TaskStatus,
)
from storage.sqlite.engine import Engine, one
from storage.sqlite.outbox import enqueue

SELECT = """
    SELECT t.id, t.incident_id, t.street_id, s.name AS street, s.district_id,
           d.name AS district, s.lat, s.lon, t.needed, t.accepted, t.status, t.note,
           t.created_by, t.created_at, t.done_at
    FROM tasks t JOIN streets s ON s.id = t.street_id JOIN districts d ON d.id = s.district_id
"""


def task_from(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"],
        incident_id=row["incident_id"],
        street_id=row["street_id"],
        street=row["street"],
        district_id=row["district_id"],
        district=row["district"],
        lat=row["lat"],
        lon=row["lon"],
        needed=row["needed"],
        accepted=row["accepted"],
        status=TaskStatus(row["status"]),
        note=row["note"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        done_at=row["done_at"],
    )


def get_task(db: sqlite3.Connection, incident_id: int, task_id: int) -> Task | None:
    row = one(db, SELECT + " WHERE t.id = ? AND t.incident_id = ?", (task_id, incident_id))
    return task_from(row) if row else None


def insert_task(
    db: sqlite3.Connection,
    incident_id: int,
    street_id: int,
    needed: int,
    note: str,
    created_by: int,
    now: float,
    announce: Sequence[Outgoing],
    origin: int | None = None,
) -> int:
    """The task's row and its queued announcements (their keys end with the task's id)."""
    cur = db.execute(
        "INSERT INTO tasks (incident_id, street_id, needed, note, created_by, created_at, "
        "origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (incident_id, street_id, needed, note, created_by, now, origin),
    )
    task_id = cur.lastrowid
    assert task_id is not None
    enqueue(db, [replace(m, key=f"{m.key}:{task_id}", task_id=task_id) for m in announce], now)
    return task_id


def create_task(
    db: sqlite3.Connection,
    incident_id: int,
    street_id: int,
    needed: int,
    note: str,
    created_by: int,
    now: float,
    announce: Sequence[Outgoing],
    origin: int | None,
) -> Task:
    made = one(db, "SELECT id FROM tasks WHERE origin = ?", (origin,)) if origin else None
    if made is not None:
        found = get_task(db, incident_id, made["id"])
        if found is not None:
            return found
    task_id = insert_task(
        db, incident_id, street_id, needed, note, created_by, now, announce, origin
    )
    task = get_task(db, incident_id, task_id)
    assert task is not None
    return task


def propose_task(
    db: sqlite3.Connection,
    dispatcher_id: int,
    street_id: int,
    needed: int,
    note: str,
    query: str,
    now: float,
) -> int:
    cur = db.execute(
        "INSERT INTO task_proposals (dispatcher_id, street_id, needed, note, query, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (dispatcher_id, street_id, needed, note, query, now),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def post_proposal(
    db: sqlite3.Connection,
    proposal_id: int,
    incident_id: int,
    now: float,
    announce: Sequence[Outgoing],
) -> Task | None:
    row = one(
        db,
        "DELETE FROM task_proposals WHERE id = ? RETURNING street_id, needed, note, dispatcher_id",
        (proposal_id,),
    )
    if row is None:
        return None
    task_id = insert_task(
        db,
        incident_id,
        row["street_id"],
        row["needed"],
        row["note"],
        row["dispatcher_id"],
        now,
        announce,
    )
    return get_task(db, incident_id, task_id)


def escalate_task(
    db: sqlite3.Connection, task_id: int, messages: Sequence[Outgoing], now: float
) -> int:
    row = one(
        db, "SELECT 1 FROM tasks WHERE id = ? AND status = 'open' AND accepted = 0", (task_id,)
    )
    return 0 if row is None else enqueue(db, messages, now)


def accept_task(
    db: sqlite3.Connection, incident_id: int, task_id: int, user_id: int, now: float
) -> TaskChange:
    took = one(
        db,
        "UPDATE tasks SET accepted = accepted + 1, status = 'in_progress' "
        "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress') "
        "AND accepted < needed AND NOT EXISTS "
        "(SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?) RETURNING id",
        (task_id, incident_id, task_id, user_id),
    )
    if took is not None:
        db.execute(
            "INSERT INTO task_accepts (task_id, user_id, accepted_at) VALUES (?, ?, ?)",
            (task_id, user_id, now),
        )
        outcome = AcceptOutcome.ACCEPTED
    else:
        outcome = _why_not_accepted(db, incident_id, task_id, user_id)
    return TaskChange(outcome, get_task(db, incident_id, task_id))


def complete_task(
    db: sqlite3.Connection,
    incident_id: int,
    task_id: int,
    user_id: int,
    now: float,
    note: str | None,
    proof_file_id: str | None,
    done_km: float | None,
    notices: Sequence[Outgoing],
) -> TaskChange:
    row = one(
        db,
        "UPDATE tasks SET status = 'done', done_at = ?1, done_by = ?2, done_km = ?3, "
        "proof_file_id = COALESCE(?4, proof_file_id), "
        "note = CASE WHEN ?5 IS NULL OR ?5 = '' THEN note "
        "WHEN note = '' THEN ?5 ELSE note || ' | ' || ?5 END "
        "WHERE id = ?6 AND incident_id = ?7 AND status IN ('open', 'in_progress') "
        "RETURNING street_id",
        (now, user_id, done_km, proof_file_id, note, task_id, incident_id),
    )
    if row is not None:
        db.execute(
            "INSERT OR IGNORE INTO served_streets (incident_id, street_id, served_at) "
            "VALUES (?, ?, ?)",
            (incident_id, row["street_id"], now),
        )
        enqueue(db, notices, now)
        outcome = CloseOutcome.DONE
    else:
        outcome = _why_not_closed(db, incident_id, task_id, TaskStatus.DONE)
    return TaskChange(outcome, get_task(db, incident_id, task_id))


def cancel_task(db: sqlite3.Connection, incident_id: int, task_id: int, now: float) -> TaskChange:
    cur = db.execute(
        "UPDATE tasks SET status = 'cancelled', done_at = ? "
        "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress')",
        (now, task_id, incident_id),
    )
    if cur.rowcount == 1:
        outcome = CloseOutcome.CANCELLED
    else:
        outcome = _why_not_closed(db, incident_id, task_id, TaskStatus.CANCELLED)
    return TaskChange(outcome, get_task(db, incident_id, task_id))


def _status(db: sqlite3.Connection, incident_id: int, task_id: int) -> TaskStatus | None:
    row = one(
        db, "SELECT status FROM tasks WHERE id = ? AND incident_id = ?", (task_id, incident_id)
    )
    return TaskStatus(row["status"]) if row else None


def _why_not_accepted(
    db: sqlite3.Connection, incident_id: int, task_id: int, user_id: int
) -> AcceptOutcome:
    status = _status(db, incident_id, task_id)
    if status is None:
        return AcceptOutcome.UNKNOWN
    if status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return AcceptOutcome.CLOSED
    joined = one(
        db, "SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?", (task_id, user_id)
    )
    return AcceptOutcome.ALREADY if joined else AcceptOutcome.FULL


def _why_not_closed(
    db: sqlite3.Connection, incident_id: int, task_id: int, wanted: TaskStatus
) -> CloseOutcome:
    status = _status(db, incident_id, task_id)
    if status is None:
        return CloseOutcome.UNKNOWN
    return CloseOutcome.ALREADY if status == wanted else CloseOutcome.CLOSED


class SqliteTasks(Engine):
    """`snowbot.stores.TaskStore` on SQLite."""

    async def create_task(
        self,
        incident_id: int,
        street_id: int,
        needed: int,
        note: str,
        created_by: int,
        now: float,
        announce: Sequence[Outgoing] = (),
        origin: int | None = None,
    ) -> Task:
        """Post a task and queue its announcements in one transaction.

        Each of `announce` is about the new task: its id is filled in and added to the key.
        `origin`: the update that asked for it; asked again, the same task is returned.
        """
        return await self._write(
            create_task, incident_id, street_id, needed, note, created_by, now, announce, origin
        )

    async def propose_task(
        self, dispatcher_id: int, street_id: int, needed: int, note: str, query: str, now: float
    ) -> int:
        """Keep a geocoded /newtask until its dispatcher confirms it; returns its id."""
        return await self._write(propose_task, dispatcher_id, street_id, needed, note, query, now)

    async def proposal(self, proposal_id: int) -> Proposal | None:
        """A proposal still waiting for its dispatcher."""
        row = await self._one(
            "SELECT dispatcher_id, street_id, needed, note, created_at FROM task_proposals "
            "WHERE id = ?",
            (proposal_id,),
        )
        if row is None:
            return None
        return Proposal(
            dispatcher_id=int(row["dispatcher_id"]),
            street_id=int(row["street_id"]),
            needed=int(row["needed"]),
            note=str(row["note"]),
            created_at=float(row["created_at"]),
        )

    async def post_proposal(
        self, proposal_id: int, incident_id: int, now: float, announce: Sequence[Outgoing] = ()
    ) -> Task | None:
        """Turn a proposal into a task, once: None when it was already posted or withdrawn."""
        return await self._write(post_proposal, proposal_id, incident_id, now, announce)

    async def get_task(self, incident_id: int, task_id: int) -> Task | None:
        row = await self._one(
            SELECT + " WHERE t.id = ? AND t.incident_id = ?", (task_id, incident_id)
        )
        return task_from(row) if row else None

    async def unaccepted_tasks(self, incident_id: int, created_before: float) -> list[Task]:
        """Open tasks nobody has accepted, posted at or before `created_before`."""
        rows = await self._all(
            SELECT + " WHERE t.incident_id = ? AND t.status = 'open' AND t.created_at <= ? "
            "ORDER BY t.id",
            (incident_id, created_before),
        )
        return [task_from(r) for r in rows]

    async def escalate_task(self, task_id: int, messages: Sequence[Outgoing], now: float) -> int:
        """Queue an escalation, only while the task is still open with nobody on it."""
        return await self._write(escalate_task, task_id, messages, now)

    async def live_tasks(self, incident_id: int) -> list[Task]:
        """Tasks still wanting people or completion (open and in progress), oldest first."""
        rows = await self._all(
            SELECT + " WHERE t.incident_id = ? AND t.status IN ('open', 'in_progress') "
            "ORDER BY t.id",
            (incident_id,),
        )
        return [task_from(r) for r in rows]

    async def has_accepted(self, task_id: int, user_id: int) -> bool:
        row = await self._one(
            "SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?", (task_id, user_id)
        )
        return row is not None

    async def accept_task(
        self, incident_id: int, task_id: int, user_id: int, now: float
    ) -> TaskChange:
        """Join a task. One conditional UPDATE takes the place, so it is never over-accepted."""
        return await self._write(accept_task, incident_id, task_id, user_id, now)

    async def complete_task(
        self,
        incident_id: int,
        task_id: int,
        user_id: int,
        now: float,
        note: str | None,
        proof_file_id: str | None,
        done_km: float | None = None,
        notices: Sequence[Outgoing] = (),
    ) -> TaskChange:
        """Mark done and serve its street, in one transaction; done once, however often asked.

        `done_km`: how far from the street it was reported, when known; `notices` are
        queued only if this call is the one that marked it done.
        """
        return await self._write(
            complete_task,
            incident_id,
            task_id,
            user_id,
            now,
            note,
            proof_file_id,
            done_km,
            notices,
        )

    async def cancel_task(self, incident_id: int, task_id: int, now: float) -> TaskChange:
        return await self._write(cancel_task, incident_id, task_id, now)
