"""A six-day storm: ended incidents, the closing reports they owe, and their turnout by time.

An incident ended by `/incident start` or `/incident close` owes its closing report from
the transaction that ends it (`owe_closing_report`); the report is queued, and the debt
marked paid, in one later transaction (`queue_closing_report`), so a crash in between
leaves it owed and the next sweep queues it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Incident
from storage.engine import Engine, every, from_row, one, reads, writes
from storage.functions import functions_of
from storage.queries.outbox import enqueue

# turnout is summed per quarter hour in SQL: every time zone's offset is a whole number
# of quarter hours, so the city's days can be told apart without a row per shift
QUARTER_HOUR = 900


def owe_closing_report(db: sqlite3.Connection, incident_id: int, closed_by: int) -> None:
    db.execute(
        "INSERT INTO closing_reports (incident_id, closed_by) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (incident_id, closed_by),
    )


def incident_by_id(db: sqlite3.Connection, incident_id: int) -> Incident | None:
    row = one(
        db, "SELECT id, name, started_at, ended_at FROM incidents WHERE id = ?", (incident_id,)
    )
    return from_row(Incident, row) if row else None


def incident_ids(db: sqlite3.Connection) -> list[int]:
    return [int(r["id"]) for r in every(db, "SELECT id FROM incidents ORDER BY id")]


def owed_closing_reports(db: sqlite3.Connection) -> list[tuple[int, int]]:
    """(incident id, coordinator) of every closing report not queued yet, oldest first."""
    rows = every(
        db,
        "SELECT incident_id, closed_by FROM closing_reports WHERE queued_at IS NULL "
        "ORDER BY incident_id",
    )
    return [(int(r["incident_id"]), int(r["closed_by"])) for r in rows]


def queue_closing_report(
    db: sqlite3.Connection, incident_id: int, messages: Sequence[Outgoing], now: float
) -> int:
    """Queue the report's messages and mark it paid, once: 0 when it was queued before."""
    cur = db.execute(
        "UPDATE closing_reports SET queued_at = ? WHERE incident_id = ? AND queued_at IS NULL",
        (now, incident_id),
    )
    return enqueue(db, messages, now) if cur.rowcount else 0


def turnout_by_quarter_hour(db: sqlite3.Connection, incident_id: int) -> list[tuple[float, int]]:
    """(start of the quarter hour, person-times of the shifts begun in it), in time order."""
    rows = every(
        db,
        f"SELECT {functions_of(db).whole.format('started_at / ?1')} * ?1 AS quarter, "
        "SUM(headcount) AS n "
        "FROM shifts WHERE incident_id = ?2 GROUP BY quarter ORDER BY quarter",
        (QUARTER_HOUR, incident_id),
    )
    return [(float(r["quarter"]), int(r["n"])) for r in rows]


class ClosingQueries(Engine):
    """`snowbot.domain.stores.ClosingStore` on SQLite (with the outbox's `enqueue_reports`)."""

    incident_by_id = reads(incident_by_id)
    incident_ids = reads(incident_ids)
    owed_closing_reports = reads(owed_closing_reports)
    queue_closing_report = writes(queue_closing_report)
    turnout_by_quarter_hour = reads(turnout_by_quarter_hour)
