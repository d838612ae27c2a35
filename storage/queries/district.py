"""A district in full (docs/commands.md "Everyone affected hears it"): what a district dispatcher's
/tally adds to the tally's district line, read in one snapshot."""

from __future__ import annotations

import sqlite3

from snowbot.domain.counts import DistrictDetail
from snowbot.domain.model import TaskStatus
from storage.engine import Engine, every, one, snapshot


def district_detail(db: sqlite3.Connection, incident_id: int, district_id: int) -> DistrictDetail:
    """People placed on live tasks, tasks by status and reports by status, in the district
    (a shift counts where it checked in, a task and a report where their street is)."""
    placed = one(
        db,
        "SELECT COALESCE(SUM(placed), 0) AS n FROM shifts "
        "WHERE incident_id = ? AND district_id = ? AND ended_at IS NULL",
        (incident_id, district_id),
    )
    tasks = every(
        db,
        "SELECT t.status, COUNT(*) AS n FROM tasks AS t JOIN streets AS s ON s.id = t.street_id "
        "WHERE t.incident_id = ? AND s.district_id = ? GROUP BY t.status",
        (incident_id, district_id),
    )
    reports = one(
        db,
        "SELECT COUNT(CASE WHEN t.id IS NULL OR t.status = 'cancelled' THEN 1 END) AS open, "
        "COUNT(CASE WHEN t.status IN ('open', 'in_progress') THEN 1 END) AS tasked "
        "FROM resident_reports AS r JOIN streets AS s ON s.id = r.street_id "
        "LEFT JOIN tasks AS t ON t.id = r.task_id "
        "WHERE r.incident_id = ? AND s.district_id = ? AND r.dismissed_at IS NULL",
        (incident_id, district_id),
    )
    by_status = dict.fromkeys(TaskStatus, 0)
    for row in tasks:
        by_status[TaskStatus(row["status"])] = int(row["n"])
    return DistrictDetail(
        assigned=int(placed["n"]) if placed else 0,
        tasks=by_status,
        reports_open=int(reports["open"]) if reports else 0,
        reports_tasked=int(reports["tasked"]) if reports else 0,
    )


class DistrictQueries(Engine):
    """`snowbot.domain.stores.CountStore.district_detail` on SQLite."""

    district_detail = snapshot(district_detail)
