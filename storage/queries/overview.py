"""Reads for the one-screen overview: each street's state, the positions of those on
duty, and turnout hour by hour. No names and no ids of people leave here."""

from __future__ import annotations

import json
import sqlite3

from snowbot.domain.counts import HourTurnout, StreetStates
from storage.engine import Engine, every, one, reads, snapshot
from storage.functions import functions_of


def street_states(db: sqlite3.Connection, incident_id: int) -> StreetStates:
    """Served streets, and the streets with a live task (in progress where any is)."""
    js = functions_of(db).json_list
    served = one(
        db,
        f"SELECT {js.format('street_id')} AS streets FROM served_streets WHERE incident_id = ?",
        (incident_id,),
    )
    live = one(
        db,
        f"SELECT {js.format('street_id')} AS streets, {js.format('busy')} AS busy "
        # (CASE: PostgreSQL has no MAX of a truth value; AS live: it names every subquery)
        "FROM (SELECT street_id, MAX(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END) "
        "AS busy FROM tasks WHERE incident_id = ? AND status IN ('open', 'in_progress') "
        "GROUP BY street_id) AS live",
        (incident_id,),
    )
    assert served is not None and live is not None  # an aggregate always has its row
    busy = dict(zip(json.loads(live["streets"]), json.loads(live["busy"]), strict=True))
    return StreetStates(
        served=frozenset(json.loads(served["streets"])),
        in_progress=frozenset(s for s, b in busy.items() if b),
        open=frozenset(s for s, b in busy.items() if not b),
    )


def positions(db: sqlite3.Connection, incident_id: int) -> list[tuple[float, float, int]]:
    """(lat, lon, headcount) of every open shift: where people are, never who."""
    rows = every(
        db,
        "SELECT lat, lon, headcount FROM shifts WHERE incident_id = ? AND ended_at IS NULL",
        (incident_id,),
    )
    return [(float(r["lat"]), float(r["lon"]), int(r["headcount"])) for r in rows]


def turnout_by_hour(db: sqlite3.Connection, incident_id: int) -> list[HourTurnout]:
    """Per district and hour (epoch hour): headcounts of shifts started, and of shifts ended.

    Added up in order, these give person-times so far and those on duty at each hour.
    """
    whole = functions_of(db).whole
    rows = every(
        db,
        "SELECT district_id, hour, SUM(started) AS started, SUM(ended) AS ended FROM ("
        f"  SELECT district_id, {whole.format('started_at / 3600')} AS hour, "
        "         headcount AS started, 0 AS ended FROM shifts WHERE incident_id = ?"
        "  UNION ALL"
        f"  SELECT district_id, {whole.format('ended_at / 3600')}, 0, headcount FROM shifts "
        "  WHERE incident_id = ? AND ended_at IS NOT NULL"
        ") AS moves GROUP BY district_id, hour ORDER BY hour, district_id",
        (incident_id, incident_id),
    )
    return [
        HourTurnout(int(r["district_id"]), int(r["hour"]), int(r["started"]), int(r["ended"]))
        for r in rows
    ]


def data_version(db: sqlite3.Connection) -> int:
    """A number that moves when another connection (another process) commits a change."""
    row = db.execute("PRAGMA data_version").fetchone()
    return int(row[0])


class OverviewQueries(Engine):
    """`snowbot.domain.stores.OverviewStore` on SQLite."""

    street_states = snapshot(street_states)
    positions = reads(positions)
    turnout_by_hour = reads(turnout_by_hour)
    data_version = reads(data_version)
