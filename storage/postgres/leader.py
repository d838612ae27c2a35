"""Leading a PostgreSQL database: a lease in a row, timed by the database's clock.

The row of `snowbot_leader` names the leading process and when its lease ends: the
database's clock_timestamp() + LEASE at its last renewal. The leader renews it every
second. When a renewal has not come back by its start + LEASE - MARGIN on the leader's
own monotonic clock, the leader stops polling (`snowbot.settings.leadership.watch`): the lease that
renewal found ends no sooner than LEASE after that start, so the leader has stopped
before anyone may take over, however its network failed; it needs no answer to stop.

A standby takes the lease in one conditional UPDATE: when it has ended, or sooner when
its holder is dead (`kill -9`): none of the holder's connections is left (each is named
`snowbot:<process>`, `storage.postgres.connection`) and it last renewed more than GRACE
ago (a live leader whose connections the server dropped finds out at its next renewal,
within a second, and stops). Taking over, it ends the connections the old holder still
has: a cut one's open transaction would otherwise keep its row locks and stall us.

The table is this module's, not a migration's: a process leads before it opens the store
(so a standby never migrates under a running leader), and SQLite has no use for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import psycopg

from snowbot.settings.redact import hide_password
from storage.postgres.connection import APPLICATION_NAME, SETTINGS

log = logging.getLogger("snowbot")

TABLE = "snowbot_leader"
LEASE = 8.0  # seconds a renewal holds the lead, by the database's clock
MARGIN = 2.0  # the leader stops this long before its lease may end: for a slow event loop
GRACE = 3.0  # a dead holder's lease is taken this long after its last renewal
RELEASE_WAIT = 2.0  # seconds a stopping leader waits to say so; else the lease runs out
FENCE_WAIT_MS = 3000  # how long to wait for each of the old holder's connections to end
# serialises creating the table (CREATE TABLE IF NOT EXISTS races with itself)
CREATE_LOCK = 0x736E_6F77_6C64  # "snowld"
SECONDS = "* interval '1 second'"

CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id integer PRIMARY KEY CHECK (id = 1),
    holder text,
    previous text,
    term bigint NOT NULL DEFAULT 0,
    renewed_at timestamptz,
    expires_at timestamptz
)"""
TAKE = f"""
UPDATE {TABLE}
SET previous = holder, holder = %(me)s, term = term + 1, renewed_at = clock_timestamp(),
    expires_at = clock_timestamp() + %(lease)s {SECONDS}
WHERE id = 1 AND (
    holder IS NULL
    OR holder = %(me)s
    OR expires_at <= clock_timestamp()
    OR (renewed_at < clock_timestamp() - %(grace)s {SECONDS}
        AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = holder)))
RETURNING previous, term"""
FENCE = """
SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, %(wait)s))
FROM pg_stat_activity WHERE application_name = %(old)s AND pid <> pg_backend_pid()"""
RENEW = f"""
UPDATE {TABLE}
SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + %(lease)s {SECONDS}
WHERE id = 1 AND holder = %(me)s AND expires_at > clock_timestamp()
RETURNING 1"""
RELEASE = f"UPDATE {TABLE} SET holder = NULL, expires_at = NULL WHERE id = 1 AND holder = %(me)s"

Conn = psycopg.Connection[tuple[Any, ...]]


class LeaseLeadership:
    """`snowbot.settings.leadership.Leadership` for a PostgreSQL database."""

    def __init__(self, url: str, me: str = APPLICATION_NAME) -> None:
        self.url = url
        self.me = me
        self._conn: Conn | None = None
        self._leading = False
        self._deadline = 0.0  # monotonic: stop leading by then unless renewed
        self._asking: asyncio.Future[Any] | None = None  # a statement on its way
        self._reached = False  # the database answered once
        self._said = False  # that it does not answer now is in the log

    @property
    def where(self) -> str:
        return f"the lease in {TABLE} of {hide_password(self.url)}"

    async def try_lead(self) -> bool:
        if self._leading:
            return True
        started = time.monotonic()
        try:
            taken = await self._ask(self._take)
        except psycopg.OperationalError as exc:
            if not self._reached:
                raise  # never reached: the operator's to fix (the caller says so)
            if not self._said:  # the database restarting, say: ask again next time
                log.warning("standing by: cannot reach the database (%s)", _first_line(exc))
            self._said = True
            return False
        self._reached, self._said = True, False
        if not taken:
            return False
        self._leading = True
        self._deadline = started + LEASE - MARGIN
        # renewed at once: ending the old holder's connections may have taken a while
        return await self.still_leading()

    async def still_leading(self) -> bool:
        started = time.monotonic()
        left = self._deadline - started
        if not self._leading or left <= 0:
            self._leading = False
            return False
        try:
            renewed = await asyncio.wait_for(self._ask(self._renew), left)
        except (TimeoutError, psycopg.Error):
            renewed = False
        if not renewed:
            self._leading = False
            return False
        self._deadline = started + LEASE - MARGIN
        return True

    async def release(self) -> None:
        self._leading = False
        asking = self._asking
        if asking is not None and not asking.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(asking), RELEASE_WAIT)
            if not asking.done():
                return  # the connection hangs (a cut network): the lease runs out by itself
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(psycopg.Error, TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(_release, conn, self.me), RELEASE_WAIT)

    async def _ask(self, fn: Any) -> Any:
        self._asking = asyncio.ensure_future(asyncio.to_thread(fn))
        return await asyncio.shield(self._asking)

    def _connection(self) -> Conn:
        if self._conn is None or self._conn.closed or self._conn.broken:
            conn = psycopg.connect(
                self.url, autocommit=True, **{**SETTINGS, "application_name": self.me}
            )
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (CREATE_LOCK,))
                    conn.execute(CREATE)
                    conn.execute(f"INSERT INTO {TABLE} (id) VALUES (1) ON CONFLICT DO NOTHING")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _take(self) -> bool:
        conn = self._connection()
        row = conn.execute(TAKE, {"me": self.me, "lease": LEASE, "grace": GRACE}).fetchone()
        if row is None:
            return False
        previous, term = row
        if previous and previous != self.me:
            self._fence(conn, previous, term)
        return True

    def _fence(self, conn: Conn, old: str, term: int) -> None:
        """End the old holder's connections, so that their transactions let go."""
        try:
            row = conn.execute(FENCE, {"old": old, "wait": FENCE_WAIT_MS}).fetchone()
        except psycopg.Error as exc:  # another role's, say: its idle transactions time out
            log.warning("could not end the old leader's connections: %s", exc)
            return
        if row and row[0]:
            log.warning("ended %d connections of the old leader (lease term %d)", row[0], term)

    def _renew(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        return conn.execute(RENEW, {"me": self.me, "lease": LEASE}).fetchone() is not None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _release(conn: Conn, me: str) -> None:
    try:
        conn.execute(RELEASE, {"me": me})
    finally:
        conn.close()
