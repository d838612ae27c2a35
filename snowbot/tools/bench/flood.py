"""One account's flood through two webhook processes on PostgreSQL (`snowbot bench
--postgres URL`, issue 27): the other people's check-in reply p50 while one account sends
1,000 /whoami in two seconds, beside the same check-ins without a flood, measured in the
same run on the same two processes; and how long the flooding account's backlog takes to be
cleared (handled, or dropped beyond `[bot] max_queued_per_person`).

The updates are posted as a reverse proxy passes them on, each person's alternating between
the two processes; the stand-in (a process of its own) notes when each chat's first reply
came, on the machine's monotonic clock, which every process shares. A person's reply time
runs from the moment their update is posted until its reply reached the stand-in.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import time
from typing import Any

import psycopg

from snowbot.settings.config import Config
from snowbot.tools.bench.common import Figure, Kit, percentile, random_places, sample_city
from snowbot.tools.bench.standin_process import StandIn
from snowbot.tools.bench.webhooks import HEADERS, BotProcess, location_body, webhook_config

FLOOD = 1000  # /whoami from one account …
FLOOD_SECONDS = 2.0  # … in this long
CLEARED_WITHIN = 60.0  # the target: the flooder's backlog handled or dropped by then
WITHIN_MS = 100.0  # the target: the others' p50 this close to the baseline's
OTHERS = 40  # the others' check-ins in each phase, spread over the flood's two seconds
QUICK_OTHERS = 20
FLOODER = 40_000_000
FIRST_OTHER = {"warm": 41_000_000, "baseline": 42_000_000, "flood": 43_000_000}


async def figures_flood(kit: Kit, url: str, base: Config, others: int = OTHERS) -> list[Figure]:
    """The others' check-in reply p50 during the flood against none, and the flooder's
    backlog cleared; on two webhook processes serving one bot."""
    standin = StandIn()
    bots: list[BotProcess] = []
    try:
        config = webhook_config(url, base, standin)
        ports: list[int] = []
        for _ in range(2):  # one after the other: the first migrates and imports the city
            bot = BotProcess(config, kit.start_shared_webhook)
            bots.append(bot)
            ports.append(await bot.started())
        import aiohttp

        async with aiohttp.ClientSession() as http:
            await _checkins(http, ports, standin, "warm", max(10, others // 10))
            baseline = await _checkins(http, ports, standin, "baseline", others)
            flood = asyncio.create_task(_flood(http, ports))
            flooded = await _checkins(http, ports, standin, "flood", others)
            posted = await flood
            cleared, kept = await _cleared(url, posted)
        handled = config.max_queued_per_person
    finally:
        for bot in bots:
            await bot.stop()
        await standin.stop()
    base_p50, flood_p50 = statistics.median(baseline), statistics.median(flooded)
    p90 = [percentile(side, 90) * 1000 for side in (baseline, flooded)]
    cores = multiprocessing.cpu_count()
    where = f"two webhook processes, {cores} cores shared with PostgreSQL and the stand-in"
    return [
        Figure(
            "flood_others_p50",
            f"Others' check-in reply p50 during a {FLOOD:,}-update flood from one account",
            flood_p50 * 1000,
            "ms",
            base_p50 * 1000,
            "no flood, same run",
            flood_p50 / base_p50,
            f"within {WITHIN_MS:.0f} ms of the baseline",
            (flood_p50 - base_p50) * 1000 <= WITHIN_MS,
            f"{others} check-ins in {FLOOD_SECONDS:.0f} s each side; p90 {p90[1]:.0f} ms "
            f"against {p90[0]:.0f} ms; {where}",
        ),
        Figure(
            "flood_backlog_cleared",
            f"The flooding account's backlog cleared (handled or dropped), {FLOOD:,} /whoami "
            f"in {FLOOD_SECONDS:.0f} s",
            cleared,
            "s",
            None,
            "",
            None,
            f"<= {CLEARED_WITHIN:.0f} s",
            cleared <= CLEARED_WITHIN,
            f"{kept} kept and handled, {FLOOD - kept} dropped (max_queued_per_person = "
            f"{handled}), from the flood's first update",
        ),
    ]


async def _checkins(
    http: Any, ports: list[int], standin: StandIn, phase: str, n: int
) -> list[float]:
    """`n` new people's locations posted evenly over FLOOD_SECONDS; each one's seconds from
    posting to its reply."""
    first = FIRST_OTHER[phase]
    places = random_places(sample_city(), n, len(phase))
    posted: dict[int, float] = {}
    start = time.monotonic()

    async def one(k: int, lat: float, lon: float) -> None:
        await asyncio.sleep(max(0.0, start + k * FLOOD_SECONDS / n - time.monotonic()))
        posted[k] = time.monotonic()
        body = location_body(first + k, lat, lon)
        await _post(http, ports[k % len(ports)], body)

    await asyncio.gather(*(one(k, *place) for k, place in enumerate(places)))
    chats = [first + k for k in range(n)]
    answered = await standin.call("first_sent", (chats, 120.0))
    if any(at is None for at in answered):
        raise RuntimeError(f"{phase}: not every check-in was answered within 120 s")
    return [answered[k] - posted[k] for k in range(n)]


async def _flood(http: Any, ports: list[int]) -> float:
    """FLOOD /whoami from one account over FLOOD_SECONDS, alternating between the
    processes; returns when the flood began (monotonic)."""
    start = time.monotonic()
    gate = asyncio.Semaphore(64)

    async def one(k: int) -> None:
        await asyncio.sleep(max(0.0, start + k * FLOOD_SECONDS / FLOOD - time.monotonic()))
        async with gate:
            await _post(http, ports[k % len(ports)], _whoami(FLOODER * 10 + k))

    await asyncio.gather(*(one(k) for k in range(FLOOD)))
    return start


async def _cleared(url: str, started: float) -> tuple[float, int]:
    """Seconds from the flood's start until none of the flooder's kept updates waits, and
    how many were kept."""
    unhandled = (
        "SELECT COUNT(*) FROM inbox WHERE person = %s AND update_id NOT IN "
        "(SELECT update_id FROM seen_updates)"
    )
    with psycopg.connect(url, autocommit=True) as db:
        while True:
            row = db.execute(unhandled, (FLOODER,)).fetchone()
            if row is not None and row[0] == 0:
                done = time.monotonic() - started
                break
            if time.monotonic() - started > 10 * CLEARED_WITHIN:
                raise RuntimeError("the flood's backlog was not cleared in ten minutes")
            await asyncio.sleep(0.05)
        row = db.execute("SELECT COUNT(*) FROM inbox WHERE person = %s", (FLOODER,)).fetchone()
    return done, int(row[0]) if row is not None else 0


async def _post(http: Any, port: int, body: str) -> None:
    async with http.post(f"http://127.0.0.1:{port}/hook", data=body, headers=HEADERS) as answer:
        if answer.status != 200:
            raise RuntimeError(f"webhook answered {answer.status}")


def _whoami(update_id: int) -> str:
    user = {"id": FLOODER, "is_bot": False, "first_name": "flood", "language_code": "zh"}
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": FLOODER, "type": "private", "first_name": "flood"},
        "from": user,
        "text": "/whoami",
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
    }
    return json.dumps({"update_id": update_id, "message": message})
