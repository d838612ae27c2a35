"""Leading a PostgreSQL database: a session advisory lock on a connection of its own.

The server drops a session's advisory locks when the session ends: when the leader dies
(`kill -9` closes its socket, and the server sees it at once) or when its network is cut
(the server's TCP keepalives, set short for this session, notice within about 10 s).
The leader asks its connection every second whether it is still there; when it is not,
the lock may already be another process's, so the leader stops (`snowbot.leadership`).
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg

from snowbot.redact import hide_password

# pg_advisory_lock key of the leader (the migrations use their own); any constant will do
LEADER_LOCK = 0x736E_6F77_6C64  # "snowld"
ASK_TIMEOUT = 5.0  # a connection that does not answer in this long is taken as lost


class AdvisoryLeadership:
    """`snowbot.leadership.Leadership` for a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._session: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def where(self) -> str:
        return f"the advisory lock {LEADER_LOCK} of {hide_password(self.url)}"

    async def try_lead(self) -> bool:
        if self._session is not None:
            return True
        return await asyncio.to_thread(self._try)

    def _try(self) -> bool:
        conn = psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=int(ASK_TIMEOUT),
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
        )
        try:
            # the server notices a silent client within idle + interval x count seconds
            conn.execute("SET tcp_keepalives_idle = 5")
            conn.execute("SET tcp_keepalives_interval = 2")
            conn.execute("SET tcp_keepalives_count = 3")
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
        except BaseException:
            conn.close()
            raise
        if row is None or not row[0]:
            conn.close()
            return False
        self._session = conn
        return True

    async def still_leading(self) -> bool:
        conn = self._session
        if conn is None:
            return False
        try:
            await asyncio.wait_for(asyncio.to_thread(_ask, conn), ASK_TIMEOUT)
        except (TimeoutError, psycopg.Error):
            return False
        return True

    async def release(self) -> None:
        conn, self._session = self._session, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await asyncio.to_thread(conn.close)  # the session's lock goes with it


def _ask(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("SELECT 1").fetchone()
