"""An incident's end (docs/commands.md "Everyone affected hears it"), inside the transaction that
ends it: its open shifts end with their places given back to the tasks (so tasks.csv and shifts.csv
agree), waiting team requests and task proposals are withdrawn, and the people concerned are
told."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from snowbot.domain.messages import Outgoing, SentCopy, proposal_copy
from snowbot.domain.model import EndedShift, Ending, Incident, WithdrawnTeam
from storage.engine import every
from storage.queries.outbox import enqueue, sent_copies
from storage.queries.teams import COLUMNS as TEAM_COLUMNS
from storage.queries.teams import request_from

# what an incident's end tells, rendered by the service from what the transaction read
Tell = Callable[[Ending], Sequence[Outgoing]]

LIVE = "('open', 'in_progress')"
_HELD = "(SELECT COALESCE(SUM(p.count), 0) FROM places AS p WHERE p.task_id = tasks.id)"


def end_work(db: sqlite3.Connection, ended: Incident, now: float, tell: Tell | None) -> None:
    """Close the incident's open shifts and what waits on them; queue what `tell` says.
    (Called by `start_incident` before the incident itself is marked ended.)"""
    shifts = every(
        db,
        "SELECT s.user_id, u.language, s.headcount, s.started_at FROM shifts AS s "
        "JOIN users AS u ON u.id = s.user_id "
        "WHERE s.incident_id = ? AND s.ended_at IS NULL ORDER BY s.id",
        (ended.id,),
    )
    # places back to their tasks, as a check-out gives them back: a task left with nobody
    # is open again (an ended incident's task is never announced again)
    db.execute(
        f"UPDATE tasks SET accepted = accepted - {_HELD}, "
        f"status = CASE WHEN accepted - {_HELD} = 0 THEN 'open' ELSE status END "
        f"WHERE incident_id = ? AND status IN {LIVE} "
        "AND EXISTS (SELECT 1 FROM places AS p WHERE p.task_id = tasks.id)",
        (ended.id,),
    )
    db.execute(
        "DELETE FROM places WHERE shift_id IN (SELECT id FROM shifts WHERE incident_id = ?)",
        (ended.id,),
    )
    db.execute(
        "UPDATE shifts SET ended_at = ?, placed = 0 WHERE incident_id = ? AND ended_at IS NULL",
        (now, ended.id),
    )
    db.execute("UPDATE district_counters SET on_duty = 0 WHERE incident_id = ?", (ended.id,))
    db.execute("UPDATE unit_counters SET on_duty = 0 WHERE incident_id = ?", (ended.id,))
    reporters = every(
        db,
        "SELECT DISTINCT rr.user_id, u.language, r.id AS report_id "
        "FROM resident_reports AS r JOIN resident_reporters AS rr ON rr.report_id = r.id "
        "JOIN users AS u ON u.id = rr.user_id LEFT JOIN tasks AS t ON t.id = r.task_id "
        "WHERE r.incident_id = ? AND r.dismissed_at IS NULL "
        "AND (t.id IS NULL OR t.status <> 'done') ORDER BY r.id, rr.user_id",
        (ended.id,),
    )
    teams = _withdraw_teams(db, ended.id, now)
    proposals, offered = _withdraw_proposals(db, now)
    if tell is None:
        return
    ending = Ending(
        ended,
        tuple(
            EndedShift(r["user_id"], r["language"], r["headcount"], r["started_at"]) for r in shifts
        ),
        tuple((r["user_id"], r["language"], r["report_id"]) for r in reporters),
        teams,
        proposals,
        offered,
    )
    enqueue(db, tell(ending), now)


def _withdraw_proposals(db: sqlite3.Connection, now: float) -> tuple[int, tuple[SentCopy, ...]]:
    """Task proposals still waiting: gone (a press answers so), and the copies of the messages
    that offered them, to be edited to say they were withdrawn."""
    waiting = every(db, "SELECT id FROM task_proposals WHERE created_at <= ? ORDER BY id", (now,))
    copies: list[SentCopy] = []
    for row in waiting:  # a list of suggestions is kept under its first proposal's key only
        copies.extend(
            sent_copies(db, proposal_copy(row["id"]), now, "withdrawn: incident ended", True)
        )
    gone = db.execute("DELETE FROM task_proposals WHERE created_at <= ?", (now,)).rowcount
    return gone, tuple(copies)


def _withdraw_teams(
    db: sqlite3.Connection, incident_id: int, now: float
) -> tuple[WithdrawnTeam, ...]:
    """Team requests still waiting: withdrawn (a copy not yet sent never will be)."""
    rows = every(
        db,
        f"SELECT {', '.join('r.' + c.strip() for c in TEAM_COLUMNS.split(','))}, "
        "u.language AS leader_language, u.name AS leader_name FROM team_requests AS r "
        "JOIN users AS u ON u.id = r.user_id "
        "WHERE r.incident_id = ? AND r.decision IS NULL ORDER BY r.id",
        (incident_id,),
    )
    withdrawn = []
    for row in rows:
        copies = sent_copies(db, f"team:{row['id']}", now, "withdrawn: the incident ended", True)
        withdrawn.append(
            WithdrawnTeam(
                request_from(row),
                row["leader_language"],
                row["leader_name"],
                copies,
            )
        )
    db.execute(
        "UPDATE team_requests SET decision = 'replaced', decided_at = ? "
        "WHERE incident_id = ? AND decision IS NULL",
        (now, incident_id),
    )
    return tuple(withdrawn)
