"""Shifts: check-in to check-out, with the per-district counters kept in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from snowbot.domain.messages import Outgoing, SentCopy
from snowbot.domain.model import CheckIn, CheckInKind, Shift, Street, TeamDecision, TeamOutcome
from snowbot.domain.places import Reopen
from snowbot.domain.teams import waits_for_confirmation
from storage.engine import Engine, every, from_row, one, reads, writes
from storage.queries import places, teams, units
from storage.queries.outbox import enqueue, sent_copies

COLUMNS = (
    "id, incident_id, user_id, headcount, district_id, street_id, lat, lon, started_at, ended_at, "
    "welfare_from, located_at"
)


def shift_from(row: sqlite3.Row) -> Shift:
    return from_row(Shift, row)


def check_in(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    headcount: int,
    street: Street,
    lat: float,
    lon: float,
    now: float,
    rejoin_after: float,
    pending_since: float | None = None,
    max_unconfirmed: int | None = None,
    max_new_per_hour: int | None = None,
) -> CheckIn:
    """Open, update or reopen this user's shift (docs/commands.md "What it does, by role").

    `rejoin_after`: a shift that ended at or after this moment is reopened.
    `pending_since`: take the headcount of a "/checkin N" asked since then, if any
    (and forget it), in the same transaction.
    `max_unconfirmed`: a larger team waits for a dispatcher instead (docs/security.md).
    `max_new_per_hour`: at most so many new shifts (or team requests) per person and hour.
    """
    count = headcount
    asked_now = False
    if pending_since is not None:
        asked = one(
            db,
            "DELETE FROM pending_checkins WHERE user_id = ? RETURNING headcount, asked_at",
            (user_id,),
        )
        if asked is not None and asked["asked_at"] >= pending_since:
            count, asked_now = int(asked["headcount"]), True
    # the open shift if there is one, else the latest one ended inside the window
    row = one(
        db,
        f"SELECT {COLUMNS} FROM shifts "
        "WHERE incident_id = ? AND user_id = ? AND (ended_at IS NULL OR ended_at >= ?) "
        "ORDER BY ended_at IS NOT NULL, ended_at DESC LIMIT 1",
        (incident_id, user_id, rejoin_after),
    )
    if row is not None and row["ended_at"] is None:
        db.execute(
            "UPDATE shifts SET lat = ?, lon = ?, street_id = ?, located_at = ? WHERE id = ?",
            (lat, lon, street.id, now, row["id"]),
        )
        return CheckIn(CheckInKind.UPDATED, _moved(shift_from(row), street, lat, lon, now))
    if row is not None:
        shift = shift_from(row)
        db.execute(
            "UPDATE shifts SET ended_at = NULL, closed_by = NULL, welfare_from = ?1, "
            "located_at = ?1, lat = ?2, lon = ?3, street_id = ?4 WHERE id = ?5",
            (now, lat, lon, street.id, shift.id),
        )
        db.execute(
            "UPDATE district_counters SET on_duty = on_duty + ? "
            "WHERE incident_id = ? AND district_id = ?",
            (shift.headcount, incident_id, shift.district_id),
        )
        units.count_on_duty(db, shift.id, incident_id, shift.headcount)
        reopened = _moved(shift, street, lat, lon, now)
        return CheckIn(CheckInKind.REJOINED, replace(reopened, ended_at=None, welfare_from=now))
    waiting = teams.waiting_request(db, user_id)
    if waiting is not None and not asked_now and waiting.incident_id == incident_id:
        # the leader shares the location again: still waiting, now here
        return CheckIn(CheckInKind.WAITING, None, teams.move_request(db, waiting, street, lat, lon))
    if max_new_per_hour is not None and teams.new_this_hour(db, user_id, now) >= max_new_per_hour:
        return CheckIn(CheckInKind.LIMITED, None)
    if waiting is not None:  # a new "/checkin N" (or a new incident) replaces it
        teams.replace_request(db, waiting.id, now)
    if waits_for_confirmation(count, max_unconfirmed):
        request = teams.ask_team(db, incident_id, user_id, count, street, lat, lon, now)
        return CheckIn(CheckInKind.WAITING, None, request)
    opened = open_new_shift(
        db, incident_id, user_id, count, street.district_id, street.id, lat, lon, now
    )
    return CheckIn(CheckInKind.OPENED, opened)


def open_new_shift(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    count: int,
    district_id: int,
    street_id: int,
    lat: float,
    lon: float,
    now: float,
) -> Shift:
    """A new shift: person-times and on duty grow by its headcount, and the person counts."""
    # the shift carries its cadre's unit of now (docs/commands.md "Units and their streets")
    opened = one(
        db,
        "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
        "lat, lon, started_at, welfare_from, located_at, unit_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8, "
        "(SELECT unit_id FROM users WHERE id = ?2)) "
        f"RETURNING {COLUMNS}, COALESCE(unit_id, 0) AS unit",
        (incident_id, user_id, count, district_id, street_id, lat, lon, now),
    )
    assert opened is not None
    db.execute(
        "INSERT INTO district_counters (incident_id, district_id, person_times, on_duty) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (incident_id, district_id) DO UPDATE SET "
        "person_times = district_counters.person_times + excluded.person_times, "
        "on_duty = district_counters.on_duty + excluded.on_duty",
        (incident_id, district_id, count, count),
    )
    # the person counts once an incident: counted before being recorded, in statements
    # whose answers nobody waits for (on PostgreSQL they go out together: pipeline mode)
    db.execute(
        "UPDATE incidents SET people = people + CASE WHEN EXISTS (SELECT 1 FROM "
        "incident_people WHERE incident_id = ?1 AND user_id = ?2) THEN 0 ELSE 1 END "
        "WHERE id = ?1",
        (incident_id, user_id),
    )
    db.execute(
        "INSERT INTO incident_people (incident_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (incident_id, user_id),
    )
    units.count_opened(db, incident_id, user_id, int(opened["unit"]), count)
    return shift_from(opened)


def decide_team(
    db: sqlite3.Connection,
    request_id: int,
    incident_id: int,
    confirm: bool,
    by: int,
    now: float,
    notices: Sequence[Outgoing] = (),
    decided: Callable[[Sequence[SentCopy]], Sequence[Outgoing]] | None = None,
) -> TeamDecision:
    """A dispatcher confirms (the team's shift opens, counting from now) or refuses a
    waiting team, and `notices` are queued, in one transaction; once only. `decided`:
    the edits that show the decision on the copies of the request sent to dispatchers."""
    request = teams.team_request(db, request_id)
    if request is None or request.incident_id != incident_id:
        return TeamDecision(TeamOutcome.UNKNOWN, None)
    if request.decision is not None:
        return TeamDecision(TeamOutcome.DECIDED, request)
    on_duty = open_shift(db, incident_id, request.user_id) if confirm else None
    # a leader on duty who asked for more people (docs/commands.md "Everyone affected hears it"):
    # confirmed, the shift grows
    growing = on_duty is not None and request.headcount > on_duty.headcount
    if on_duty is not None and not growing:
        return TeamDecision(TeamOutcome.ON_DUTY, request)
    db.execute(
        "UPDATE team_requests SET decision = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        ("confirmed" if confirm else "refused", by, now, request_id),
    )
    enqueue(db, notices, now)
    if decided is not None:
        enqueue(db, decided(sent_copies(db, f"team:{request_id}", now, "decided")), now)
    if not confirm:
        return TeamDecision(TeamOutcome.REFUSED, request)
    if on_duty is not None:
        teams.grow_shift(db, on_duty.id, request.headcount - on_duty.headcount)
        return TeamDecision(
            TeamOutcome.CONFIRMED, request, open_shift(db, incident_id, request.user_id)
        )
    shift = open_new_shift(
        db,
        incident_id,
        request.user_id,
        request.headcount,
        request.district_id,
        request.street_id,
        request.lat,
        request.lon,
        now,
    )
    return TeamDecision(TeamOutcome.CONFIRMED, request, shift)


def close_shift(
    db: sqlite3.Connection,
    where: str,
    params: Sequence[Any],
    now: float,
    closed_by: str | None = None,
    reopen: Reopen | None = None,
) -> Shift | None:
    """End the open shift matching `where`, and take its headcount off duty.

    Its places go back to their tasks first; a task left with nobody is open again and
    `reopen[task_id]` is queued (docs/commands.md "Places").
    """
    ending = one(db, f"SELECT id FROM shifts WHERE {where} AND ended_at IS NULL", tuple(params))
    if ending is not None:
        places.give_back_all(db, ending["id"], now, reopen)
    row = one(
        db,
        f"UPDATE shifts SET ended_at = ?, closed_by = ? WHERE {where} AND ended_at IS NULL "
        f"RETURNING {COLUMNS}",
        (now, closed_by, *params),
    )
    if row is None:
        return None
    shift = shift_from(row)
    db.execute(
        "UPDATE district_counters SET on_duty = on_duty - ? "
        "WHERE incident_id = ? AND district_id = ?",
        (shift.headcount, shift.incident_id, shift.district_id),
    )
    units.count_on_duty(db, shift.id, shift.incident_id, -shift.headcount)
    return shift


def check_out(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    now: float,
    forget_pending: bool = True,
    reopen: Reopen | None = None,
) -> Shift | None:
    """Close this user's open shift; None when they were not on duty.

    An unanswered "/checkin N" is forgotten in the same transaction.
    """
    if forget_pending:
        db.execute("DELETE FROM pending_checkins WHERE user_id = ?", (user_id,))
    where = "incident_id = ? AND user_id = ?"
    return close_shift(db, where, (incident_id, user_id), now, reopen=reopen)


def warn_shift(
    db: sqlite3.Connection, shift: Shift, messages: Sequence[Outgoing], now: float
) -> int:
    """Queue a welfare reminder, only while that stretch of the shift is still open."""
    still = one(
        db,
        "SELECT 1 FROM shifts WHERE id = ? AND ended_at IS NULL AND welfare_from = ?",
        (shift.id, shift.welfare_from),
    )
    return 0 if still is None else enqueue(db, messages, now)


def close_shift_for_welfare(
    db: sqlite3.Connection,
    shift: Shift,
    messages: Sequence[Outgoing],
    now: float,
    reopen: Reopen | None = None,
) -> Shift | None:
    """Close a shift after max_shift and queue its message, in one transaction.

    Nothing happens if the cadre checked out or rejoined meanwhile.
    """
    closed = close_shift(
        db, "id = ? AND welfare_from = ?", (shift.id, shift.welfare_from), now, "welfare", reopen
    )
    if closed is not None:
        enqueue(db, messages, now)
    return closed


def move_shift(
    db: sqlite3.Connection,
    incident_id: int,
    user_id: int,
    street_id: int,
    lat: float,
    lon: float,
    now: float,
) -> bool:
    """Move an open shift's position; False when the user is not on duty."""
    cur = db.execute(
        "UPDATE shifts SET lat = ?, lon = ?, street_id = ?, located_at = ? "
        "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
        (lat, lon, street_id, now, incident_id, user_id),
    )
    return cur.rowcount > 0


def set_pending_checkin(db: sqlite3.Connection, user_id: int, headcount: int, now: float) -> None:
    """Remember "/checkin N" until the location comes."""
    db.execute(
        "INSERT INTO pending_checkins (user_id, headcount, asked_at) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET headcount = excluded.headcount, "
        "asked_at = excluded.asked_at",
        (user_id, headcount, now),
    )


def pending_checkin(db: sqlite3.Connection, user_id: int, since: float) -> bool:
    """Whether a "/checkin N" asked at or after `since` still waits for its location."""
    found = one(
        db,
        "SELECT 1 AS waiting FROM pending_checkins WHERE user_id = ? AND asked_at >= ?",
        (user_id, since),
    )
    return found is not None


def _moved(shift: Shift, street: Street, lat: float, lon: float, now: float) -> Shift:
    return replace(shift, street_id=street.id, lat=lat, lon=lon, located_at=now)


def overdue_shifts(db: sqlite3.Connection, incident_id: int, since_before: float) -> list[Shift]:
    """Open shifts whose stretch on duty began at or before `since_before`, oldest first."""
    rows = every(
        db,
        f"SELECT {COLUMNS} FROM shifts WHERE incident_id = ? AND ended_at IS NULL "
        "AND welfare_from <= ? ORDER BY welfare_from, id",
        (incident_id, since_before),
    )
    return [shift_from(r) for r in rows]


def open_shift(db: sqlite3.Connection, incident_id: int, user_id: int) -> Shift | None:
    row = one(
        db,
        f"SELECT {COLUMNS} FROM shifts WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
        (incident_id, user_id),
    )
    return shift_from(row) if row else None


class ShiftsQueries(Engine):
    """`snowbot.domain.stores.ShiftStore` on SQLite."""

    check_in = writes(check_in)
    check_out = writes(check_out)
    move_shift = writes(move_shift)
    set_pending_checkin = writes(set_pending_checkin)
    pending_checkin = reads(pending_checkin)
    open_shift = reads(open_shift)
    overdue_shifts = reads(overdue_shifts)
    warn_shift = writes(warn_shift)
    close_shift_for_welfare = writes(close_shift_for_welfare)
    decide_team = writes(decide_team)
