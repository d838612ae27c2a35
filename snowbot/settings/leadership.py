"""One bot at a time: of several `snowbot run` on one database, only the leader polls
Telegram (or serves its webhook) and runs the scheduler; the others stand by. (Several
webhook processes on PostgreSQL all serve, and only the leader runs the scheduler:
`snowbot.settings.webhook.serve_beside`.)

Telegram answers a second concurrent getUpdates with 409 Conflict, and two schedulers
would each post every report, so leading is a lock the storage holds for us: a file
lock beside a SQLite file, which the kernel drops when its holder dies, even by
`kill -9`; for PostgreSQL a lease the leader renews every second, which it gives up by
its own clock before the lease may run out (a cut network), and which a standby that
asks every `RETRY_SECONDS` takes when it has run out or its holder is dead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger("snowbot")

RETRY_SECONDS = 1.0  # a standby asks this often; takeover well within 15 s


class Leadership(Protocol):
    """The lock that makes one process of a database the leader."""

    @property
    def where(self) -> str:
        """What is locked, for the operator ("snowbot.db.lock")."""
        ...

    async def try_lead(self) -> bool:
        """Take the lock if it is free; True when this process leads (now or already)."""
        ...

    async def still_leading(self) -> bool:
        """Whether the lock is still held; renews it where it needs renewing. False in
        time for the caller to stop before another process may take the lock over."""
        ...

    async def release(self) -> None:
        """Give the lock up (also when it was never taken)."""
        ...


async def lead(leadership: Leadership, retry: float = RETRY_SECONDS) -> None:
    """Return once this process leads; until then stand by, saying so once, and once more
    on taking over. Cancel it to stop standing by."""
    if await leadership.try_lead():
        return
    log.info(
        "another snowbot runs on this database (%s is held): standing by to take over",
        leadership.where,
    )
    while not await leadership.try_lead():
        await asyncio.sleep(retry)
    log.warning("the other snowbot stopped: taking over (%s)", leadership.where)


async def watch(leadership: Leadership, lost: asyncio.Event, retry: float = RETRY_SECONDS) -> None:
    """Keep the lock (renewing it every `retry`) and set `lost` when it is no longer held,
    so the leader stops before another process takes over (PostgreSQL: a cut network);
    runs until cancelled."""
    while await leadership.still_leading():
        await asyncio.sleep(retry)
    log.error("lost the lead (%s): stopping, so that a standby can take over", leadership.where)
    lost.set()
