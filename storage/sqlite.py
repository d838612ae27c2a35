"""The embedded default store: aiosqlite on one SQLite file in WAL mode.

Every change runs as one `BEGIN IMMEDIATE` transaction, so invariants hold across
processes too (the write lock is the database's, not ours). A transaction runs
whole in aiosqlite's database thread, in one hop, and the writes that arrive
meanwhile are committed together in the next one (group commit): a morning rush
of check-ins costs a few transactions, not thousands.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.migrations import LATEST, MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.records import (
    AcceptOutcome,
    Binding,
    CheckIn,
    CheckInKind,
    CloseOutcome,
    DayCounts,
    District,
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
_INCIDENT = "id, name, started_at, ended_at"

T = TypeVar("T")


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


Work = Callable[[sqlite3.Connection], T]


class SqliteStore:
    """`storage.interface.Store` on SQLite."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._waiting: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        await self._db.close()

    # -- plumbing --------------------------------------------------------------

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` in aiosqlite's database thread, in one hop.

        aiosqlite runs each statement as one job in its thread; a whole transaction
        as one job costs one hop instead of one per statement, and nothing else
        can run on the connection in between.
        """
        result: T = await self._db._execute(fn, self._db._conn, *args)  # type: ignore[no-untyped-call]
        return result

    async def _transact(self, work: Work[T]) -> T:
        """Run `work` in a write transaction; returns once that transaction has committed.

        Writes that arrive while a transaction runs are committed together in the next
        one (group commit), each inside its own savepoint, so one failing changes
        nothing of the others.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                try:
                    results = await self._in_thread(_run_batch, [work for work, _ in batch])
                except Exception as exc:  # the commit itself failed: nothing of it happened
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), (ok, value) in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._flushing = None

    async def _snapshot(self, work: Work[T]) -> T:
        """Run several reads in one read transaction: they all see the same moment."""
        return await self._in_thread(_run_read, work)

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._db.execute(sql, params) as cur:
            return await cur.fetchone()

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
        await self._db.execute(SCHEMA_VERSION_TABLE)
        current = await self.schema_version()
        if current > LATEST:
            raise RuntimeError(
                f"database schema version {current} is newer than this snowbot ({LATEST})"
            )
        for version in range(current + 1, target + 1):

            def work(db: sqlite3.Connection, version: int = version) -> None:
                for statement in _statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

            await self._transact(work)
        return await self.schema_version()

    # -- incidents -------------------------------------------------------------

    async def current_incident(self, default_name: str, now: float) -> Incident:
        """The current incident, creating the first one on first start."""
        row = await self._one(f"SELECT {_INCIDENT} FROM incidents WHERE ended_at IS NULL")
        if row is not None:
            return Incident(*row)

        def work(db: sqlite3.Connection) -> Incident:
            db.execute(
                "INSERT OR IGNORE INTO incidents (name, started_at) VALUES (?, ?)",
                (default_name, now),
            )
            return Incident(*_q1(db, f"SELECT {_INCIDENT} FROM incidents WHERE ended_at IS NULL"))

        return await self._transact(work)

    async def start_incident(
        self, name: str, now: float, origin: int | None = None
    ) -> tuple[Incident | None, Incident]:
        """End the current incident (closing its open shifts) and open a new one.

        `origin`: the update that asked; asked again, nothing more happens.
        """

        def work(db: sqlite3.Connection) -> tuple[Incident | None, Incident]:
            if origin:
                made = _q1(db, f"SELECT {_INCIDENT} FROM incidents WHERE origin = ?", (origin,))
                if made is not None:
                    return None, Incident(*made)
            old = _q1(db, f"SELECT {_INCIDENT} FROM incidents WHERE ended_at IS NULL")
            previous = None
            if old is not None:
                db.execute(
                    "UPDATE shifts SET ended_at = ? WHERE incident_id = ? AND ended_at IS NULL",
                    (now, old[0]),
                )
                db.execute(
                    "UPDATE district_counters SET on_duty = 0 WHERE incident_id = ?", (old[0],)
                )
                db.execute("UPDATE incidents SET ended_at = ? WHERE id = ?", (now, old[0]))
                previous = Incident(old[0], old[1], old[2], now)
            cur = db.execute(
                "INSERT INTO incidents (name, started_at, origin) VALUES (?, ?, ?)",
                (name, now, origin),
            )
            assert cur.lastrowid is not None
            return previous, Incident(cur.lastrowid, name, now, None)

        return await self._transact(work)

    # -- users -----------------------------------------------------------------

    async def register_user(
        self, user_id: int, name: str, username: str | None, language: str | None, now: float
    ) -> User:
        """Create or refresh a user who wrote to the bot; a language chosen with /lang stays."""

        def work(db: sqlite3.Connection) -> User:
            db.execute(
                """INSERT INTO users (id, name, username, language, registered, created_at)
                   VALUES (?, ?, ?, ?, 1, ?)
                   ON CONFLICT (id) DO UPDATE SET
                     name = excluded.name, username = excluded.username, registered = 1,
                     language = CASE WHEN users.lang_chosen THEN users.language
                                     ELSE excluded.language END""",
                (user_id, name, username, language, now),
            )
            return _user(_q1(db, f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)))

        return await self._transact(work)

    async def get_user(self, user_id: int) -> User | None:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def set_language(self, user_id: int, language: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE users SET language = ?, lang_chosen = 1 WHERE id = ?", (language, user_id)
            )

        await self._transact(work)

    async def set_role(self, user_id: int, role: str, district_id: int | None, now: float) -> User:
        """Give a role, creating a placeholder for a user who has never written."""

        def work(db: sqlite3.Connection) -> User:
            db.execute(
                """INSERT INTO users (id, role, district_id, created_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET role = excluded.role,
                                                  district_id = excluded.district_id""",
                (user_id, role, district_id, now),
            )
            return _user(_q1(db, f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)))

        return await self._transact(work)

    async def users_with_role(self, role: str) -> list[User]:
        rows = await self._all(
            f"SELECT {_USER_COLUMNS} FROM users WHERE role = ? ORDER BY id", (role,)
        )
        return [_user(r) for r in rows]

    # -- geography -------------------------------------------------------------

    async def import_streets(self, rows: Iterable[StreetRow]) -> ImportCounts:
        """Add new streets and move changed ones, all in one transaction; ids stay stable."""
        wanted = list(rows)

        def work(db: sqlite3.Connection) -> ImportCounts:
            districts: dict[str, int] = {
                name: did for did, name in _qa(db, "SELECT id, name FROM districts")
            }
            existing = {
                (r[0], r[1]): (r[2], r[3], r[4], r[5])
                for r in _qa(db, "SELECT district_id, name, id, lat, lon, lines FROM streets")
            }
            added: list[tuple[int, str, float, float, str | None]] = []
            moved: list[tuple[float, float, str | None, int]] = []
            unchanged = 0
            for row in wanted:
                did = districts.get(row.district)
                if did is None:
                    cur = db.execute("INSERT INTO districts (name) VALUES (?)", (row.district,))
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
            db.executemany(
                "INSERT INTO streets (district_id, name, lat, lon, lines) VALUES (?, ?, ?, ?, ?)",
                added,
            )
            db.executemany("UPDATE streets SET lat = ?, lon = ?, lines = ? WHERE id = ?", moved)
            return ImportCounts(added=len(added), moved=len(moved), unchanged=unchanged)

        return await self._transact(work)

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
        pending_since: float | None = None,
    ) -> CheckIn:
        """Open, update or reopen this user's shift (SPEC §2), in one transaction.

        `rejoin_after`: a shift that ended at or after this moment is reopened.
        `pending_since`: take the headcount of a "/checkin N" asked since then, if any
        (and forget it), in the same transaction.
        """

        def work(db: sqlite3.Connection) -> CheckIn:
            count = headcount
            if pending_since is not None:
                asked = _q1(
                    db,
                    "DELETE FROM pending_checkins WHERE user_id = ? RETURNING headcount, asked_at",
                    (user_id,),
                )
                if asked is not None and asked[1] >= pending_since:
                    count = int(asked[0])
            # the open shift if there is one, else the latest one ended inside the window
            row = _q1(
                db,
                f"SELECT {_SHIFT_COLUMNS} FROM shifts "
                "WHERE incident_id = ? AND user_id = ? AND (ended_at IS NULL OR ended_at >= ?) "
                "ORDER BY ended_at IS NOT NULL, ended_at DESC LIMIT 1",
                (incident_id, user_id, rejoin_after),
            )
            if row is not None and row[9] is None:
                db.execute(
                    "UPDATE shifts SET lat = ?, lon = ?, street_id = ?, located_at = ? "
                    "WHERE id = ?",
                    (lat, lon, street.id, now, row[0]),
                )
                return CheckIn(CheckInKind.UPDATED, _moved(Shift(*row), street, lat, lon, now))
            if row is not None:
                shift = Shift(*row)
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
                reopened = _moved(shift, street, lat, lon, now)
                return CheckIn(
                    CheckInKind.REJOINED, replace(reopened, ended_at=None, welfare_from=now)
                )
            row = _q1(
                db,
                "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
                "lat, lon, started_at, welfare_from, located_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8) "
                f"RETURNING {_SHIFT_COLUMNS}",
                (incident_id, user_id, count, street.district_id, street.id, lat, lon, now),
            )
            db.execute(
                "INSERT INTO district_counters (incident_id, district_id, person_times, on_duty) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (incident_id, district_id) DO UPDATE SET "
                "person_times = person_times + excluded.person_times, "
                "on_duty = on_duty + excluded.on_duty",
                (incident_id, street.district_id, count, count),
            )
            first = db.execute(
                "INSERT OR IGNORE INTO incident_people (incident_id, user_id) VALUES (?, ?)",
                (incident_id, user_id),
            )
            if first.rowcount:
                db.execute("UPDATE incidents SET people = people + 1 WHERE id = ?", (incident_id,))
            return CheckIn(CheckInKind.OPENED, Shift(*row))

        return await self._transact(work)

    async def check_out(
        self, incident_id: int, user_id: int, now: float, forget_pending: bool = True
    ) -> Shift | None:
        """Close this user's open shift; None when they were not on duty.

        An unanswered "/checkin N" is forgotten in the same transaction.
        """

        def work(db: sqlite3.Connection) -> Shift | None:
            if forget_pending:
                db.execute("DELETE FROM pending_checkins WHERE user_id = ?", (user_id,))
            return _close_shift(db, "incident_id = ? AND user_id = ?", (incident_id, user_id), now)

        return await self._transact(work)

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

        def work(db: sqlite3.Connection) -> int:
            still = _q1(
                db,
                "SELECT 1 FROM shifts WHERE id = ? AND ended_at IS NULL AND welfare_from = ?",
                (shift.id, shift.welfare_from),
            )
            return 0 if still is None else _enqueue(db, messages, now)

        return await self._transact(work)

    async def close_shift_for_welfare(
        self, shift: Shift, messages: Sequence[Outgoing], now: float
    ) -> Shift | None:
        """Close a shift after max_shift and queue its message, in one transaction.

        Nothing happens if the cadre checked out or rejoined meanwhile.
        """

        def work(db: sqlite3.Connection) -> Shift | None:
            closed = _close_shift(
                db, "id = ? AND welfare_from = ?", (shift.id, shift.welfare_from), now, "welfare"
            )
            if closed is not None:
                _enqueue(db, messages, now)
            return closed

        return await self._transact(work)

    async def move_shift(
        self, incident_id: int, user_id: int, street_id: int, lat: float, lon: float, now: float
    ) -> bool:
        """Move an open shift's position; False when the user is not on duty."""

        def work(db: sqlite3.Connection) -> bool:
            cur = db.execute(
                "UPDATE shifts SET lat = ?, lon = ?, street_id = ?, located_at = ? "
                "WHERE incident_id = ? AND user_id = ? AND ended_at IS NULL",
                (lat, lon, street_id, now, incident_id, user_id),
            )
            return cur.rowcount > 0

        return await self._transact(work)

    async def set_pending_checkin(self, user_id: int, headcount: int, now: float) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO pending_checkins (user_id, headcount, asked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET headcount = excluded.headcount, "
                "asked_at = excluded.asked_at",
                (user_id, headcount, now),
            )

        await self._transact(work)

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
        origin: int | None = None,
    ) -> Task:
        """Post a task and queue its announcements in one transaction.

        Each of `announce` is about the new task: its id is filled in and added to the key.
        `origin`: the update that asked for it; asked again, the same task is returned.
        """

        def work(db: sqlite3.Connection) -> Task:
            made = _q1(db, "SELECT id FROM tasks WHERE origin = ?", (origin,)) if origin else None
            if made is not None:
                found = _get_task(db, incident_id, made[0])
                if found is not None:
                    return found
            task_id = _insert_task(
                db, incident_id, street_id, needed, note, created_by, now, announce, origin
            )
            task = _get_task(db, incident_id, task_id)
            assert task is not None
            return task

        return await self._transact(work)

    async def propose_task(
        self, dispatcher_id: int, street_id: int, needed: int, note: str, query: str, now: float
    ) -> int:
        """Keep a geocoded /newtask until its dispatcher confirms it; returns its id."""

        def work(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO task_proposals (dispatcher_id, street_id, needed, note, query, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (dispatcher_id, street_id, needed, note, query, now),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

        return await self._transact(work)

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

        def work(db: sqlite3.Connection) -> Task | None:
            row = _q1(
                db,
                "DELETE FROM task_proposals WHERE id = ? "
                "RETURNING street_id, needed, note, dispatcher_id",
                (proposal_id,),
            )
            if row is None:
                return None
            street_id, needed, note, dispatcher_id = row
            task_id = _insert_task(
                db, incident_id, street_id, needed, note, dispatcher_id, now, announce
            )
            return _get_task(db, incident_id, task_id)

        return await self._transact(work)

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

        def work(db: sqlite3.Connection) -> int:
            row = _q1(
                db,
                "SELECT 1 FROM tasks WHERE id = ? AND status = 'open' AND accepted = 0",
                (task_id,),
            )
            return 0 if row is None else _enqueue(db, messages, now)

        return await self._transact(work)

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

        def work(db: sqlite3.Connection) -> TaskChange:
            took = _q1(
                db,
                "UPDATE tasks SET accepted = accepted + 1, status = 'in_progress' "
                "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress') "
                "AND accepted < needed AND NOT EXISTS "
                "(SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?) RETURNING id",
                (task_id, incident_id, task_id, user_id),
            )
            if took is not None:
                db.execute(
                    "INSERT INTO task_accepts (task_id, user_id, accepted_at) VALUES (?, ?, ?)",
                    (task_id, user_id, now),
                )
                outcome: AcceptOutcome = AcceptOutcome.ACCEPTED
            else:
                outcome = _why_not_accepted(db, incident_id, task_id, user_id)
            return TaskChange(outcome, _get_task(db, incident_id, task_id))

        return await self._transact(work)

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

        def work(db: sqlite3.Connection) -> TaskChange:
            row = _q1(
                db,
                "UPDATE tasks SET status = 'done', done_at = ?1, done_by = ?2, done_km = ?3, "
                "proof_file_id = COALESCE(?4, proof_file_id), "
                "note = CASE WHEN ?5 IS NULL OR ?5 = '' THEN note "
                "WHEN note = '' THEN ?5 ELSE note || ' | ' || ?5 END "
                "WHERE id = ?6 AND incident_id = ?7 AND status IN ('open', 'in_progress') "
                "RETURNING street_id",
                (now, user_id, done_km, proof_file_id, note, task_id, incident_id),
            )
            if row is not None:
                db.execute(
                    "INSERT OR IGNORE INTO served_streets (incident_id, street_id, served_at) "
                    "VALUES (?, ?, ?)",
                    (incident_id, row[0], now),
                )
                _enqueue(db, notices, now)
                outcome = CloseOutcome.DONE
            else:
                outcome = _why_not_closed(db, incident_id, task_id, "done")
            return TaskChange(outcome, _get_task(db, incident_id, task_id))

        return await self._transact(work)

    async def cancel_task(self, incident_id: int, task_id: int, now: float) -> TaskChange:
        def work(db: sqlite3.Connection) -> TaskChange:
            cur = db.execute(
                "UPDATE tasks SET status = 'cancelled', done_at = ? "
                "WHERE id = ? AND incident_id = ? AND status IN ('open', 'in_progress')",
                (now, task_id, incident_id),
            )
            if cur.rowcount == 1:
                outcome = CloseOutcome.CANCELLED
            else:
                outcome = _why_not_closed(db, incident_id, task_id, "cancelled")
            return TaskChange(outcome, _get_task(db, incident_id, task_id))

        return await self._transact(work)

    # -- the tally -------------------------------------------------------------

    async def tally_counts(self, incident: Incident) -> TallyCounts:
        """The tally's raw numbers, read in one snapshot of the database."""
        iid = incident.id

        def work(db: sqlite3.Connection) -> TallyCounts:
            people = _q1(db, "SELECT people FROM incidents WHERE id = ?", (iid,))
            tasks = {status: 0 for status in TaskStatus}
            for status, count in _qa(
                db,
                "SELECT status, COUNT(*) FROM tasks WHERE incident_id = ? GROUP BY status",
                (iid,),
            ):
                tasks[TaskStatus(status)] = count
            counters = _qa(
                db,
                "SELECT district_id, person_times, on_duty FROM district_counters "
                "WHERE incident_id = ?",
                (iid,),
            )
            done = _qa(
                db,
                "SELECT s.district_id, COUNT(*) FROM tasks t JOIN streets s ON s.id = t.street_id "
                "WHERE t.incident_id = ? AND t.status = 'done' GROUP BY s.district_id",
                (iid,),
            )
            served = _qa(db, "SELECT street_id FROM served_streets WHERE incident_id = ?", (iid,))
            live = _qa(
                db,
                "SELECT street_id, MIN(id) FROM tasks WHERE incident_id = ? "
                "AND status IN ('open', 'in_progress') GROUP BY street_id",
                (iid,),
            )
            return TallyCounts(
                incident=incident,
                people=int(people[0]) if people else 0,
                tasks=tasks,
                on_duty={d: (p, o) for d, p, o in counters},
                done=dict(done),
                served=frozenset(r[0] for r in served),
                first_live=dict(live),
            )

        return await self._snapshot(work)

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
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO bindings (chat_id, district_id, bound_by, bound_at, title) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
                "district_id = excluded.district_id, bound_by = excluded.bound_by, "
                "bound_at = excluded.bound_at, title = excluded.title",
                (chat_id, district_id, by, now, title),
            )

        await self._transact(work)

    async def unbind_chat(
        self, chat_id: int, notices: Sequence[Outgoing] = (), now: float = 0.0
    ) -> bool:
        """Forget a group's binding and queue `notices` about it, in one transaction."""

        def work(db: sqlite3.Connection) -> bool:
            cur = db.execute("DELETE FROM bindings WHERE chat_id = ?", (chat_id,))
            if cur.rowcount == 0:
                return False
            _enqueue(db, notices, now)
            return True

        return await self._transact(work)

    async def bindings(self) -> list[Binding]:
        rows = await self._all(
            "SELECT chat_id, district_id, bound_by, title FROM bindings ORDER BY chat_id"
        )
        return [Binding(*r) for r in rows]

    async def mark_stale(self, task_ids: Sequence[int], now: float) -> None:
        """These tasks' announcements could not all be edited: bring them up to date later."""

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT OR IGNORE INTO stale_announcements (task_id, since) VALUES (?, ?)",
                [(task_id, now) for task_id in task_ids],
            )

        await self._transact(work)

    async def take_stale(self, limit: int) -> list[int]:
        """Up to `limit` tasks with stale announcements, oldest first, no longer marked
        (whoever takes them edits them, and marks again what still fails)."""

        def work(db: sqlite3.Connection) -> list[int]:
            rows = db.execute(
                "DELETE FROM stale_announcements WHERE task_id IN (SELECT task_id "
                "FROM stale_announcements ORDER BY since LIMIT ?) RETURNING task_id",
                (limit,),
            ).fetchall()
            return [int(r[0]) for r in rows]

        # the common case, nothing stale, costs a read and no write transaction
        if not (await self._one("SELECT EXISTS (SELECT 1 FROM stale_announcements)"))[0]:
            return []
        return await self._transact(work)

    async def move_chat(self, old_id: int, new_id: int, now: float) -> bool:
        """A group became a supergroup with a new id: its binding and its waiting messages
        move with it. Returns whether this was news (not moved before)."""

        def work(db: sqlite3.Connection) -> bool:
            known = _q1(db, "SELECT new_id FROM moved_chats WHERE old_id = ?", (old_id,))
            db.execute(
                "INSERT INTO moved_chats (old_id, new_id, moved_at) VALUES (?, ?, ?) "
                "ON CONFLICT (old_id) DO UPDATE SET new_id = excluded.new_id",
                (old_id, new_id, now),
            )
            # a binding the new id already has is the newer one: it stays
            db.execute(
                "UPDATE OR IGNORE bindings SET chat_id = ? WHERE chat_id = ?", (new_id, old_id)
            )
            db.execute("DELETE FROM bindings WHERE chat_id = ?", (old_id,))
            db.execute(
                "UPDATE OR IGNORE outbox SET chat_id = ? "
                "WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
                (new_id, old_id),
            )
            # what stayed behind is already queued for the new id under the same key
            db.execute(
                "UPDATE outbox SET failed_at = ?, error = 'the chat moved' "
                "WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
                (now, old_id),
            )
            return known is None or known[0] != new_id

        return await self._transact(work)

    async def moved_chats(self) -> dict[int, int]:
        return dict(await self._all("SELECT old_id, new_id FROM moved_chats"))

    async def add_announcement(self, task_id: int, chat_id: int, message_id: int) -> None:
        def work(db: sqlite3.Connection) -> None:
            _announced(db, task_id, chat_id, message_id)

        await self._transact(work)

    async def announcements(self, task_id: int) -> list[tuple[int, int]]:
        rows = await self._all(
            "SELECT chat_id, message_id FROM announcements WHERE task_id = ?", (task_id,)
        )
        return [(int(c), int(m)) for c, m in rows]

    # -- updates ---------------------------------------------------------------

    async def update_seen(self, update_id: int) -> bool:
        """Whether a Telegram update was already handled (then this is a redelivery)."""
        row = await self._one("SELECT 1 FROM seen_updates WHERE update_id = ?", (update_id,))
        return row is not None

    async def mark_update(self, update_id: int, now: float) -> None:
        """Record a Telegram update as handled."""

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO seen_updates (update_id, seen_at) VALUES (?, ?)",
                (update_id, now),
            )

        await self._transact(work)

    async def keep_updates(self, updates: Sequence[tuple[int, str]], now: float) -> None:
        """Keep fetched updates (id, JSON body) until they are handled."""

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, body, received_at) VALUES (?, ?, ?)",
                [(update_id, body, now) for update_id, body in updates],
            )

        await self._transact(work)

    async def unhandled_updates(self) -> list[str]:
        """Bodies of the updates kept but never handled, oldest first."""
        rows = await self._all(
            "SELECT body FROM inbox WHERE update_id NOT IN (SELECT update_id FROM seen_updates) "
            "ORDER BY update_id"
        )
        return [str(r[0]) for r in rows]

    async def forget_updates(self, before: float) -> int:
        """Drop the record of updates seen before `before`; Telegram has forgotten them too."""

        def work(db: sqlite3.Connection) -> int:
            db.execute("DELETE FROM inbox WHERE received_at < ?", (before,))
            return db.execute("DELETE FROM seen_updates WHERE seen_at < ?", (before,)).rowcount

        return await self._transact(work)

    # -- the outbox --------------------------------------------------------------

    async def enqueue(self, messages: Sequence[Outgoing], now: float) -> int:
        """Queue messages; returns how many were new."""
        return await self._transact(lambda db: _enqueue(db, messages, now))

    async def queued(self, key: str) -> bool:
        """Whether anything was ever queued under this key (sent or not)."""
        return await self._one("SELECT 1 FROM outbox WHERE key = ? LIMIT 1", (key,)) is not None

    async def due_outbox(self, now: float, limit: int) -> list[OutboxItem]:
        """Messages waiting to be sent and due by now, oldest first; none of a chat whose
        older message waits for a retry (each chat gets its messages in order)."""
        rows = await self._all(
            "SELECT id, key, chat_id, lang, text, task_id, template, markup, attempts "
            "FROM outbox AS o "
            "WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM outbox AS older WHERE older.chat_id = o.chat_id "
            "AND older.sent_at IS NULL AND older.failed_at IS NULL AND older.id < o.id "
            "AND older.due_at > ?) "
            "ORDER BY id LIMIT ?",
            (now, now, limit),
        )
        return [OutboxItem(r[0], Outgoing(*r[1:8]), r[8]) for r in rows]

    async def outbox_sent(self, item: OutboxItem, message_id: int, now: float) -> None:
        """Record a delivery; a task's message becomes one of its announcements."""

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET sent_at = ?, message_id = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                (now, message_id, item.id),
            )
            if item.message.task_id is not None:
                _announced(db, item.message.task_id, item.message.chat_id, message_id)

        await self._transact(work)

    async def outbox_retry(self, item: OutboxItem, due_at: float, error: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET due_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                (due_at, error[:500], item.id),
            )

        await self._transact(work)

    async def outbox_failed(self, item: OutboxItem, now: float, error: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET failed_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                (now, error[:500], item.id),
            )

        await self._transact(work)

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
        window = (incident_id, since, until)

        def work(db: sqlite3.Connection) -> DayCounts:
            districts = _qa(
                db,
                "SELECT d.name, SUM(sh.headcount) AS n FROM shifts sh "
                "JOIN districts d ON d.id = sh.district_id WHERE sh.incident_id = ? "
                "AND sh.started_at >= ? AND sh.started_at < ? "
                "GROUP BY d.name ORDER BY n DESC, d.name",
                window,
            )
            done = _q1(
                db,
                "SELECT COUNT(*) FROM tasks WHERE incident_id = ? AND status = 'done' "
                "AND done_at >= ? AND done_at < ?",
                window,
            )
            served = _q1(
                db,
                "SELECT COUNT(*) FROM served_streets WHERE incident_id = ? "
                "AND served_at >= ? AND served_at < ?",
                window,
            )
            busiest = districts[0] if districts else None
            return DayCounts(
                person_times=sum(int(n) for _, n in districts),
                tasks_done=int(done[0]) if done else 0,
                streets_served=int(served[0]) if served else 0,
                busiest_district=busiest[0] if busiest else None,
                busiest_person_times=int(busiest[1]) if busiest else 0,
            )

        return await self._snapshot(work)


# -- work done in the database thread -------------------------------------------------------

# Writes committed together at most; more wait for the next transaction.
MAX_BATCH = 256


def _run_batch(db: sqlite3.Connection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    """One write transaction for a batch of works.

    Works do not fail in the normal course (their conditions are in their SQL), so
    the batch runs straight through; if one does raise, the whole transaction is
    rolled back and run again with each work in a savepoint of its own, so that
    the failing one changes nothing and the others still commit.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        results: list[tuple[bool, Any]] = [(True, work(db)) for work in works]
    except Exception:
        db.execute("ROLLBACK")
        if len(works) == 1:
            raise
        return _run_batch_guarded(db, works)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return results


def _run_batch_guarded(db: sqlite3.Connection, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
    db.execute("BEGIN IMMEDIATE")
    results: list[tuple[bool, Any]] = []
    try:
        for work in works:
            db.execute("SAVEPOINT work")
            try:
                value = work(db)
            except Exception as exc:
                db.execute("ROLLBACK TO work")
                db.execute("RELEASE work")
                results.append((False, exc))
            else:
                db.execute("RELEASE work")
                results.append((True, value))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return results


def _run_read(db: sqlite3.Connection, work: Work[T]) -> T:
    db.execute("BEGIN")
    try:
        return work(db)
    finally:
        db.execute("COMMIT")


def _q1(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    return db.execute(sql, params).fetchone()


def _qa(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return db.execute(sql, params).fetchall()


def _enqueue(db: sqlite3.Connection, messages: Iterable[Outgoing], now: float) -> int:
    """Queue messages; (key, chat) already queued are skipped. Returns how many were new."""
    queued = 0
    for m in messages:
        cur = db.execute(
            "INSERT OR IGNORE INTO outbox (key, chat_id, lang, text, task_id, template, "
            "markup, created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.key, m.chat_id, m.lang, m.text, m.task_id, m.template, m.markup, now, now),
        )
        queued += cur.rowcount
    return queued


def _announced(db: sqlite3.Connection, task_id: int, chat_id: int, message_id: int) -> None:
    db.execute(
        "INSERT OR IGNORE INTO announcements (task_id, chat_id, message_id) VALUES (?, ?, ?)",
        (task_id, chat_id, message_id),
    )


def _close_shift(
    db: sqlite3.Connection,
    where: str,
    params: Sequence[Any],
    now: float,
    closed_by: str | None = None,
) -> Shift | None:
    """End the open shift matching `where`, and take its headcount off duty."""
    row = _q1(
        db,
        f"UPDATE shifts SET ended_at = ?, closed_by = ? WHERE {where} AND ended_at IS NULL "
        f"RETURNING {_SHIFT_COLUMNS}",
        (now, closed_by, *params),
    )
    if row is None:
        return None
    shift = Shift(*row)
    db.execute(
        "UPDATE district_counters SET on_duty = on_duty - ? "
        "WHERE incident_id = ? AND district_id = ?",
        (shift.headcount, shift.incident_id, shift.district_id),
    )
    return shift


def _insert_task(
    db: sqlite3.Connection,
    incident_id: int,
    street_id: int,
    needed: int,
    note: str,
    created_by: int,
    now: float,
    announce: Sequence[Outgoing],
    origin: int | None = None,
) -> int:
    """The task's row and its queued announcements."""
    cur = db.execute(
        "INSERT INTO tasks (incident_id, street_id, needed, note, created_by, created_at, "
        "origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (incident_id, street_id, needed, note, created_by, now, origin),
    )
    task_id = cur.lastrowid
    assert task_id is not None
    _enqueue(db, [replace(m, key=f"{m.key}:{task_id}", task_id=task_id) for m in announce], now)
    return task_id


def _get_task(db: sqlite3.Connection, incident_id: int, task_id: int) -> Task | None:
    row = _q1(db, _TASK_SELECT + " WHERE t.id = ? AND t.incident_id = ?", (task_id, incident_id))
    return _task(row) if row else None


def _why_not_accepted(
    db: sqlite3.Connection, incident_id: int, task_id: int, user_id: int
) -> AcceptOutcome:
    row = _q1(
        db, "SELECT status FROM tasks WHERE id = ? AND incident_id = ?", (task_id, incident_id)
    )
    if row is None:
        return AcceptOutcome.UNKNOWN
    if row[0] in ("done", "cancelled"):
        return AcceptOutcome.CLOSED
    joined = _q1(
        db, "SELECT 1 FROM task_accepts WHERE task_id = ? AND user_id = ?", (task_id, user_id)
    )
    return AcceptOutcome.ALREADY if joined else AcceptOutcome.FULL


def _why_not_closed(
    db: sqlite3.Connection, incident_id: int, task_id: int, wanted: str
) -> CloseOutcome:
    row = _q1(
        db, "SELECT status FROM tasks WHERE id = ? AND incident_id = ?", (task_id, incident_id)
    )
    if row is None:
        return CloseOutcome.UNKNOWN
    return CloseOutcome.ALREADY if row[0] == wanted else CloseOutcome.CLOSED


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
