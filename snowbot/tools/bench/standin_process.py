"""The Bot API stand-in in a process of its own, so that Telegram and the people it plays
do not take the bot's CPU."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

from snowbot.tools.bench.common import TOKEN
from snowbot.tools.standin import BotApiStandIn, SimUser

# -- the Bot API stand-in in its own process ------------------------------------------


def _standin_child(conn: Connection) -> None:
    """The stand-in's process: Telegram and the people, away from the bot's CPU."""
    asyncio.run(_standin_serve(conn))


async def _standin_serve(conn: Connection) -> None:
    first_sent: dict[int, float] = {}  # chat -> when its first message came (monotonic)

    def note(kind: str, event: dict[str, Any]) -> None:
        if kind == "sent":
            first_sent.setdefault(int(event["chat_id"]), time.monotonic())

    api = BotApiStandIn(token=TOKEN, on_event=note)
    await api.start()
    conn.send(api.port)
    loop = asyncio.get_running_loop()
    while True:
        command, args = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            await api.stop()
            conn.send(None)
            return
        if command == "rate":
            api.rate_limit = args
            conn.send(None)
        elif command == "locations":
            conn.send(await _push_locations(api, *args))
        elif command == "groups":
            for chat_id in args:
                api.group(chat_id, f"group {chat_id}")
            conn.send(None)
        elif command == "say":
            user_id, text, chat_id = args
            await api.ask(SimUser(user_id, f"u{user_id}", "en"), text, chat_id, timeout=60)
            conn.send(None)
        elif command == "first_sent":  # (chats, timeout): when each got its first message
            conn.send(await _first_sent(api, first_sent, *args))
        elif command == "delivered":
            chats, expected, timeout = args
            conn.send(await _wait_delivered(api, chats, expected, timeout))
        elif command == "checkins":
            conn.send(await timed_checkins(api, *args))
        elif command == "busy":
            conn.send(await checkins_while_notices_wait(api, *args))


async def _push_locations(
    api: BotApiStandIn, first_id: int, places: list[tuple[float, float]]
) -> float:
    """Push one location from each of len(places) new people; seconds until all answered."""
    users = [SimUser(first_id + i, f"c{first_id + i}", "zh") for i in range(len(places))]
    before = {u.id: api.count(u.id) for u in users}
    started = time.perf_counter()
    for user, (lat, lon) in zip(users, places, strict=True):
        await api.share_location(user, lat, lon)
    await api.wait_for(lambda: all(api.count(u.id) > before[u.id] for u in users), timeout=600)
    return time.perf_counter() - started


async def _first_sent(
    api: BotApiStandIn, first_sent: dict[int, float], chats: list[int], timeout: float
) -> list[float | None]:
    """When each chat got its first message (None: not within `timeout` seconds)."""
    with contextlib.suppress(TimeoutError):
        await api.wait_for(lambda: all(c in first_sent for c in chats), timeout)
    return [first_sent.get(c) for c in chats]


async def timed_checkins(
    api: BotApiStandIn, first_id: int, places: list[tuple[float, float]], gap: float = 0.0
) -> list[float]:
    """New people check in one after another, `gap` seconds apart: each one's seconds from
    sharing the location to the bot's answer."""
    seconds = []
    for n, (lat, lon) in enumerate(places):
        user = SimUser(first_id + n, f"c{first_id + n}", "zh")
        started = time.perf_counter()
        await api.locate(user, lat, lon, timeout=60)
        seconds.append(time.perf_counter() - started)
        await asyncio.sleep(gap)
    return seconds


async def checkins_while_notices_wait(
    api: BotApiStandIn,
    first_notice_chat: int,
    notices: int,
    first_id: int,
    places: list[tuple[float, float]],
    timeout: float,
) -> tuple[list[float], int, float]:
    """Once the first of `notices` bulk notices (to chats from `first_notice_chat` on) is
    out, time check-ins spread over the first part of the backlog; then wait for the
    notices. Returns (each check-in's seconds, notices delivered, seconds from the first
    notice to the last)."""
    times: list[float] = []
    last = first_notice_chat + notices

    def seen(kind: str, info: dict[str, Any]) -> None:
        if kind == "sent" and first_notice_chat <= int(info["chat_id"]) < last:
            times.append(time.perf_counter())

    api.on_event = seen
    try:
        await api.wait_for(lambda: times, timeout)
        gap = min(1.0, notices / 30.0 / 3 / max(1, len(places)))  # within the first third
        seconds = await timed_checkins(api, first_id, places, gap)
        with contextlib.suppress(TimeoutError):
            await api.wait_for(lambda: len(times) >= notices, timeout)
    finally:
        api.on_event = None
    return seconds, len(times), times[-1] - times[0]


async def _wait_delivered(
    api: BotApiStandIn, chats: list[int], expected: int, timeout: float
) -> tuple[float, int, int]:
    """(seconds until every chat had `expected` messages, messages in all, most in one chat)."""
    started = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await api.wait_for(lambda: all(api.count(c) >= expected for c in chats), timeout)
    elapsed = time.perf_counter() - started
    counts = [api.count(c) for c in chats]
    return elapsed, sum(counts), max(counts, default=0)


class StandIn:
    """The parent's handle on the stand-in process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_standin_child, args=(child,), daemon=True)
        self._process.start()
        self.port: int = self._pipe.recv()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def call(self, command: str, args: Any = None) -> Any:
        self._pipe.send((command, args))
        return await asyncio.get_running_loop().run_in_executor(None, self._pipe.recv)

    async def stop(self) -> None:
        await self.call("stop")
        self._process.join(timeout=10)
