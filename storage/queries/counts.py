"""Reads of one moment: the tally's counts, the day's summary, the CSV export, recounts."""

from __future__ import annotations

import json
import sqlite3

from snowbot.domain.counts import DayCounts, Recount, ShiftExportRow, TallyCounts, TaskExportRow
from snowbot.domain.model import Incident, TaskStatus
from storage.engine import Engine, every, from_row, one, reads, snapshot
from storage.functions import functions_of
from storage.queries.report_desk import report_counts
from storage.queries.units import day_units, unit_turnouts


def tally_counts(db: sqlite3.Connection, incident: Incident) -> TallyCounts:
    """The tally's raw numbers: kept counters, not a scan of every shift (in one snapshot)."""
    iid = (incident.id,)
    people = one(db, "SELECT people FROM incidents WHERE id = ?", iid)
    tasks = {status: 0 for status in TaskStatus}
    for r in every(
        db, "SELECT status, COUNT(*) AS n FROM tasks WHERE incident_id = ? GROUP BY status", iid
    ):
        tasks[TaskStatus(r["status"])] = r["n"]
    counters = every(
        db,
        "SELECT district_id, person_times, on_duty FROM district_counters WHERE incident_id = ?",
        iid,
    )
    done = every(
        db,
        "SELECT s.district_id, COUNT(*) AS n FROM tasks t JOIN streets s ON s.id = t.street_id "
        "WHERE t.incident_id = ? AND t.status = 'done' GROUP BY s.district_id",
        iid,
    )
    # thousands of streets come back as one row of JSON rather than a row each: building
    # a Python row per street would cost the tally a fifth of its time
    # (docs/performance.md, figure 3)
    js = functions_of(db).json_list
    served = one(
        db,
        f"SELECT {js.format('street_id')} AS streets FROM served_streets WHERE incident_id = ?",
        iid,
    )
    live = one(  # each street with a live task, and its oldest such task, in the same order
        db,
        f"SELECT {js.format('street_id')} AS streets, {js.format('task_id')} AS tasks "
        "FROM (SELECT street_id, MIN(id) AS task_id FROM tasks WHERE incident_id = ? "
        "AND status IN ('open', 'in_progress') GROUP BY street_id) AS live",
        iid,
    )
    # shifts holding places (closed ones hold none), through their own small index
    assigned = one(
        db,
        "SELECT COALESCE(SUM(placed), 0) AS n FROM shifts WHERE incident_id = ? AND placed > 0",
        iid,
    )
    assert served is not None and live is not None  # an aggregate always has its row
    assert assigned is not None
    units, no_unit = unit_turnouts(db, incident.id)
    return TallyCounts(
        incident=incident,
        people=int(people["people"]) if people else 0,
        tasks=tasks,
        on_duty={r["district_id"]: (r["person_times"], r["on_duty"]) for r in counters},
        done={r["district_id"]: r["n"] for r in done},
        served=frozenset(json.loads(served["streets"])),
        first_live=dict(zip(json.loads(live["streets"]), json.loads(live["tasks"]), strict=True)),
        assigned=int(assigned["n"]),
        reports=report_counts(db, incident.id),
        units=units,
        no_unit=no_unit,
    )


_TURNOUT = (
    "SELECT COALESCE(SUM(headcount), 0) AS person_times, "
    "COALESCE(SUM(CASE WHEN ended_at IS NULL THEN headcount END), 0) AS on_duty, "
    "COUNT(DISTINCT user_id) AS people FROM shifts WHERE incident_id = ?"
)


def recount(db: sqlite3.Connection, incident_id: int) -> tuple[int, int, int]:
    """(person_times, on_duty, people) added up from the raw shift rows."""
    row = one(db, _TURNOUT, (incident_id,))
    assert row is not None
    return int(row["person_times"]), int(row["on_duty"]), int(row["people"])


def full_recount(db: sqlite3.Connection, incident_id: int) -> Recount:
    """The tally's totals added up again from the raw rows, with no counters."""
    person_times, on_duty, people = recount(db, incident_id)
    tasks = {status: 0 for status in TaskStatus}
    for r in every(
        db,
        "SELECT status, COUNT(*) AS n FROM tasks WHERE incident_id = ? GROUP BY status",
        (incident_id,),
    ):
        tasks[TaskStatus(r["status"])] = r["n"]
    total = one(db, "SELECT COUNT(*) AS n FROM streets")
    served = one(
        db,
        "SELECT COUNT(DISTINCT street_id) AS n FROM tasks WHERE incident_id = ? "
        "AND status = 'done'",
        (incident_id,),
    )
    by_district = every(
        db,
        "SELECT d.name, COALESCE(SUM(sh.headcount), 0) AS person_times FROM districts d "
        "LEFT JOIN shifts sh ON sh.district_id = d.id AND sh.incident_id = ? "
        "GROUP BY d.id ORDER BY d.name",
        (incident_id,),
    )
    # per unit: the shifts' own units, summed once, beside every unit by name
    by_unit = every(
        db,
        "SELECT u.name, COALESCE(s.n, 0) AS person_times FROM units u LEFT JOIN "
        "(SELECT unit_id, SUM(headcount) AS n FROM shifts WHERE incident_id = ? "
        "GROUP BY unit_id) s ON s.unit_id = u.id ORDER BY u.name, u.id",
        (incident_id,),
    )
    no_unit = one(
        db,
        "SELECT COALESCE(SUM(headcount), 0) AS n FROM shifts "
        "WHERE incident_id = ? AND unit_id IS NULL",
        (incident_id,),
    )
    assert total is not None and served is not None and no_unit is not None
    return Recount(
        person_times=person_times,
        on_duty=on_duty,
        people=people,
        tasks=tasks,
        streets_total=int(total["n"]),
        streets_served=int(served["n"]),
        district_person_times=[(r["name"], int(r["person_times"])) for r in by_district],
        unit_person_times=[(r["name"], int(r["person_times"])) for r in by_unit],
        no_unit_person_times=int(no_unit["n"]),
    )


def day_counts(db: sqlite3.Connection, incident_id: int, since: float, until: float) -> DayCounts:
    """Turnout, tasks done and streets served in [since, until), in one snapshot."""
    window = (incident_id, since, until)
    districts = every(
        db,
        "SELECT d.name, SUM(sh.headcount) AS n FROM shifts sh "
        "JOIN districts d ON d.id = sh.district_id WHERE sh.incident_id = ? "
        "AND sh.started_at >= ? AND sh.started_at < ? "
        "GROUP BY d.name ORDER BY n DESC, d.name",
        window,
    )
    done = one(
        db,
        "SELECT COUNT(*) AS n FROM tasks WHERE incident_id = ? AND status = 'done' "
        "AND done_at >= ? AND done_at < ?",
        window,
    )
    served = one(
        db,
        "SELECT COUNT(*) AS n FROM served_streets WHERE incident_id = ? "
        "AND served_at >= ? AND served_at < ?",
        window,
    )
    busiest = districts[0] if districts else None
    return DayCounts(
        person_times=sum(int(r["n"]) for r in districts),
        tasks_done=int(done["n"]) if done else 0,
        streets_served=int(served["n"]) if served else 0,
        busiest_district=busiest["name"] if busiest else None,
        busiest_person_times=int(busiest["n"]) if busiest else 0,
        units=day_units(db, incident_id, since, until),
    )


def shift_rows(db: sqlite3.Connection, incident_id: int) -> list[ShiftExportRow]:
    rows = every(
        db,
        "SELECT sh.id, sh.user_id, COALESCE(u.name, '') AS name, sh.headcount, "
        "d.name AS district, s.name AS street, sh.lat, sh.lon, sh.started_at, sh.ended_at, "
        "sh.placed, un.name AS unit FROM shifts sh "
        "JOIN districts d ON d.id = sh.district_id JOIN streets s ON s.id = sh.street_id "
        "LEFT JOIN users u ON u.id = sh.user_id LEFT JOIN units un ON un.id = sh.unit_id "
        "WHERE sh.incident_id = ? ORDER BY sh.id",
        (incident_id,),
    )
    return [from_row(ShiftExportRow, r) for r in rows]


def task_rows(db: sqlite3.Connection, incident_id: int) -> list[TaskExportRow]:
    rows = every(
        db,
        "SELECT t.id, d.name AS district, s.name AS street, t.needed, t.accepted, t.status, "
        "t.created_by, t.created_at, t.done_at, t.note, un.name AS unit FROM tasks t "
        "JOIN streets s ON s.id = t.street_id JOIN districts d ON d.id = s.district_id "
        "LEFT JOIN units un ON un.id = s.unit_id WHERE t.incident_id = ? ORDER BY t.id",
        (incident_id,),
    )
    return [from_row(TaskExportRow, r) for r in rows]


class CountsQueries(Engine):
    """`snowbot.domain.stores.CountStore` on SQLite."""

    tally_counts = snapshot(tally_counts)
    recount = snapshot(recount)
    day_counts = snapshot(day_counts)
    shift_rows = reads(shift_rows)
    task_rows = reads(task_rows)
