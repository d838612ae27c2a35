"""What the overview serves, kept between changes, and the live feed (Server-Sent Events).

Each read is computed once per change of the service (`Snowbot.changes`) however many
screens ask, and one task (the `Feed`) turns each change into one event for every
connected screen. A screen that goes away costs its slot in a set, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from snowbot.domain.tally import Tally, tally_json_text
from snowbot.service import Snowbot

log = logging.getLogger("snowbot.text.overview")
# at most this often a burst of changes becomes an event: a morning rush of check-ins is a
# few events a second, not one per check-in
EVENT_EVERY = 0.25
HEARTBEAT = 15.0  # seconds between comments that keep proxies from closing a quiet feed


@dataclass(frozen=True)
class Kept:
    """A served body: the bytes, gzipped once, and an ETag."""

    body: bytes
    gzipped: bytes
    etag: str


def keep(body: bytes, level: int = 5) -> Kept:
    return Kept(body, gzip.compress(body, level), '"' + hashlib.sha1(body).hexdigest()[:20] + '"')


class Board:
    """The overview's reads, each recomputed only after a change (or, for turnout, an hour)."""

    def __init__(self, service: Snowbot) -> None:
        self.service = service
        self._kept: dict[str, tuple[object, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _cached(self, name: str, key: object, make: Callable[[], Awaitable[Any]]) -> Any:
        found = self._kept.get(name)
        if found is not None and found[0] == key:
            return found[1]
        async with self._locks.setdefault(name, asyncio.Lock()):
            found = self._kept.get(name)
            if found is not None and found[0] == key:
                return found[1]
            # the key is taken before reading: a change meanwhile makes the next ask read again
            value = await make()
            self._kept[name] = (key, value)
            return value

    async def tally(self) -> tuple[Tally, Kept]:
        async def make() -> tuple[Tally, Kept]:
            tally = await self.service.tally()
            # exactly `snowbot tally --json`'s output, its newline included
            return tally, keep((tally_json_text(tally) + "\n").encode())

        found: tuple[Tally, Kept] = await self._cached("tally", self.service.changes.version, make)
        return found

    async def reports(self) -> Kept:
        """Residents' reports by status, as the tally counts them, and the median seconds
        from a report to its task done (null before any is): the tally JSON has no median,
        and /api/tally must stay `snowbot tally --json` byte for byte."""

        async def make() -> Kept:
            tally, _ = await self.tally()
            r, wait = tally.reports, tally.median_report_wait
            body = {
                "open": r.open,
                "tasked": r.tasked,
                "resolved": r.resolved,
                "dismissed": r.dismissed,
                "median_wait": None if wait is None else round(wait),
            }
            return keep(json.dumps(body, separators=(",", ":")).encode())

        found: Kept = await self._cached("reports", self.service.changes.version, make)
        return found

    async def streets(self) -> Kept:
        async def make() -> Kept:
            layer, states = await self.service.street_layer()
            # megabytes for a big city: off the loop, so the bot goes on meanwhile
            return await asyncio.to_thread(lambda: keep(layer.geojson(states), 1))

        found: Kept = await self._cached("streets", self.service.changes.version, make)
        return found

    async def street_states(self) -> Kept:
        """Every street's state in one character (snowbot.text.overview.CODES), in the order of
        /api/streets: what the page asks after each change instead of the whole city."""

        async def make() -> Kept:
            layer, states = await self.service.street_layer()
            body = {"city": layer.stamp, "states": layer.codes(states)}
            return keep(json.dumps(body, separators=(",", ":")).encode())

        found: Kept = await self._cached("street_states", self.service.changes.version, make)
        return found

    async def positions(self) -> Kept:
        async def make() -> Kept:
            points = [
                [round(lat, 5), round(lon, 5), n] for lat, lon, n in await self.service.positions()
            ]
            return keep(json.dumps({"positions": points}, separators=(",", ":")).encode())

        found: Kept = await self._cached("positions", self.service.changes.version, make)
        return found

    async def turnout(self) -> Kept:
        async def make() -> Kept:
            series = await self.service.turnout()
            return keep(json.dumps(series, ensure_ascii=False, separators=(",", ":")).encode())

        hour = int(self.service.clock() // 3600)
        found: Kept = await self._cached("turnout", (self.service.changes.version, hour), make)
        return found


class Screen:
    """One connected screen: the newest event it has not been sent yet."""

    def __init__(self) -> None:
        self.pending: bytes | None = None
        self.wake = asyncio.Event()

    def offer(self, event: bytes) -> None:
        self.pending = event  # a slow screen skips to the newest: it needs no history
        self.wake.set()

    async def next(self, timeout: float) -> bytes | None:
        """The next event, or None after `timeout` (time for a heartbeat)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout)
        self.wake.clear()
        event, self.pending = self.pending, None
        return event


class Feed:
    """Turns the service's changes into events for every screen connected."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.screens: set[Screen] = set()
        self.closed = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="overview-feed")

    async def close(self) -> None:
        """Stop the feed and let every screen's response end."""
        self.closed = True
        for screen in self.screens:
            screen.wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def event(self) -> bytes:
        """The current tally as one SSE event."""
        version = self.board.service.changes.version
        _, kept = await self.board.tally()
        return b"id: %d\nevent: tally\ndata: " % version + kept.body.rstrip(b"\n") + b"\n\n"

    async def _run(self) -> None:
        changes = self.board.service.changes
        seen = changes.version
        while True:
            seen = await changes.wait(seen)
            if not self.screens:
                continue  # nobody watching: nothing to count
            try:
                event = await self.event()
            except Exception as exc:  # the next change tries again; the screens keep the last
                log.warning("the overview could not count the change: %r", exc)
                await asyncio.sleep(1)
                continue
            for screen in list(self.screens):
                screen.offer(event)
            await asyncio.sleep(EVENT_EVERY)
