"""Tasks: posted, proposed, escalated, done and cancelled (places: `storage.queries.places`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace

from snowbot.domain.messages import Outgoing
from snowbot.domain.model import CloseOutcome, Holder, Proposal, Task, TaskChange, TaskStatus
from storage.engine import Engine, every, from_row, one, reads, writes
from storage.queries.outbox import drop_escalations, enqueue

SELECT = """
    SELECT t.id, t.incident_id, t.street_id, s.name AS street, s.district_id,
           d.name AS district, s.lat, s.lon, t.needed, t.accepted, t.status, t.note,
           t.created_by, t.created_at, t.done_at, t.origin, t.urgent, t.done_by
    FROM tasks t JOIN streets s ON s.id = t.street_id JOIN districts d ON d.id = s.district_id
"""


def task_from(row: sqlite3.Row) -> Task:
    return from_row(Task, row, status=TaskStatus(row["status"]), urgent=bool(row["urgent"]))


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
    urgent: bool = False,
) -> int:
    """The task's row and its queued announcements (their keys end with the task's id)."""
    made = one(
        db,
        "INSERT INTO tasks (incident_id, street_id, needed, note, created_by, created_at, "
        "origin, urgent) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (incident_id, street_id, needed, note, created_by, now, origin, int(urgent)),
    )
    assert made is not None
    task_id: int = made["id"]
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
    announce: Sequence[Outgoing] = (),
    origin: int | None = None,
    urgent: bool = False,
) -> Task:
    """Post a task and queue its announcements in one transaction.

    Each of `announce` is about the new task: its id is filled in and added to the key.
    `origin`: the update that asked for it; asked again, the same task is returned.
    """
    made = one(db, "SELECT id FROM tasks WHERE origin = ?", (origin,)) if origin else None
    if made is not None:
        found = get_task(db, incident_id, made["id"])
        if found is not None:
            return found
    task_id = insert_task(
        db, incident_id, street_id, needed, note, created_by, now, announce, origin, urgent
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
    urgent: bool = False,
) -> int:
    """Keep a /newtask to be confirmed (geocoded, or a street's second task in minutes)."""
    made = one(
        db,
        "INSERT INTO task_proposals (dispatcher_id, street_id, needed, note, query, created_at, "
        "urgent) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (dispatcher_id, street_id, needed, note, query, now, int(urgent)),
    )
    assert made is not None
    return int(made["id"])


def post_proposal(
    db: sqlite3.Connection,
    proposal_id: int,
    incident_id: int,
    now: float,
    announce: Sequence[Outgoing] = (),
) -> Task | None:
    """Turn a proposal into a task, once: None when it was already posted or withdrawn."""
    row = one(
        db,
        "DELETE FROM task_proposals WHERE id = ? "
        "RETURNING street_id, needed, note, dispatcher_id, urgent",
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
        urgent=bool(row["urgent"]),
    )
    return get_task(db, incident_id, task_id)


def escalate_task(
    db: sqlite3.Connection, task_id: int, messages: Sequence[Outgoing], now: float
) -> int:
    """Queue an escalation, only while the task is still open with nobody on it."""
    row = one(
        db, "SELECT 1 FROM tasks WHERE id = ? AND status = 'open' AND accepted = 0", (task_id,)
    )
    return 0 if row is None else enqueue(db, messages, now)


def complete_task(
    db: sqlite3.Connection,
    incident_id: int,
    task_id: int,
    user_id: int,
    now: float,
    note: str | None,
    proof_file_id: str | None,
    done_km: float | None = None,
    notices: Sequence[Outgoing] = (),
    told: Callable[[Sequence[Holder]], Sequence[Outgoing]] | None = None,
) -> TaskChange:
    """Mark done and serve its street, in one transaction; done once, however often asked.

    `done_km`: how far from the street it was reported, when known; `notices` are
    queued only if this call is the one that marked it done, and so is what `told`
    makes of who held places on it then (the marker among them, if they did).
    """
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
            "INSERT INTO served_streets (incident_id, street_id, served_at) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (incident_id, row["street_id"], now),
        )
        holders = [] if told is None else _holders(db, task_id)
        free_task(db, task_id)
        enqueue(db, notices, now)
        if told is not None:
            enqueue(db, told(holders), now)
        drop_escalations(db, task_id, now)
        outcome = CloseOutcome.DONE
    else:
        outcome = _why_not_closed(db, incident_id, task_id, TaskStatus.DONE)
    return TaskChange(outcome, get_task(db, incident_id, task_id))


def cancel_task(
    db: sqlite3.Connection,
    incident_id: int,
    task_id: int,
    now: float,
    notices: Sequence[Outgoing] = (),
    by: int | None = None,
) -> TaskChange:
    """Cancel a live task (`by` whom); `notices` are queued only if this call cancelled it."""
    cur = db.execute(
        "UPDATE tasks SET status = 'cancelled', done_at = ?, done_by = ? "
        "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress')",
        (now, by, task_id, incident_id),
    )
    if cur.rowcount == 1:
        free_task(db, task_id)
        drop_escalations(db, task_id, now)
        enqueue(db, notices, now)
        outcome = CloseOutcome.CANCELLED
    else:
        outcome = _why_not_closed(db, incident_id, task_id, TaskStatus.CANCELLED)
    return TaskChange(outcome, get_task(db, incident_id, task_id))


def _status(db: sqlite3.Connection, incident_id: int, task_id: int) -> TaskStatus | None:
    row = one(
        db, "SELECT status FROM tasks WHERE id = ? AND incident_id = ?", (task_id, incident_id)
    )
    return TaskStatus(row["status"]) if row else None


def _why_not_closed(
    db: sqlite3.Connection, incident_id: int, task_id: int, wanted: TaskStatus
) -> CloseOutcome:
    status = _status(db, incident_id, task_id)
    if status is None:
        return CloseOutcome.UNKNOWN
    return CloseOutcome.ALREADY if status == wanted else CloseOutcome.CLOSED


def proposal(db: sqlite3.Connection, proposal_id: int) -> Proposal | None:
    """A proposal still waiting for its dispatcher."""
    row = one(
        db,
        "SELECT dispatcher_id, street_id, needed, note, created_at FROM task_proposals "
        "WHERE id = ?",
        (proposal_id,),
    )
    return from_row(Proposal, row) if row else None


def unaccepted_tasks(db: sqlite3.Connection, incident_id: int, created_before: float) -> list[Task]:
    """Open tasks nobody has accepted, posted at or before `created_before`."""
    rows = every(
        db,
        SELECT + " WHERE t.incident_id = ? AND t.status = 'open' AND t.created_at <= ? "
        "ORDER BY t.id",
        (incident_id, created_before),
    )
    return [task_from(r) for r in rows]


def live_tasks(db: sqlite3.Connection, incident_id: int) -> list[Task]:
    """Tasks still wanting people or completion (open and in progress), oldest first."""
    rows = every(
        db,
        SELECT + " WHERE t.incident_id = ? AND t.status IN ('open', 'in_progress') ORDER BY t.id",
        (incident_id,),
    )
    return [task_from(r) for r in rows]


def done_proofs(
    db: sqlite3.Connection, incident_id: int, district_id: int | None, limit: int
) -> list[tuple[Task, str]]:
    """Done tasks with a proof photo (their file id), the latest first (the Mini App)."""
    where = " WHERE t.incident_id = ? AND t.status = 'done' AND t.proof_file_id IS NOT NULL"
    params: tuple[int, ...] = (incident_id,)
    if district_id is not None:
        where += " AND s.district_id = ?"
        params += (district_id,)
    select = SELECT.replace("\n    FROM tasks t", ", t.proof_file_id\n    FROM tasks t", 1)
    assert select != SELECT, "the task columns' SELECT lost its FROM line"
    rows = every(
        db, select + where + " ORDER BY t.done_at DESC, t.id DESC LIMIT ?", (*params, limit)
    )
    return [(task_from(r), str(r["proof_file_id"])) for r in rows]


def has_accepted(db: sqlite3.Connection, task_id: int, user_id: int) -> bool:
    """Whether this person's open shift holds places on the task now."""
    row = one(
        db,
        "SELECT 1 FROM places p JOIN shifts sh ON sh.id = p.shift_id "
        "WHERE p.task_id = ? AND sh.user_id = ? AND sh.ended_at IS NULL",
        (task_id, user_id),
    )
    return row is not None


def reopen_task(
    db: sqlite3.Connection,
    incident_id: int,
    task_id: int,
    done_since: float,
    now: float,
    notices: Sequence[Outgoing] = (),
) -> tuple[str, Task | None, bool]:
    """A task marked done at `done_since` or later is open again, with nobody on it; its
    street is unserved again unless another done task serves it. Returns ("reopened",
    "unknown", "not_done" or "too_late"; the task; whether its street is unserved again).
    `notices` are queued only when it is reopened."""
    row = one(
        db,
        "UPDATE tasks SET status = 'open', accepted = 0, done_at = NULL, done_by = NULL, "
        "done_km = NULL WHERE id = ? AND incident_id = ? AND status = 'done' "
        "AND done_at >= ? RETURNING street_id",
        (task_id, incident_id, done_since),
    )
    if row is None:
        task = get_task(db, incident_id, task_id)
        if task is None:
            return "unknown", None, False
        return ("too_late" if task.status == TaskStatus.DONE else "not_done"), task, False
    unserved = db.execute(
        "DELETE FROM served_streets WHERE incident_id = ?1 AND street_id = ?2 AND NOT EXISTS "
        "(SELECT 1 FROM tasks WHERE incident_id = ?1 AND street_id = ?2 AND status = 'done')",
        (incident_id, row["street_id"]),
    ).rowcount
    db.execute(
        "INSERT INTO stale_announcements (task_id, since) "
        "SELECT ?, ? WHERE EXISTS (SELECT 1 FROM announcements WHERE task_id = ?) "
        "ON CONFLICT DO NOTHING",
        (task_id, now, task_id),
    )
    enqueue(db, notices, now)
    return "reopened", get_task(db, incident_id, task_id), unserved > 0


def _holders(db: sqlite3.Connection, task_id: int) -> list[Holder]:
    """Who holds places on the task now, with their language and their shift's size."""
    rows = every(
        db,
        "SELECT sh.user_id, u.language, p.count, sh.headcount FROM places AS p "
        "JOIN shifts AS sh ON sh.id = p.shift_id JOIN users AS u ON u.id = sh.user_id "
        "WHERE p.task_id = ? ORDER BY p.taken_at, sh.user_id",
        (task_id,),
    )
    return [Holder(r["user_id"], r["language"], r["count"], r["headcount"]) for r in rows]


def free_task(db: sqlite3.Connection, task_id: int) -> None:
    """A task done or cancelled frees every place on it; its count stays, for the record."""
    db.execute(
        "UPDATE shifts SET placed = placed - "
        "(SELECT count FROM places p WHERE p.task_id = ?1 AND p.shift_id = shifts.id) "
        "WHERE id IN (SELECT shift_id FROM places WHERE task_id = ?1)",
        (task_id,),
    )
    db.execute("DELETE FROM places WHERE task_id = ?", (task_id,))


class TasksQueries(Engine):
    """`snowbot.domain.stores.TaskStore` on SQLite."""

    create_task = writes(create_task)
    reopen_task = writes(reopen_task)
    get_task = reads(get_task)
    propose_task = writes(propose_task)
    proposal = reads(proposal)
    post_proposal = writes(post_proposal)
    live_tasks = reads(live_tasks)
    done_proofs = reads(done_proofs)
    unaccepted_tasks = reads(unaccepted_tasks)
    escalate_task = writes(escalate_task)
    has_accepted = reads(has_accepted)
    complete_task = writes(complete_task)
    cancel_task = writes(cancel_task)
