"""The embedded default store: aiosqlite on one SQLite file in WAL mode.

Every change that touches more than one row runs inside one `BEGIN IMMEDIATE`
transaction, so invariants hold across processes too (the write lock is the
database's, not ours); the asyncio lock only keeps this process's coroutines
from interleaving statements on the shared connection.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import LATEST, MIGRATIONS
from storage.records import (
    AcceptOutcome,
    Binding,
    CheckIn,
    CheckInKind,
    CloseOutcome,
    DayCounts,
    District,
    DistrictCounts,
    ImportCounts,
    Incident,
    Lines,
    OutboxItem,
    Outgoing,
    Shift,
    ShiftExportRow,
    Street,
    StreetRow,
    TallyCounts,
    Task,
    TaskChange,
    TaskExportRow,
    TaskStatus,
    UnservedStreet,
    User,
)

BUSY_TIMEOUT_MS = 15_000
LIVE = ("open", "in_progress")

_TASK_SELECT = """
    SELECT t.id, t.incident_id, t.street_id, s.name, s.district_id, d.name, s.lat, s.lon,
           t.needed, t.accepted, t.status, t.note, t.created_by, t.created_at, t.done_at
    FROM tasks t JOIN streets s ON s.id = t.street_id JOIN districts d ON d.id = s.district_id
"""
_SHIFT_COLUMNS = (
    "id, incident_id, user_id, headcount, district_id, street_id, lat, lon, started_at, ended_at, "
    "welfare_from, located_at"
)
_USER_COLUMNS = "id, name, username, language, role, district_id, registered"


async def open_store(path: Path | str) -> SqliteStore:
    """Open (creating if needed) the database file and bring its schema up to date."""
    db = await aiosqlite.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await db.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode survives a killed process; only power loss can drop the last commits.
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        store = SqliteStore(db)
        await store.migrate()
    except BaseException:
        await db.close()
        raise
    return store


class SqliteStore:
    """`storage.interface.Store` on SQLite."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._db.close()

    # -- plumbing --------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; committed when the block ends, rolled back on error."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._db.execute(sql, params) as cur:
            row: Any = await cur.fetchone()
            return row  # type: ignore[no-any-return]

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- schema ----------------------------------------------------------------

    async def schema_version(self) -> int:
        row = await self._one(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        )
        if row is None:
            return 0
        found = await self._one("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return int(found[0]) if found else 0

    async def migrate(self, target: int = LATEST) -> int:
        """Apply the missing migrations up to `target`, each in its own transaction."""
        async with self._lock:
            await self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied_at REAL NOT NULL DEFAULT (unixepoch()))"
            )
        current = await self.schema_version()
        if current > LATEST:
            raise RuntimeError(
                f"database schema version {current} is newer than this snowbot ({LATEST})"
            )
        for version in range(current + 1, target + 1):
            async with self._write() as db:
                for statement in _statements(MIGRATIONS[version]):
                    await db.execute(statement)
                await db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        return await self.schema_version()

    # -- incidents -------------------------------------------------------------

    async def current_incident(self, default_name: str, now: float) -> Incident:
        """The current incident, creating the first one on first start."""
        row = await self._one(
            "SELECT id, name, started_at, ended_at FROM incidents WHERE ended_at IS NULL"
        )
        if row is None:
            async with self._write() as db:
                await db.execute(
                    "INSERT OR IGNORE INTO incidents (name, started_at) VALUES (?, ?)",
                    (default_name, now),
                )
            row = await self._one(
                "SELECT id, name, started_at, ended_at FROM incidents WHERE ended_at IS NULL"
            )
        assert row is not None
        return Incident(*row)

    async def start_incident(self, name: str, now: float) -> tuple[Incident | None, Incident]:
        """End the current incident (closing its open shifts) and open a new one."""
        async with self._write() as db:
            old = await self._one(
                "SELECT id, name, started_at, ended_at FROM incidents WHERE ended_at IS NULL"
            )
            previous = None
            if old is not None:
                await db.execute(
                    "UPDATE shifts SET ended_at = ? WHERE incident_id = ? AND ended_at IS NULL",
                    (now, old[0]),
                )
                await db.execute(
                    "UPDATE district_counters SET on_duty = 0 WHERE incident_id = ?", (old[0],)
                )
                await db.execute("UPDATE incidents SET ended_at = ? WHERE id = ?", (now, old[0]))
                previous = Incident(old[0], old[1], old[2], now)
            cur = await db.execute(
                "INSERT INTO incidents (name, started_at) VALUES (?, ?)", (name, now)
            )
            new_id = cur.lastrowid
            assert new_id is not None
        return previous, Incident(new_id, name, now, None)

    # -- users -----------------------------------------------------------------

    async def register_user(
        self, user_id: int, name: str, username: str | None, language: str | None, now: float
    ) -> User:
        """Create or refresh a user who wrote to the bot; a language chosen with /lang stays."""
        async with self._write() as db:
            await db.execute(
                """INSERT INTO users (id, name, username, language, registered, created_at)
                   VALUES (?, ?, ?, ?, 1, ?)
                   ON CONFLICT (id) DO UPDATE SET
                     name = excluded.name, username = excluded.username, registered = 1,
                     language = CASE WHEN users.lang_chosen THEN users.language
                                     ELSE excluded.language END""",
                (user_id, name, username, language, now),
            )
        user = await self.get_user(user_id)
        assert user is not None
        return user

    async def get_user(self, user_id: int) -> User | None:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def set_language(self, user_id: int, language: str) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE users SET language = ?, lang_chosen = 1 WHERE id = ?", (language, user_id)
            )

    async def set_role(self, user_id: int, role: str, district_id: int | None, now: float) -> User:
        """Give a role, creating a placeholder for a user who has never written."""
        async with self._write() as db:
            await db.execute(
                """INSERT INTO users (id, role, district_id, created_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET role = excluded.role,
                                                  district_id = excluded.district_id""",
                (user_id, role, district_id, now),
            )
        user = await self.get_user(user_id)
        assert user is not None
        return user

    async def users_with_role(self, role: str) -> list[User]:
        rows = await self._all(
            f"SELECT {_USER_COLUMNS} FROM users WHERE role = ? ORDER BY id", (role,)
        )
        return [_user(r) for r in rows]

    # -- geography -------------------------------------------------------------

    async def import_streets(self, rows: Iterable[StreetRow]) -> ImportCounts:
        """Add new streets and move changed ones, all in one transaction; ids stay stable."""
        async with self._write() as db:
            districts: dict[str, int] = {
                name: did for did, name in await self._all("SELECT id, name FROM districts")
            }
            existing = {
                (r[0], r[1]): (r[2], r[3], r[4], r[5])
                for r in await self._all(
                    "SELECT district_id, name, id, lat, lon, lines FROM streets"
                )
            }
            added: list[tuple[int, str, float, float, str | None]] = []
            moved: list[tuple[float, float, str | None, int]] = []
            unchanged = 0
            for row in rows:
                did = districts.get(row.district)
                if did is None:
                    cur = await db.execute(
                        "INSERT INTO districts (name) VALUES (?)", (row.district,)
                    )
                    assert cur.lastrowid is not None
                    did = districts[row.district] = cur.lastrowid
                lines = _lines_json(row.lines)
                found = existing.get((did, row.name))
                if found is None:
                    added.append((did, row.name, row.lat, row.lon, lines))
                elif (found[1], found[2], found[3]) != (row.lat, row.lon, lines):
                    moved.append((row.lat, row.lon, lines, found[0]))
                else:
                    unchanged += 1
            await db.executemany(
                "INSERT INTO streets (district_id, name, lat, lon, lines) VALUES (?, ?, ?, ?, ?)",
                added,
            )
            await db.executemany(
                "UPDATE streets SET lat = ?, lon = ?, lines = ? WHERE id = ?", moved
            )
        return ImportCounts(added=len(added), moved=len(moved), unchanged=unchanged)

    async def streets(self) -> list[Street]:
        rows = await self._all(
            "SELECT s.id, s.district_id, d.name, s.name, s.lat, s.lon "
            "FROM streets s JOIN districts d ON d.id = s.district_id ORDER BY s.id"
        )
        return [Street(*r) for r in rows]

    async def street_lines(self) -> dict[int, Lines]:
        """The lines of every line street (GeoJSON), by street id; point streets have none."""
        rows = await self._all("SELECT id, lines FROM streets WHERE lines IS NOT NULL")
        return {
            int(street_id): tuple(tuple((lat, lon) for lat, lon in part) for part in parts)
            for street_id, text in rows
            for parts in [json.loads(text)]
        }

    async def districts(self) -> list[District]:
        rows = await self._all("SELECT id, name FROM districts ORDER BY name")
        return [District(*r) for r in rows]

    # -- shifts ----------------------------------------------------------------

    async def check_in(
        self,
        incident_id: int,
        user_id: int,
        headcount: int,
        street: Street,
        lat: float,
        lon: float,
        now: float,
        rejoin_after: float,
    ) -> CheckIn:
        """Open, update or reopen this user's shift (SPEC §2), in one transaction.

        `rejoin_after`: a shift that ended at or after this moment is reopened.
        """
        async with self._write() as db:
            row = await self._one(
                f"SELECT {_SHIFT_COLUMNS} FROM shifts "
                "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
                (incident_id, user_id),
            )
            if row is not None:
                await db.execute(
                    "UPDATE shifts SET lat = ?, lon = ?, street_id = ?, located_at = ? "
                    "WHERE id = ?",
                    (lat, lon, street.id, now, row[0]),
                )
                return CheckIn(CheckInKind.UPDATED, _moved(Shift(*row), street, lat, lon, now))
            row = await self._one(
                f"SELECT {_SHIFT_COLUMNS} FROM shifts "
                "WHERE incident_id = ? AND user_id = ? AND ended_at >= ? "
                "ORDER BY ended_at DESC LIMIT 1",
                (incident_id, user_id, rejoin_after),
            )
            if row is not None:
                shift = Shift(*row)
                await db.execute(
                    "UPDATE shifts SET ended_at = NULL, closed_by = NULL, welfare_from = ?1, "
                    "located_at = ?1, lat = ?2, lon = ?3, street_id = ?4 WHERE id = ?5",
                    (now, lat, lon, street.id, shift.id),
                )
                await db.execute(
                    "UPDATE district_counters SET on_duty = on_duty + ? "
                    "WHERE incident_id = ? AND district_id = ?",
                    (shift.headcount, incident_id, shift.district_id),
                )
                reopened = _moved(shift, street, lat, lon, now)
                return CheckIn(
                    CheckInKind.REJOINED, replace(reopened, ended_at=None, welfare_from=now)
                )
            row = await self._one(
                "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
                "lat, lon, started_at, welfare_from, located_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8) "
                f"RETURNING {_SHIFT_COLUMNS}",
                (incident_id, user_id, headcount, street.district_id, street.id, lat, lon, now),
            )
            assert row is not None
            await db.execute(
                "INSERT INTO district_counters (incident_id, district_id, person_times, on_duty) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (incident_id, district_id) DO UPDATE SET "
                "person_times = person_times + excluded.person_times, "
                "on_duty = on_duty + excluded.on_duty",
                (incident_id, street.district_id, headcount, headcount),
            )
            await db.execute(
                "INSERT OR IGNORE INTO incident_people (incident_id, user_id) VALUES (?, ?)",
                (incident_id, user_id),
            )
            shift = Shift(*row)
            return CheckIn(CheckInKind.OPENED, shift)

    async def check_out(self, incident_id: int, user_id: int, now: float) -> Shift | None:
        """Close this user's open shift; None when they were not on duty."""
        async with self._write():
            return await self._close_shift(
                "incident_id = ? AND user_id = ?", (incident_id, user_id), now, None
            )

    async def _close_shift(
        self, where: str, params: Sequence[Any], now: float, closed_by: str | None
    ) -> Shift | None:
        """Inside a write transaction: end the open shift matching `where`, and its on-duty."""
        row = await self._one(
            f"UPDATE shifts SET ended_at = ?, closed_by = ? WHERE {where} AND ended_at IS NULL "
            f"RETURNING {_SHIFT_COLUMNS}",
            (now, closed_by, *params),
        )
        if row is None:
            return None
        shift = Shift(*row)
        await self._db.execute(
            "UPDATE district_counters SET on_duty = on_duty - ? "
            "WHERE incident_id = ? AND district_id = ?",
            (shift.headcount, shift.incident_id, shift.district_id),
        )
        return shift

    async def overdue_shifts(self, incident_id: int, since_before: float) -> list[Shift]:
        """Open shifts whose stretch on duty began at or before `since_before`, oldest first."""
        rows = await self._all(
            f"SELECT {_SHIFT_COLUMNS} FROM shifts WHERE incident_id = ? AND ended_at IS NULL "
            "AND welfare_from <= ? ORDER BY welfare_from, id",
            (incident_id, since_before),
        )
        return [Shift(*r) for r in rows]

    async def warn_shift(self, shift: Shift, messages: Sequence[Outgoing], now: float) -> int:
        """Queue a welfare reminder, only while that stretch of the shift is still open."""
        async with self._write():
            if not await self._shift_unchanged(shift):
                return 0
            return await self._enqueue(messages, now)

    async def close_shift_for_welfare(
        self, shift: Shift, messages: Sequence[Outgoing], now: float
    ) -> Shift | None:
        """Close a shift after max_shift and queue its message, in one transaction.

        Nothing happens if the cadre checked out or rejoined meanwhile.
        """
        async with self._write():
            closed = await self._close_shift(
                "id = ? AND welfare_from = ?", (shift.id, shift.welfare_from), now, "welfare"
            )
            if closed is not None:
                await self._enqueue(messages, now)
            return closed

    async def _shift_unchanged(self, shift: Shift) -> bool:
        row = await self._one(
            "SELECT 1 FROM shifts WHERE id = ? AND ended_at IS NULL AND welfare_from = ?",
            (shift.id, shift.welfare_from),
        )
        return row is not None

    async def move_shift(
        self, incident_id: int, user_id: int, street_id: int, lat: float, lon: float, now: float
    ) -> bool:
        """Move an open shift's position; False when the user is not on duty."""
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE shifts SET lat = ?, lon = ?, street_id = ?, located_at = ? "
                "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
                (lat, lon, street_id, now, incident_id, user_id),
            )
            return cur.rowcount > 0

    async def set_pending_checkin(self, user_id: int, headcount: int, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO pending_checkins (user_id, headcount, asked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET headcount = excluded.headcount, "
                "asked_at = excluded.asked_at",
                (user_id, headcount, now),
            )

    async def take_pending_checkin(self, user_id: int, since: float) -> int | None:
        """The headcount a recent /checkin asked for, forgotten once taken."""
        async with self._write():
            row = await self._one(
                "DELETE FROM pending_checkins WHERE user_id = ? RETURNING headcount, asked_at",
                (user_id,),
            )
        if row is None or row[1] < since:
            return None
        return int(row[0])

    async def open_shift(self, incident_id: int, user_id: int) -> Shift | None:
        row = await self._one(
            f"SELECT {_SHIFT_COLUMNS} FROM shifts "
            "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
            (incident_id, user_id),
        )
        return Shift(*row) if row else None

    # -- tasks -----------------------------------------------------------------

    async def create_task(
        self,
        incident_id: int,
        street_id: int,
        needed: int,
        note: str,
        created_by: int,
        now: float,
        announce: Sequence[Outgoing] = (),
    ) -> Task:
        """Post a task and queue its announcements in one transaction.

        Each of `announce` is about the new task: its id is filled in and added to the key.
        """
        async with self._write():
            task_id = await self._insert_task(
                incident_id, street_id, needed, note, created_by, now, announce
            )
        task = await self.get_task(incident_id, task_id)
        assert task is not None
        return task

    async def _insert_task(
        self,
        incident_id: int,
        street_id: int,
        needed: int,
        note: str,
        created_by: int,
        now: float,
        announce: Sequence[Outgoing],
    ) -> int:
        """Inside a write transaction: the task's row and its queued announcements."""
        cur = await self._db.execute(
            "INSERT INTO tasks (incident_id, street_id, needed, note, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (incident_id, street_id, needed, note, created_by, now),
        )
        task_id = cur.lastrowid
        assert task_id is not None
        await self._enqueue(
            [replace(m, key=f"{m.key}:{task_id}", task_id=task_id) for m in announce], now
        )
        return task_id

    async def propose_task(
        self, dispatcher_id: int, street_id: int, needed: int, note: str, query: str, now: float
    ) -> int:
        """Keep a geocoded /newtask until its dispatcher confirms it; returns its id."""
        async with self._write() as db:
            cur = await db.execute(
                "INSERT INTO task_proposals (dispatcher_id, street_id, needed, note, query, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (dispatcher_id, street_id, needed, note, query, now),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    async def proposal(self, proposal_id: int) -> tuple[int, int, int, str, float] | None:
        """(dispatcher id, street id, needed, note, created at) of a waiting proposal."""
        row = await self._one(
            "SELECT dispatcher_id, street_id, needed, note, created_at FROM task_proposals "
            "WHERE id = ?",
            (proposal_id,),
        )
        return (int(row[0]), int(row[1]), int(row[2]), str(row[3]), float(row[4])) if row else None

    async def post_proposal(
        self,
        proposal_id: int,
        incident_id: int,
        now: float,
        announce: Sequence[Outgoing] = (),
    ) -> Task | None:
        """Turn a proposal into a task, once: None when it was already posted or withdrawn."""
        async with self._write():
            row = await self._one(
                "DELETE FROM task_proposals WHERE id = ? "
                "RETURNING street_id, needed, note, dispatcher_id",
                (proposal_id,),
            )
            if row is None:
                return None
            street_id, needed, note, dispatcher_id = row
            task_id = await self._insert_task(
                incident_id, street_id, needed, note, dispatcher_id, now, announce
            )
        return await self.get_task(incident_id, task_id)

    async def get_task(self, incident_id: int, task_id: int) -> Task | None:
        row = await self._one(
            _TASK_SELECT + " WHERE t.id = ? AND t.incident_id = ?", (task_id, incident_id)
        )
        return _task(row) if row else None

    async def unaccepted_tasks(self, incident_id: int, created_before: float) -> list[Task]:
        """Open tasks nobody has accepted, posted at or before `created_before`."""
        rows = await self._all(
            _TASK_SELECT + " WHERE t.incident_id = ? AND t.status = 'open' AND t.created_at <= ? "
            "ORDER BY t.id",
            (incident_id, created_before),
        )
        return [_task(r) for r in rows]

    async def escalate_task(self, task_id: int, messages: Sequence[Outgoing], now: float) -> int:
        """Queue an escalation, only while the task is still open with nobody on it."""
        async with self._write():
            row = await self._one(
                "SELECT 1 FROM tasks WHERE id = ? AND status = 'open' AND accepted = 0", (task_id,)
            )
            return 0 if row is None else await self._enqueue(messages, now)

    async def live_tasks(self, incident_id: int) -> list[Task]:
        """Tasks still wanting people or completion (open and in progress), oldest first."""
        rows = await self._all(
            _TASK_SELECT + " WHERE t.incident_id = ? AND t.status IN ('open', 'in_progress') "
            "ORDER BY t.id",
            (incident_id,),
        )
        return [_task(r) for r in rows]

    async def has_accepted(self, task_id: int, user_id: int) -> bool:
        row = await self._one(
            "SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?", (task_id, user_id)
        )
        return row is not None

    async def accept_task(
        self, incident_id: int, task_id: int, user_id: int, now: float
    ) -> TaskChange:
        """Join a task. One conditional UPDATE takes the place, so it is never over-accepted."""
        async with self._write() as db:
            took = await self._one(
                "UPDATE tasks SET accepted = accepted + 1, status = 'in_progress' "
                "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress') "
                "AND accepted < needed AND NOT EXISTS "
                "(SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?) RETURNING id",
                (task_id, incident_id, task_id, user_id),
            )
            if took is not None:
                await db.execute(
                    "INSERT INTO task_accepts (task_id, user_id, accepted_at) VALUES (?, ?, ?)",
                    (task_id, user_id, now),
                )
                outcome: AcceptOutcome = AcceptOutcome.ACCEPTED
            else:
                outcome = await self._why_not_accepted(incident_id, task_id, user_id)
        return TaskChange(outcome, await self.get_task(incident_id, task_id))

    async def _why_not_accepted(
        self, incident_id: int, task_id: int, user_id: int
    ) -> AcceptOutcome:
        row = await self._one(
            "SELECT status FROM tasks WHERE id = ? AND incident_id = ?", (task_id, incident_id)
        )
        if row is None:
            return AcceptOutcome.UNKNOWN
        if row[0] in ("done", "cancelled"):
            return AcceptOutcome.CLOSED
        if await self.has_accepted(task_id, user_id):
            return AcceptOutcome.ALREADY
        return AcceptOutcome.FULL

    async def complete_task(
        self,
        incident_id: int,
        task_id: int,
        user_id: int,
        now: float,
        note: str | None,
        proof_file_id: str | None,
        done_km: float | None = None,
        notices: Sequence[Outgoing] = (),
    ) -> TaskChange:
        """Mark done and serve its street, in one transaction; done once, however often asked.

        `done_km`: how far from the street it was reported, when known; `notices` are
        queued only if this call is the one that marked it done.
        """
        async with self._write() as db:
            row = await self._one(
                "UPDATE tasks SET status = 'done', done_at = ?1, done_by = ?2, done_km = ?3, "
                "proof_file_id = COALESCE(?4, proof_file_id), "
                "note = CASE WHEN ?5 IS NULL OR ?5 = '' THEN note "
                "WHEN note = '' THEN ?5 ELSE note || ' | ' || ?5 END "
                "WHERE id = ?6 AND incident_id = ?7 AND status IN ('open', 'in_progress') "
                "RETURNING street_id",
                (now, user_id, done_km, proof_file_id, note, task_id, incident_id),
            )
            if row is not None:
                await db.execute(
                    "INSERT OR IGNORE INTO served_streets (incident_id, street_id, served_at) "
                    "VALUES (?, ?, ?)",
                    (incident_id, row[0], now),
                )
                await self._enqueue(notices, now)
                outcome = CloseOutcome.DONE
            else:
                outcome = await self._why_not_closed(incident_id, task_id, "done")
        return TaskChange(outcome, await self.get_task(incident_id, task_id))

    async def cancel_task(self, incident_id: int, task_id: int, now: float) -> TaskChange:
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE tasks SET status = 'cancelled', done_at = ? "
                "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress')",
                (now, task_id, incident_id),
            )
            if cur.rowcount == 1:
                outcome = CloseOutcome.CANCELLED
            else:
                outcome = await self._why_not_closed(incident_id, task_id, "cancelled")
        return TaskChange(outcome, await self.get_task(incident_id, task_id))

    async def _why_not_closed(self, incident_id: int, task_id: int, wanted: str) -> CloseOutcome:
        row = await self._one(
            "SELECT status FROM tasks WHERE id = ? AND incident_id = ?", (task_id, incident_id)
        )
        if row is None:
            return CloseOutcome.UNKNOWN
        return CloseOutcome.ALREADY if row[0] == wanted else CloseOutcome.CLOSED

    # -- the tally -------------------------------------------------------------

    async def tally_counts(self, incident: Incident) -> TallyCounts:
        """All the tally's numbers, read in one snapshot of the database."""
        iid = incident.id
        async with self._lock:
            # one read transaction: every number below comes from the same moment
            await self._db.execute("BEGIN")
            try:
                people = await self._one(
                    "SELECT COUNT(*) FROM incident_people WHERE incident_id = ?", (iid,)
                )
                statuses = await self._all(
                    "SELECT status, COUNT(*) FROM tasks WHERE incident_id = ? GROUP BY status",
                    (iid,),
                )
                districts = await self._all(_DISTRICT_TALLY, (iid, iid, iid))
                unserved = await self._all(_UNSERVED, (iid, iid))
            finally:
                await self._db.execute("COMMIT")
        tasks = {status: 0 for status in TaskStatus}
        for status, count in statuses:
            tasks[TaskStatus(status)] = count
        return TallyCounts(
            incident=incident,
            people=int(people[0]) if people else 0,
            tasks=tasks,
            districts=[DistrictCounts(*r) for r in districts],
            unserved=[UnservedStreet(*r) for r in unserved],
        )

    async def recount(self, incident_id: int) -> tuple[int, int, int]:
        """(person_times, on_duty, people) added up from the raw shift rows, for checking."""
        row = await self._one(
            "SELECT COALESCE(SUM(headcount), 0), "
            "COALESCE(SUM(CASE WHEN ended_at IS NULL THEN headcount END), 0), "
            "COUNT(DISTINCT user_id) FROM shifts WHERE incident_id = ?",
            (incident_id,),
        )
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    # -- export ----------------------------------------------------------------

    async def shift_rows(self, incident_id: int) -> list[ShiftExportRow]:
        rows = await self._all(
            "SELECT sh.id, sh.user_id, COALESCE(u.name, ''), sh.headcount, d.name, s.name, "
            "sh.lat, sh.lon, sh.started_at, sh.ended_at FROM shifts sh "
            "JOIN districts d ON d.id = sh.district_id JOIN streets s ON s.id = sh.street_id "
            "LEFT JOIN users u ON u.id = sh.user_id WHERE sh.incident_id = ? ORDER BY sh.id",
            (incident_id,),
        )
        return [ShiftExportRow(*r) for r in rows]

    async def task_rows(self, incident_id: int) -> list[TaskExportRow]:
        rows = await self._all(
            "SELECT t.id, d.name, s.name, t.needed, t.accepted, t.status, t.created_by, "
            "t.created_at, t.done_at, t.note FROM tasks t "
            "JOIN streets s ON s.id = t.street_id JOIN districts d ON d.id = s.district_id "
            "WHERE t.incident_id = ? ORDER BY t.id",
            (incident_id,),
        )
        return [TaskExportRow(*r) for r in rows]

    # -- chats -----------------------------------------------------------------

    async def bind_chat(
        self, chat_id: int, district_id: int | None, by: int, now: float, title: str = ""
    ) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO bindings (chat_id, district_id, bound_by, bound_at, title) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
                "district_id = excluded.district_id, bound_by = excluded.bound_by, "
                "bound_at = excluded.bound_at, title = excluded.title",
                (chat_id, district_id, by, now, title),
            )

    async def unbind_chat(
        self, chat_id: int, notices: Sequence[Outgoing] = (), now: float = 0.0
    ) -> bool:
        """Forget a group's binding and queue `notices` about it, in one transaction."""
        async with self._write() as db:
            cur = await db.execute("DELETE FROM bindings WHERE chat_id = ?", (chat_id,))
            if cur.rowcount == 0:
                return False
            await self._enqueue(notices, now)
            return True

    async def bindings(self) -> list[Binding]:
        rows = await self._all(
            "SELECT chat_id, district_id, bound_by, title FROM bindings ORDER BY chat_id"
        )
        return [Binding(*r) for r in rows]

    async def add_announcement(self, task_id: int, chat_id: int, message_id: int) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT OR IGNORE INTO announcements (task_id, chat_id, message_id) "
                "VALUES (?, ?, ?)",
                (task_id, chat_id, message_id),
            )

    async def announcements(self, task_id: int) -> list[tuple[int, int]]:
        rows = await self._all(
            "SELECT chat_id, message_id FROM announcements WHERE task_id = ?", (task_id,)
        )
        return [(int(c), int(m)) for c, m in rows]

    # -- the outbox --------------------------------------------------------------

    async def _enqueue(self, messages: Iterable[Outgoing], now: float) -> int:
        """Inside a write transaction: queue messages; (key, chat) already queued are skipped."""
        queued = 0
        for m in messages:
            cur = await self._db.execute(
                "INSERT OR IGNORE INTO outbox (key, chat_id, lang, text, task_id, template, "
                "created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (m.key, m.chat_id, m.lang, m.text, m.task_id, m.template, now, now),
            )
            queued += cur.rowcount
        return queued

    async def enqueue(self, messages: Sequence[Outgoing], now: float) -> int:
        """Queue messages; returns how many were new."""
        async with self._write():
            return await self._enqueue(messages, now)

    async def queued(self, key: str) -> bool:
        """Whether anything was ever queued under this key (sent or not)."""
        return await self._one("SELECT 1 FROM outbox WHERE key = ? LIMIT 1", (key,)) is not None

    async def due_outbox(self, now: float, limit: int) -> list[OutboxItem]:
        """Messages waiting to be sent and due by now, oldest first."""
        rows = await self._all(
            "SELECT id, key, chat_id, lang, text, task_id, template, attempts FROM outbox "
            "WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= ? ORDER BY id LIMIT ?",
            (now, limit),
        )
        return [OutboxItem(r[0], Outgoing(*r[1:7]), r[7]) for r in rows]

    async def outbox_sent(self, item: OutboxItem, message_id: int, now: float) -> None:
        """Record a delivery; a task's message becomes one of its announcements."""
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET sent_at = ?, message_id = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                (now, message_id, item.id),
            )
            if item.message.task_id is not None:
                await db.execute(
                    "INSERT OR IGNORE INTO announcements (task_id, chat_id, message_id) "
                    "VALUES (?, ?, ?)",
                    (item.message.task_id, item.message.chat_id, message_id),
                )

    async def outbox_retry(self, item: OutboxItem, due_at: float, error: str) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET due_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                (due_at, error[:500], item.id),
            )

    async def outbox_failed(self, item: OutboxItem, now: float, error: str) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET failed_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                (now, error[:500], item.id),
            )

    async def outbox_counts(self) -> tuple[int, int, int]:
        """(waiting, sent, failed), for the operator and the tests."""
        row = await self._one(
            "SELECT COALESCE(SUM(sent_at IS NULL AND failed_at IS NULL), 0), "
            "COALESCE(SUM(sent_at IS NOT NULL), 0), COALESCE(SUM(failed_at IS NOT NULL), 0) "
            "FROM outbox"
        )
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    # -- the day's summary -------------------------------------------------------

    async def day_counts(self, incident_id: int, since: float, until: float) -> DayCounts:
        """Turnout, tasks done and streets served in [since, until), in one snapshot."""
        async with self._lock:
            await self._db.execute("BEGIN")
            try:
                districts = await self._all(
                    "SELECT d.name, SUM(sh.headcount) AS n FROM shifts sh "
                    "JOIN districts d ON d.id = sh.district_id WHERE sh.incident_id = ? "
                    "AND sh.started_at >= ? AND sh.started_at < ? "
                    "GROUP BY d.name ORDER BY n DESC, d.name",
                    (incident_id, since, until),
                )
                done = await self._one(
                    "SELECT COUNT(*) FROM tasks WHERE incident_id = ? AND status = 'done' "
                    "AND done_at >= ? AND done_at < ?",
                    (incident_id, since, until),
                )
                served = await self._one(
                    "SELECT COUNT(*) FROM served_streets WHERE incident_id = ? "
                    "AND served_at >= ? AND served_at < ?",
                    (incident_id, since, until),
                )
            finally:
                await self._db.execute("COMMIT")
        busiest = districts[0] if districts else None
        return DayCounts(
            person_times=sum(int(n) for _, n in districts),
            tasks_done=int(done[0]) if done else 0,
            streets_served=int(served[0]) if served else 0,
            busiest_district=busiest[0] if busiest else None,
            busiest_person_times=int(busiest[1]) if busiest else 0,
        )


_DISTRICT_TALLY = """
    SELECT d.name,
           COALESCE(c.person_times, 0), COALESCE(c.on_duty, 0),
           COALESCE(done.n, 0), COALESCE(st.total, 0), COALESCE(st.total, 0) - COALESCE(sv.n, 0)
    FROM districts d
    LEFT JOIN district_counters c ON c.district_id = d.id AND c.incident_id = ?
    LEFT JOIN (SELECT district_id, COUNT(*) AS total FROM streets GROUP BY district_id) st
           ON st.district_id = d.id
    LEFT JOIN (SELECT s.district_id, COUNT(*) AS n FROM served_streets x
               JOIN streets s ON s.id = x.street_id WHERE x.incident_id = ?
               GROUP BY s.district_id) sv ON sv.district_id = d.id
    LEFT JOIN (SELECT s.district_id, COUNT(*) AS n FROM tasks t
               JOIN streets s ON s.id = t.street_id
               WHERE t.incident_id = ? AND t.status = 'done' GROUP BY s.district_id) done
           ON done.district_id = d.id
    ORDER BY d.name
"""

_UNSERVED = """
    SELECT d.name, s.name,
           (SELECT MIN(t.id) FROM tasks t WHERE t.incident_id = ?1 AND t.street_id = s.id
              AND t.status IN ('open', 'in_progress'))
    FROM streets s JOIN districts d ON d.id = s.district_id
    WHERE NOT EXISTS (SELECT 1 FROM served_streets x
                      WHERE x.incident_id = ?2 AND x.street_id = s.id)
    ORDER BY d.name, s.name
"""


def _lines_json(lines: Lines | None) -> str | None:
    """Lines as stored: compact JSON, lat first; the same lines always give the same text."""
    if not lines:
        return None
    return json.dumps([[[lat, lon] for lat, lon in part] for part in lines], separators=(",", ":"))


def _statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows where they end)."""
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        out.append(buffer.strip())
    return out


def _user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        name=row[1],
        username=row[2],
        language=row[3],
        role=row[4],
        district_id=row[5],
        registered=bool(row[6]),
    )


def _task(row: Sequence[Any]) -> Task:
    return Task(
        id=row[0],
        incident_id=row[1],
        street_id=row[2],
        street=row[3],
        district_id=row[4],
        district=row[5],
        lat=row[6],
        lon=row[7],
        needed=row[8],
        accepted=row[9],
        status=TaskStatus(row[10]),
        note=row[11],
        created_by=row[12],
        created_at=row[13],
        done_at=row[14],
    )


def _moved(shift: Shift, street: Street, lat: float, lon: float, now: float) -> Shift:
    return replace(shift, street_id=street.id, lat=lat, lon=lon, located_at=now)
