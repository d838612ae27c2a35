"""Residents' reports (群众求助): made, joined and described (the desk's decisions: report_desk).

Each decision is taken inside one write transaction (SQLite's write lock is held from
BEGIN IMMEDIATE), so two people reporting the same corner at once make one report
with two reporters, and the hourly limit cannot be passed by sending fast. A report's
state is derived from its row and its task's, so a task done or cancelled changes it
with no second write.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Sequence

from snowbot.domain.messages import Outgoing, SentCopy
from snowbot.domain.model import Task
from snowbot.domain.residents import (
    Report,
    Reporter,
    ReportMade,
    ReportOutcome,
    ReportStatus,
    ReportWait,
    report_to_join,
)
from storage.engine import Engine, every, from_row, one, reads, snapshot, writes
from storage.queries.outbox import enqueue

HOUR = 3600.0
KM_PER_DEGREE = 111.32  # of latitude; a box around a point, before the exact distance

STATUS = (
    "CASE WHEN r.dismissed_at IS NOT NULL THEN 'dismissed' "
    "WHEN t.id IS NULL OR t.status = 'cancelled' THEN 'open' "
    "WHEN t.status = 'done' THEN 'resolved' ELSE 'tasked' END"
)
SELECT = f"""
    SELECT r.id, r.incident_id, r.created_by, r.street_id, s.name AS street, s.district_id,
           d.name AS district, r.lat, r.lon, r.text, r.photo_file_id, r.created_at,
           r.reporters, r.task_id, {STATUS} AS status,
           CASE WHEN r.dismissed_at IS NULL AND t.status = 'done' THEN t.done_at END
               AS resolved_at
    FROM resident_reports r JOIN streets s ON s.id = r.street_id
    JOIN districts d ON d.id = s.district_id LEFT JOIN tasks t ON t.id = r.task_id
"""

# What a transaction asks the service to say, once it knows the report (or task) it made
NewReportNotices = Callable[[int], Sequence[Outgoing]]
TaskedNotices = Callable[[Task, Sequence[Reporter]], Sequence[Outgoing]]
DismissedNotices = Callable[[Report, Sequence[Reporter]], Sequence[Outgoing]]
# the decision shown on the report's copies sent (the task made, or None: dismissed)
Shown = Callable[[Task | None, Sequence[SentCopy]], Sequence[Outgoing]]


def report_from(row: sqlite3.Row) -> Report:
    return from_row(Report, row, status=ReportStatus(row["status"]))


def get_report(db: sqlite3.Connection, incident_id: int, report_id: int) -> Report | None:
    row = one(db, SELECT + " WHERE r.id = ? AND r.incident_id = ?", (report_id, incident_id))
    return report_from(row) if row else None


def reporters(db: sqlite3.Connection, report_id: int) -> list[Reporter]:
    rows = every(
        db,
        "SELECT p.user_id, u.language FROM resident_reporters p "
        "LEFT JOIN users u ON u.id = p.user_id WHERE p.report_id = ? ORDER BY p.reported_at",
        (report_id,),
    )
    return [Reporter(r["user_id"], r["language"]) for r in rows]


# -- waiting for the location -----------------------------------------------------------------


def wait_for_report(
    db: sqlite3.Connection, user_id: int, text: str, photo_file_id: str | None, now: float
) -> None:
    """/report: the next location this person shares is a report (a new /report starts over)."""
    db.execute(
        "INSERT INTO resident_report_waits (user_id, text, photo_file_id, asked_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET text = excluded.text, "
        "photo_file_id = excluded.photo_file_id, asked_at = excluded.asked_at",
        (user_id, text, photo_file_id, now),
    )


def report_wait(db: sqlite3.Connection, user_id: int, since: float) -> ReportWait | None:
    row = one(
        db,
        "SELECT user_id, text, photo_file_id, asked_at FROM resident_report_waits "
        "WHERE user_id = ? AND asked_at >= ?",
        (user_id, since),
    )
    return from_row(ReportWait, row) if row else None


def add_to_wait(
    db: sqlite3.Connection, user_id: int, text: str, photo_file_id: str | None, since: float
) -> bool:
    """Text or a photo sent before the location: kept with the waiting /report."""
    cur = db.execute(
        "UPDATE resident_report_waits SET text = CASE WHEN ?1 = '' THEN text ELSE ?1 END, "
        "photo_file_id = COALESCE(?2, photo_file_id) WHERE user_id = ?3 AND asked_at >= ?4",
        (text, photo_file_id, user_id, since),
    )
    return cur.rowcount == 1


def made_by_update(db: sqlite3.Connection, incident_id: int, origin: int) -> Report | None:
    row = one(db, SELECT + " WHERE r.origin = ? AND r.incident_id = ?", (origin, incident_id))
    return report_from(row) if row else None


def report_allowance(
    db: sqlite3.Connection, incident_id: int, user_id: int, now: float
) -> tuple[bool, int]:
    """(blocked for this incident, reports made or joined in the last hour)."""
    row = one(
        db,
        "SELECT EXISTS (SELECT 1 FROM resident_blocks WHERE incident_id = ?1 AND user_id = ?2) "
        "AS blocked, (SELECT COUNT(*) FROM resident_reporters WHERE user_id = ?2 "
        "AND reported_at > ?3) AS recent",
        (incident_id, user_id, now - HOUR),
    )
    assert row is not None
    return bool(row["blocked"]), int(row["recent"])


# -- making one --------------------------------------------------------------------------------


def make_report(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    street_id: int,
    lat: float,
    lon: float,
    now: float,
    wait_since: float,
    join_km: float,
    join_since: float,
    max_per_hour: int,
    notices: NewReportNotices,
    origin: int | None = None,
) -> ReportMade | None:
    """The location of a waiting /report: a new report, one more reporter of a live report
    within `join_km` made since `join_since`, or a refusal. None when no /report waited.

    The wait is used up whatever the answer, so the next location is a check-in again.
    A new report's `notices` (for its id) are queued in the same transaction.
    """
    if origin is not None:
        made = made_by_update(db, incident_id, origin)
        if made is not None:  # the same update again, after a crash: the same answer
            return ReportMade(ReportOutcome.NEW, made)
    wait = one(
        db,
        "DELETE FROM resident_report_waits WHERE user_id = ? RETURNING text, photo_file_id, "
        "asked_at",
        (user_id,),
    )
    if wait is None or wait["asked_at"] < wait_since:
        return None
    blocked, recent = report_allowance(db, incident_id, user_id, now)
    if blocked:
        return ReportMade(ReportOutcome.BLOCKED, None)
    if recent >= max_per_hour:
        return ReportMade(ReportOutcome.LIMITED, None)
    near = _nearest_live(db, incident_id, lat, lon, join_km, join_since)
    if near is not None:
        joined = db.execute(
            "INSERT INTO resident_reporters (report_id, user_id, reported_at) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (near, user_id, now),
        )
        if joined.rowcount == 0:
            return ReportMade(ReportOutcome.ALREADY, get_report(db, incident_id, near))
        # one more reporter; their words or photo fill the report's if it has none yet
        db.execute(
            "UPDATE resident_reports SET reporters = reporters + 1, "
            "text = CASE WHEN text = '' THEN ? ELSE text END, "
            "photo_file_id = COALESCE(photo_file_id, ?) WHERE id = ?",
            (wait["text"], wait["photo_file_id"], near),
        )
        return ReportMade(ReportOutcome.JOINED, get_report(db, incident_id, near))
    row = one(
        db,
        "INSERT INTO resident_reports (incident_id, created_by, street_id, lat, lon, text, "
        "photo_file_id, created_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            incident_id,
            user_id,
            street_id,
            lat,
            lon,
            wait["text"],
            wait["photo_file_id"],
            now,
            origin,
        ),
    )
    assert row is not None
    report_id = int(row["id"])
    db.execute(
        "INSERT INTO resident_reporters (report_id, user_id, reported_at) VALUES (?, ?, ?)",
        (report_id, user_id, now),
    )
    enqueue(db, notices(report_id), now)
    return ReportMade(ReportOutcome.NEW, get_report(db, incident_id, report_id))


def _nearest_live(
    db: sqlite3.Connection, incident_id: int, lat: float, lon: float, km: float, since: float
) -> int | None:
    """The nearest report within `km` made since then, not yet dismissed or cleared."""
    dlat = km / KM_PER_DEGREE
    dlon = km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    rows = every(
        db,
        "SELECT r.id, r.lat, r.lon FROM resident_reports r LEFT JOIN tasks t ON t.id = r.task_id "
        "WHERE r.incident_id = ? AND r.created_at >= ? AND r.dismissed_at IS NULL "
        "AND (t.id IS NULL OR t.status != 'done') "
        "AND r.lat BETWEEN ? AND ? AND r.lon BETWEEN ? AND ?",
        (incident_id, since, lat - dlat, lat + dlat, lon - dlon, lon + dlon),
    )
    return report_to_join(lat, lon, ((int(r["id"]), r["lat"], r["lon"]) for r in rows), km)


def describable_report(db: sqlite3.Connection, user_id: int, since: float) -> Report | None:
    """This person's newest report made since then, still waiting for a decision."""
    row = one(
        db,
        SELECT + f" WHERE r.created_by = ? AND r.created_at >= ? AND {STATUS} = 'open' "
        "ORDER BY r.id DESC LIMIT 1",
        (user_id, since),
    )
    return report_from(row) if row else None


def describe_report(
    db: sqlite3.Connection,
    report_id: int,
    user_id: int,
    text: str,
    photo_file_id: str | None,
    notices: Sequence[Outgoing],
    now: float,
) -> bool:
    """Add a description or photo to a report that has none yet (its maker only, once each)."""
    row = one(
        db,
        "UPDATE resident_reports SET text = CASE WHEN text = '' AND ?1 != '' THEN ?1 ELSE text "
        "END, photo_file_id = COALESCE(photo_file_id, ?2) WHERE id = ?3 AND created_by = ?4 "
        "AND dismissed_at IS NULL AND ((text = '' AND ?1 != '') "
        "OR (photo_file_id IS NULL AND ?2 IS NOT NULL)) RETURNING id",
        (text, photo_file_id, report_id, user_id),
    )
    if row is None:
        return False
    enqueue(db, notices, now)
    return True


class ResidentsQueries(Engine):
    """The reporting part of `snowbot.domain.stores.ReportStore` (the desk's: report_desk)."""

    get_report = reads(get_report)
    wait_for_report = writes(wait_for_report)
    report_wait = reads(report_wait)
    add_to_wait = writes(add_to_wait)
    made_by_update = reads(made_by_update)
    report_allowance = snapshot(report_allowance)
    make_report = writes(make_report)
    describable_report = reads(describable_report)
    describe_report = writes(describe_report)
