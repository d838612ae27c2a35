"""The dispatcher's desk on residents' reports (群众求助): a task made for a report, a
report dismissed, and the reads of reports waiting, tasked and counted.

Each decision is taken inside one write transaction, only while the report is open, so
two dispatchers deciding at once make one decision.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.domain.messages import Outgoing
from snowbot.domain.residents import (
    Report,
    ReportChange,
    ReportCounts,
    ReportDecision,
    Reporter,
    ReportExportRow,
    ReportStatus,
)
from storage.engine import Engine, every, reads, snapshot, writes
from storage.queries.outbox import enqueue, sent_copies
from storage.queries.residents import (
    SELECT,
    STATUS,
    DismissedNotices,
    Shown,
    TaskedNotices,
    get_report,
    report_from,
    reporters,
)
from storage.queries.tasks import get_task, insert_task

# -- a dispatcher's decision -----------------------------------------------------------------


def task_for_report(
    db: sqlite3.Connection,
    incident_id: int,
    report_id: int,
    needed: int,
    note: str,
    created_by: int,
    now: float,
    announce: Sequence[Outgoing],
    notices: TaskedNotices,
    origin: int | None = None,
    shown: Shown | None = None,
) -> ReportDecision:
    """Post a task on the report's street and link it, only while the report is open.
    `shown(task, copies)`: the edits that show the decision on the report's copies sent."""
    report = get_report(db, incident_id, report_id)
    if report is None:
        return ReportDecision(ReportChange.UNKNOWN, None)
    if report.status != ReportStatus.OPEN:
        task = get_task(db, incident_id, report.task_id) if report.task_id else None
        return ReportDecision(ReportChange.NOT_OPEN, report, task)
    task_id = insert_task(
        db, incident_id, report.street_id, needed, note, created_by, now, announce, origin
    )
    db.execute("UPDATE resident_reports SET task_id = ? WHERE id = ?", (task_id, report_id))
    task = get_task(db, incident_id, task_id)
    assert task is not None
    enqueue(db, notices(task, reporters(db, report_id)), now)
    if shown is not None:
        enqueue(db, shown(task, sent_copies(db, f"report:{report_id}", now, "decided")), now)
    return ReportDecision(ReportChange.DONE, get_report(db, incident_id, report_id), task)


def dismiss_report(
    db: sqlite3.Connection,
    incident_id: int,
    report_id: int,
    by: int,
    now: float,
    block: bool,
    notices: DismissedNotices,
    shown: Shown | None = None,
) -> ReportDecision:
    """Dismiss an open report (its reporters told); with `block`, its maker may report no
    more this incident (also after a plain Dismiss)."""
    report = get_report(db, incident_id, report_id)
    if report is None:
        return ReportDecision(ReportChange.UNKNOWN, None)
    if report.status == ReportStatus.OPEN:
        db.execute(
            "UPDATE resident_reports SET dismissed_at = ?, dismissed_by = ? WHERE id = ?",
            (now, by, report_id),
        )
        enqueue(db, notices(report, reporters(db, report_id)), now)
        if shown is not None:
            enqueue(db, shown(None, sent_copies(db, f"report:{report_id}", now, "decided")), now)
    elif not (block and report.status == ReportStatus.DISMISSED):
        return ReportDecision(ReportChange.NOT_OPEN, report)
    if block:
        db.execute(
            "INSERT INTO resident_blocks (incident_id, user_id, blocked_by, blocked_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (incident_id, report.created_by, by, now),
        )
    return ReportDecision(ReportChange.DONE, get_report(db, incident_id, report_id))


# -- reads ----------------------------------------------------------------------------------


def open_reports(
    db: sqlite3.Connection, incident_id: int, district_id: int | None = None
) -> list[Report]:
    """Reports waiting for a decision, most reporters first, then oldest first."""
    where = " WHERE r.incident_id = ? AND " + STATUS + " = 'open'"
    params: tuple[int, ...] = (incident_id,)
    if district_id is not None:
        where += " AND s.district_id = ?"
        params += (district_id,)
    rows = every(db, SELECT + where + " ORDER BY r.reporters DESC, r.id", params)
    return [report_from(r) for r in rows]


def reports_of_task(db: sqlite3.Connection, task_id: int) -> list[tuple[Report, list[Reporter]]]:
    """The reports a task was made for, each with its reporters."""
    rows = every(db, SELECT + " WHERE r.task_id = ? ORDER BY r.id", (task_id,))
    return [(report_from(r), reporters(db, int(r["id"]))) for r in rows]


def report_counts(db: sqlite3.Connection, incident_id: int) -> ReportCounts:
    rows = every(
        db,
        f"SELECT {STATUS} AS status, r.created_at, t.done_at FROM resident_reports r "
        "LEFT JOIN tasks t ON t.id = r.task_id WHERE r.incident_id = ?",
        (incident_id,),
    )
    counts = dict.fromkeys(ReportStatus, 0)
    waits = []
    for r in rows:
        status = ReportStatus(r["status"])
        counts[status] += 1
        if status == ReportStatus.RESOLVED:
            waits.append(float(r["done_at"]) - float(r["created_at"]))
    return ReportCounts(
        open=counts[ReportStatus.OPEN],
        tasked=counts[ReportStatus.TASKED],
        resolved=counts[ReportStatus.RESOLVED],
        dismissed=counts[ReportStatus.DISMISSED],
        waits=tuple(sorted(waits)),
    )


def report_rows(db: sqlite3.Connection, incident_id: int) -> list[ReportExportRow]:
    rows = every(db, SELECT + " WHERE r.incident_id = ? ORDER BY r.id", (incident_id,))
    return [
        ReportExportRow(
            id=r["id"],
            district=r["district"],
            street=r["street"],
            lat=r["lat"],
            lon=r["lon"],
            reporters=r["reporters"],
            status=r["status"],
            task_id=r["task_id"],
            created_at=r["created_at"],
            resolved_at=r["resolved_at"],
            text=r["text"],
        )
        for r in rows
    ]


class ReportDeskQueries(Engine):
    """The desk's part of `snowbot.domain.stores.ReportStore`."""

    task_for_report = writes(task_for_report)
    dismiss_report = writes(dismiss_report)
    open_reports = reads(open_reports)
    reports_of_task = snapshot(reports_of_task)
    report_counts = snapshot(report_counts)
    report_rows = reads(report_rows)
