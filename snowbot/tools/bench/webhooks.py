"""Several webhook processes on PostgreSQL (`snowbot bench --postgres URL`): check-ins per
second with two `snowbot run --webhook` processes serving one bot against one.

Each bot process is started as `snowbot run --webhook` starts it on PostgreSQL (every
process serves, each person's updates ordered in the database), but with Telegram's
flood limits off as in figure 1: what is measured is the processing capacity, not
Telegram's 30 messages a second. The updates are posted as a reverse proxy would pass
them on, spread evenly over the processes; the stand-in (in a process of its own) takes
the replies. A check-in counts once its reply reached the stand-in.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from dataclasses import replace
from multiprocessing.connection import Connection

from snowbot.domain.gazetteer import SAMPLE_GAZETTEER
from snowbot.domain.model import StreetRow
from snowbot.settings.config import Config, TelegramConfig
from snowbot.settings.dashboard_config import DashboardConfig
from snowbot.tools.bench.common import (
    TOKEN,
    Figure,
    Kit,
    Sizes,
    StartShared,
    bench_config,
    random_places,
    sample_city,
)
from snowbot.tools.bench.standin_process import StandIn

SECRET = "bench-webhooks"
POSTING_AT_ONCE = 64  # requests in flight from the "reverse proxy"
HEADERS = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
FIRST_USER = {1: 20_000_000, 2: 30_000_000}  # new people for each run
PORT_TRIES = 5  # a webhook's port taken by another process meanwhile: another port


async def figure_webhooks(kit: Kit, url: str, base: Config, sizes: Sizes) -> Figure:
    """Check-ins per second through two webhook processes, against one."""
    rows = sample_city()
    standin = StandIn()
    try:
        config = webhook_config(url, base, standin)
        rates: dict[int, float] = {}
        for n in (1, 2):
            rates[n] = await _run(kit, config, standin, n, sizes.checkins, rows)
    finally:
        await standin.stop()
    ratio = rates[2] / rates[1]
    return Figure(
        "webhook_processes",
        "Check-ins per second, two webhook processes against one (PostgreSQL)",
        rates[2],
        "check-ins/s",
        rates[1],
        "one webhook process, same database",
        ratio,
        ">= 0.9 of one process (a second one must not slow the bot down)",
        ratio >= 0.9,
        f"{sizes.checkins} new people, one location each, Telegram's limits off; "
        f"{multiprocessing.cpu_count()} cores shared with PostgreSQL and the stand-in",
    )


def webhook_config(url: str, base: Config, standin: StandIn) -> Config:
    """The bench's bot as several webhook processes on PostgreSQL run it, Telegram's limits
    off (the stand-in answers as fast as it can)."""
    telegram = TelegramConfig(token=TOKEN, base_url=standin.base_url, webhook_secret=SECRET)
    return replace(
        bench_config(base, base.database.parent, standin.base_url, SAMPLE_GAZETTEER),
        telegram=telegram,
        database_url=url,
        dashboard=DashboardConfig(listen=""),
    )


async def _run(
    kit: Kit, config: Config, standin: StandIn, n: int, checkins: int, rows: list[StreetRow]
) -> float:
    """Check-ins per second through `n` webhook processes."""
    ports: list[int] = []
    bots: list[BotProcess] = []
    try:
        for _ in range(n):  # one after the other: the first migrates and imports the city
            bot = BotProcess(config, kit.start_shared_webhook)
            bots.append(bot)
            ports.append(await bot.started())
        first = FIRST_USER[n]
        warm = max(10, checkins // 20)
        await _post_all(ports, first, random_places(rows, warm, n), standin)
        started = time.perf_counter()
        await _post_all(ports, first + warm, random_places(rows, checkins, 10 + n), standin)
        elapsed = time.perf_counter() - started
    finally:
        for bot in bots:
            await bot.stop()
    return checkins / elapsed


async def _post_all(
    ports: list[int], first_id: int, places: list[tuple[float, float]], standin: StandIn
) -> None:
    """One location from each of len(places) new people, spread over the processes, then
    wait until every one is answered."""
    import aiohttp

    gate = asyncio.Semaphore(POSTING_AT_ONCE)

    async def post(http: aiohttp.ClientSession, k: int, lat: float, lon: float) -> None:
        user_id = first_id + k
        port = ports[k % len(ports)]
        async with (
            gate,
            http.post(
                f"http://127.0.0.1:{port}/hook",
                data=location_body(user_id, lat, lon),
                headers=HEADERS,
            ) as answer,
        ):
            if answer.status != 200:
                raise RuntimeError(f"webhook answered {answer.status}")

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(post(http, k, *place) for k, place in enumerate(places)))
    chats = [first_id + k for k in range(len(places))]
    _, delivered, _ = await standin.call("delivered", (chats, 1, 600.0))
    if delivered < len(places):
        raise RuntimeError(f"only {delivered} of {len(places)} check-ins were answered")


def location_body(user_id: int, lat: float, lon: float) -> str:
    user = {"id": user_id, "is_bot": False, "first_name": f"c{user_id}", "language_code": "zh"}
    message = {
        "message_id": user_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
        "from": user,
        "location": {"latitude": lat, "longitude": lon},
    }
    return json.dumps({"update_id": user_id, "message": message})


# -- a webhook process ---------------------------------------------------------------------


class BotProcess:
    """The bench's handle on one webhook process."""

    def __init__(self, config: Config, start: StartShared) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_bot_child, args=(child, config, start), daemon=True)
        self._process.start()

    async def started(self) -> int:
        """The port it serves on, once it does."""
        answer = await asyncio.get_running_loop().run_in_executor(None, self._pipe.recv)
        if isinstance(answer, str):
            raise RuntimeError(f"a webhook process did not start: {answer}")
        return int(answer)

    async def stop(self) -> None:
        if self._process.is_alive():
            self._pipe.send("stop")
            await asyncio.get_running_loop().run_in_executor(None, self._process.join, 30)


def _bot_child(conn: Connection, config: Config, start: StartShared) -> None:
    asyncio.run(_serve(conn, config, start))


async def _serve(conn: Connection, config: Config, start: StartShared) -> None:
    """Serve a webhook on a port free a moment ago (the URL names it before it is bound);
    when another process on the machine took it meanwhile, on another, a few times."""
    import errno
    import socket

    from snowbot.settings.webhook import webhook

    for _ in range(PORT_TRIES):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        hook = webhook(f"http://127.0.0.1:{port}/hook", "127.0.0.1", str(port), SECRET)
        try:
            running = await start(config, hook)
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                conn.send(f"{type(exc).__name__}: {exc}")
                return
        except Exception as exc:
            conn.send(f"{type(exc).__name__}: {exc}")
            return
    else:
        conn.send(f"127.0.0.1: no free port in {PORT_TRIES} tries")
        return
    conn.send(port)
    try:
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    finally:
        await running.stop()
