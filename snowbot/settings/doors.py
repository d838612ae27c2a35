"""The bot's two HTTP doors (the overview and the webhook port) kept from taking its file
descriptors: each holds at most `max_connections` connections (when full, the longest idle
one makes room; when all are busy, the newcomer is closed), and a connection with no request
under way for `idle_timeout` is closed, from its opening on, however slowly it sends its
headers (aiohttp's keep-alive timeout). `[http]` in the config; the rest of the descriptors
stay for the bot's own Telegram and database connections.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from snowbot.settings.durations import parse_duration
from snowbot.settings.errors import ConfigError

log = logging.getLogger("snowbot.settings.doors")

KEYS = {"idle_timeout", "max_connections"}
DEFAULT_IDLE = timedelta(seconds=20)
MAX_AUTO = 4096  # per door, when the open-file limit is generous
# connections accepted in one turn of the loop (and the kernel's queue of them) at most;
# each one holds a descriptor for a few turns before its door counts it (and closes it,
# when full), so a crowd arriving at once needs a few of these beyond the cap
MAX_ACCEPT_BATCH = 128
LISTEN_QUEUE = 128  # connections the kernel holds, handshake done, until accepted
WARN_EVERY = 60.0  # seconds between two warnings of refused connections or accept errors
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class DoorsConfig:
    idle_timeout: timedelta = DEFAULT_IDLE
    max_connections: int = 0  # per door; 0: a quarter of the open-file limit

    def cap(self) -> int:
        return self.max_connections or auto_cap()


def auto_cap() -> int:
    """A quarter of the process's open-file limit for each door (two doors: half)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_AUTO
    return max(8, min(MAX_AUTO, soft // 4))


def accept_batch(cap: int) -> int:
    """How many connections a door accepts in one turn of the loop: a quarter of its cap.
    asyncio accepts up to its `backlog` at a time and counts them turns later, so a crowd
    arriving at once holds up to three batches beyond the cap (at 128 each, a limit of
    256 descriptors ran out before the door could close a single one)."""
    return max(8, min(MAX_ACCEPT_BATCH, cap // 4))


def parse_doors(section: Mapping[str, Any]) -> DoorsConfig:
    """The `[http]` table (already checked for unknown keys), or ConfigError."""
    idle = section.get("idle_timeout", "20s")
    try:
        if not isinstance(idle, str):
            raise ValueError(idle)
        idle_timeout = parse_duration(idle)
    except ValueError:
        raise ConfigError(f'http.idle_timeout: {idle!r} is not a duration like "20s"') from None
    if not timedelta(seconds=1) <= idle_timeout <= timedelta(minutes=5):
        raise ConfigError("http.idle_timeout: from 1s to 5m")
    cap = section.get("max_connections", 0)
    if isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= 100_000:
        raise ConfigError(
            f"http.max_connections: {cap!r} is not a whole number (0: from the open-file limit)"
        )
    return DoorsConfig(idle_timeout=idle_timeout, max_connections=cap)


@dataclass
class _Connection:
    transport: asyncio.BaseTransport
    since: float  # when it opened, or last ended a request
    busy: int = 0  # requests under way


@dataclass
class Doors:
    """One door's connections; `serve` listens with them counted, `middleware` marks the
    requests under way (a live feed's long answer is not idle)."""

    name: str
    cap: int
    idle: float
    connections: dict[asyncio.BaseTransport, _Connection] = field(default_factory=dict)
    refused: int = 0
    evicted: int = 0
    _warned: float = -WARN_EVERY
    _server: asyncio.AbstractServer | None = None

    @classmethod
    def of(cls, name: str, config: DoorsConfig) -> Doors:
        return cls(name, config.cap(), config.idle_timeout.total_seconds())

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        connection = self.connections.get(request.transport) if request.transport else None
        if connection is None:
            return await handler(request)
        loop = asyncio.get_running_loop()
        connection.busy += 1
        try:
            return await handler(request)
        finally:
            connection.busy -= 1
            connection.since = loop.time()

    def runner(self, app: web.Application, handler_cancellation: bool) -> web.AppRunner:
        """The app's runner, without an access log (a request line may hold a token)."""
        return web.AppRunner(
            app,
            access_log=None,
            handler_cancellation=handler_cancellation,
            shutdown_timeout=2.0,
            keepalive_timeout=self.idle,
        )

    async def serve(self, runner: web.BaseRunner, host: str, port: int) -> tuple[str, int]:
        """Listen for `runner` (set up) on host:port; the address listened on. OSError."""
        loop = asyncio.get_running_loop()
        quiet_accept_errors(loop)
        factory = runner.server
        assert factory is not None
        self._server = await loop.create_server(
            lambda: _Counted(self, factory()),
            host,
            port,
            backlog=accept_batch(self.cap),
            reuse_address=True,
        )
        for listening in self._server.sockets:
            # the kernel's queue stays long (a queued connection holds none of our
            # descriptors); what asyncio takes from it at a time is what the cap needs short
            with listening.dup() as again:
                again.listen(LISTEN_QUEUE)
        found = self._server.sockets[0].getsockname()
        return str(found[0]), int(found[1])

    async def close(self) -> None:
        """Stop listening (the runner's cleanup closes the connections)."""
        if self._server is not None:
            self._server.close()

    def opened(self, transport: asyncio.BaseTransport) -> bool:
        """Count a new connection; when the door is full, the longest idle one is closed to
        make room (an idle crowd cannot keep Telegram or a screen out), and only when every
        connection has a request under way is the new one refused."""
        if len(self.connections) >= self.cap and not self._make_room():
            self.refused += 1
            self._warn()
            return False
        self.connections[transport] = _Connection(transport, asyncio.get_running_loop().time())
        return True

    def _make_room(self) -> bool:
        idle = [c for c in self.connections.values() if c.busy == 0]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.since)
        del self.connections[oldest.transport]
        _abort(oldest.transport)
        self.evicted += 1
        self._warn()
        return True

    def _warn(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            log.warning(
                "%s is full (%d connections at once): %d idle ones closed early and %d refused "
                "so far (see [http] max_connections and LimitNOFILE)",
                self.name,
                self.cap,
                self.evicted,
                self.refused,
            )


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted by its door (or closed at once)."""

    def __init__(self, doors: Doors, inner: asyncio.BaseProtocol) -> None:
        self.doors, self.inner = doors, inner
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.doors.opened(transport):
            _abort(transport)
            return
        self.transport = transport
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.doors.connections.pop(self.transport, None)
            self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport is not None and isinstance(self.inner, asyncio.Protocol):
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self.transport is not None and isinstance(self.inner, asyncio.Protocol):
            return self.inner.eof_received()
        return None

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def _abort(transport: asyncio.BaseTransport) -> None:
    """Close at once: the descriptor is given back now, without a lingering close."""
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:
        transport.close()


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio logs every failed accept (e.g. "Too many open files") with its traceback:
    once a minute is enough, with how many were left out."""
    if loop in _QUIETED:
        return
    _QUIETED.add(loop)
    previous = loop.get_exception_handler()
    last = {"at": -WARN_EVERY, "left_out": 0}

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "accept()" not in str(context.get("message", "")):
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = loop.time()
        if now - last["at"] < WARN_EVERY:
            last["left_out"] += 1
            return
        log.error(
            "cannot accept connections: %s (%d such errors left out of the log)",
            context.get("exception"),
            last["left_out"],
        )
        last["at"], last["left_out"] = now, 0

    loop.set_exception_handler(handle)


_QUIETED: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
