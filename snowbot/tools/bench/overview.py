"""The overview's figures: /api/tally at the big database (8), /api/streets for the
100,000-street city (9), and check-ins with 50 screens following the live feed (10).

The overview is served by the kit (`Kit.serve_overview`, from snowbot.app.wiring): this
module speaks to it over HTTP only, as a screen would.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import multiprocessing
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from snowbot.domain.model import StreetRow
from snowbot.settings.config import Config
from snowbot.tools.bench.common import (
    OVERVIEW_ASKS,
    TOKEN,
    Figure,
    Kit,
    Sizes,
    bench_config,
    percentile,
    random_places,
    sample_city,
)
from snowbot.tools.bench.database import import_random_city, seed_streets
from snowbot.tools.bench.standin_process import StandIn

SCREENS = 50
ROUNDS = 3


async def figure_api_tally(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    """/api/tally over HTTP on figure 3's database, each ask just after a change."""
    assert kit.serve_overview is not None
    path = folder / "f3" / "tally.db"  # left by figure 3
    config = replace(base, database=path, city=replace(base.city, gazetteer=None))
    bot = await kit.open_service(config)
    try:
        address, overview = await kit.serve_overview(bot)
        try:
            async with aiohttp.ClientSession(headers=OVERVIEW_ASKS) as client:
                fresh, cached, direct = [], [], []
                for _ in range(sizes.tally_runs):
                    bot.changes.changed()  # as after a check-in: the kept tally is stale
                    started = time.perf_counter()
                    async with client.get(f"{address}/api/tally") as r:
                        await r.read()
                    fresh.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    async with client.get(f"{address}/api/tally") as r:
                        await r.read()
                    cached.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    await bot.tally()
                    direct.append((time.perf_counter() - started) * 1000)
        finally:
            await overview.stop()
    finally:
        await bot.close()
    p50, tally_p50 = percentile(fresh, 50), percentile(direct, 50)
    return Figure(
        "api_tally",
        "/api/tally after a change, p50",
        p50,
        "ms",
        tally_p50,
        "the tally computed in the process (figure 3's work)",
        p50 / tally_p50,
        "p50 <= 30 ms",
        p50 <= 30,
        f"between changes it is kept: p50 {percentile(cached, 50):.2f} ms; "
        f"{sizes.shifts:,} shifts, {sizes.tally_runs} runs",
    )


async def figure_api_streets(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    """/api/streets, gzipped, for the big random city, each ask just after a change."""
    assert kit.serve_overview is not None
    path = folder / "f9" / "streets.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    await import_random_city(path, sizes.lookup_streets)
    config = replace(base, database=path, city=replace(base.city, gazetteer=None))
    bot = await kit.open_service(config)
    try:
        address, overview = await kit.serve_overview(bot)
        try:
            times, size, features = [], 0, 0
            headers = {"Accept-Encoding": "gzip"}
            async with aiohttp.ClientSession(headers=OVERVIEW_ASKS) as client:
                for _ in range(3):
                    bot.changes.changed()
                    started = time.perf_counter()
                    async with client.get(
                        f"{address}/api/streets", headers=headers, auto_decompress=False
                    ) as r:
                        body = await r.read()
                    times.append(time.perf_counter() - started)
                    size = len(body)
            # the plain way: the whole collection written out and compressed again
            started = time.perf_counter()
            collection = await bot.street_map()
            plain = gzip.compress(json.dumps(collection, ensure_ascii=False).encode(), 5)
            built = time.perf_counter() - started
            features = len(collection["features"]) if plain else 0
        finally:
            await overview.stop()
    finally:
        await bot.close()
    p50 = percentile(times, 50)
    return Figure(
        "api_streets",
        f"/api/streets for {features:,} streets (gzip)",
        p50,
        "s",
        built,
        "the collection built, written with json.dumps and gzipped afresh",
        p50 / built,
        "<= 1 s",
        p50 <= 1.0 and features == sizes.lookup_streets,
        f"{size / 1e6:.1f} MB gzipped; median of 3 asks, each after a change",
    )


async def figure_screens(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    """Check-ins per second with 50 screens on the live feed, against none."""
    assert kit.serve_overview is not None
    rows = sample_city()
    standin = StandIn()
    events = [0] * SCREENS
    alone: list[float] = []
    watched: list[float] = []
    try:
        config = bench_config(base, folder / "f10", standin.base_url, None)
        # open enrolment: each location is a check-in, a change every screen is told of
        config = replace(config, access=replace(config.access, enrolment="open"))
        config.database.parent.mkdir(parents=True, exist_ok=True)
        await seed_streets(config.database, rows)
        warm = max(10, sizes.checkins // 20)
        bot = await kit.start_bot(config, False)
        try:
            address, overview = await kit.serve_overview(bot.service)  # type: ignore[attr-defined]
            try:
                await standin.call("locations", (500_000, random_places(rows, warm, 11)))
                # alternately without and with the screens: the machine's noise falls on both
                for r in range(ROUNDS):
                    alone.append(await _checkins(standin, rows, sizes, 1_000_000 * (2 * r + 1)))
                    watched.append(
                        await _watched(
                            standin, rows, sizes, 1_000_000 * (2 * r + 2), address, events
                        )
                    )
            finally:
                await overview.stop()
        finally:
            await bot.stop()
    finally:
        await standin.stop()
    rate, baseline = sizes.checkins / min(watched), sizes.checkins / min(alone)
    ratio = rate / baseline
    return Figure(
        "screens",
        f"Check-ins with {SCREENS} screens on the live feed (updates/s)",
        rate,
        "updates/s",
        baseline,
        "the same bot with no screen",
        ratio,
        ">= 0.9 of the rate with no screen",
        ratio >= 0.9 and min(events) >= 2,
        f"{sizes.checkins} check-ins a round, the best of {ROUNDS} rounds each side, "
        f"alternating; events per screen: {min(events)} to {max(events)}",
    )


async def _checkins(standin: StandIn, rows: list[StreetRow], sizes: Sizes, first: int) -> float:
    """Seconds for `sizes.checkins` new people's locations to be answered."""
    elapsed: float = await standin.call(
        "locations", (first, random_places(rows, sizes.checkins, first))
    )
    return elapsed


async def _watched(
    standin: StandIn,
    rows: list[StreetRow],
    sizes: Sizes,
    first: int,
    address: str,
    events: list[int],
) -> float:
    """`_checkins` while SCREENS screens follow the live feed, from a process of their own
    (as browsers elsewhere would: the bot's process pays only for serving them)."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_screens, args=(f"{address}/api/events", theirs))
    process.start()
    loop = asyncio.get_running_loop()
    try:
        connected = await loop.run_in_executor(None, ours.recv)
        assert connected == "connected"
        elapsed = await _checkins(standin, rows, sizes, first)
        await asyncio.sleep(0.5)  # the last change's event
        ours.send("stop")
        counts: list[int] = await loop.run_in_executor(None, ours.recv)
    finally:
        await loop.run_in_executor(None, process.join, 30)
        if process.is_alive():
            process.kill()
    for i, n in enumerate(counts):
        events[i] += n
    return elapsed


def _screens(url: str, conn: Connection) -> None:
    """In the child process: SCREENS screens on the feed until told to stop; their counts."""

    async def run() -> list[int]:
        events = [0] * SCREENS
        async with aiohttp.ClientSession(headers=OVERVIEW_ASKS) as client:
            tasks = [asyncio.create_task(_follow(client, url, events, i)) for i in range(SCREENS)]
            while sum(1 for n in events if n) < SCREENS:  # every screen has its first event
                await asyncio.sleep(0.05)
            conn.send("connected")
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return events

    conn.send(asyncio.run(run()))


async def _follow(client: aiohttp.ClientSession, url: str, events: list[int], i: int) -> None:
    with contextlib.suppress(aiohttp.ClientError, asyncio.CancelledError):
        async with client.get(url) as r:
            async for line in r.content:
                if line.startswith(b"data: "):
                    events[i] += 1


__all__ = ["TOKEN", "figure_api_streets", "figure_api_tally", "figure_screens"]
