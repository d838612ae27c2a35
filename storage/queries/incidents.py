"""Incidents: one storm response each; exactly one is current."""

from __future__ import annotations

import sqlite3

from snowbot.domain.model import Incident
from storage.engine import Engine, from_row, one, writes
from storage.queries.closing import owe_closing_report
from storage.queries.ending import Tell, end_work

_COLUMNS = "id, name, started_at, ended_at"


def incident_from(row: sqlite3.Row) -> Incident:
    return from_row(Incident, row)


def open_incident(db: sqlite3.Connection, default_name: str, now: float) -> Incident:
    """The current incident, opening the first one if there is none."""
    db.execute(
        "INSERT INTO incidents (name, started_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (default_name, now),
    )
    row = one(db, f"SELECT {_COLUMNS} FROM incidents WHERE ended_at IS NULL")
    assert row is not None
    return incident_from(row)


def start_incident(
    db: sqlite3.Connection,
    name: str,
    now: float,
    origin: int | None = None,
    closed_by: int | None = None,
    tell: Tell | None = None,
) -> tuple[Incident | None, Incident]:
    """End the current incident (closing its open shifts, `storage.queries.ending`) and
    open a new one.

    `origin`: the update that asked; asked again, nothing more happens. `closed_by`: the
    coordinator the ended incident's closing report is owed to (kept in this transaction).
    `tell`: the notices the end owes, queued in this transaction.
    """
    if origin:
        made = one(db, f"SELECT {_COLUMNS} FROM incidents WHERE origin = ?", (origin,))
        if made is not None:
            return None, incident_from(made)
    old = one(db, f"SELECT {_COLUMNS} FROM incidents WHERE ended_at IS NULL")
    previous = None
    if old is not None:
        previous = Incident(old["id"], old["name"], old["started_at"], now)
        end_work(db, previous, now, tell)  # the shifts end, and with them their places
        db.execute("UPDATE incidents SET ended_at = ? WHERE id = ?", (now, old["id"]))
        if closed_by is not None:
            owe_closing_report(db, old["id"], closed_by)
    made = one(
        db,
        "INSERT INTO incidents (name, started_at, origin) VALUES (?, ?, ?) RETURNING id",
        (name, now, origin),
    )
    assert made is not None
    return previous, Incident(made["id"], name, now, None)


def current(db: sqlite3.Connection) -> Incident | None:
    row = one(db, f"SELECT {_COLUMNS} FROM incidents WHERE ended_at IS NULL")
    return incident_from(row) if row else None


class IncidentsQueries(Engine):
    """`snowbot.domain.stores.IncidentStore` on SQLite."""

    start_incident = writes(start_incident)

    async def current_incident(self, default_name: str, now: float) -> Incident:
        """The current incident, creating the first one on first start."""
        found = await self._read(current)
        if found is not None:
            return found
        return await self._write(open_incident, default_name, now)
