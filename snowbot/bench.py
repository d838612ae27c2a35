"""`snowbot bench`: every figure beside its baseline, measured in the same run.

These machines are shared and noisy, so what counts is each ratio; absolute
numbers are printed for context. Nothing here imports telegram: the CLI hands
in the two ways to start a bot (snowbot's, and the bare baseline).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from snowbot.config import Config, ScheduleConfig, TelegramConfig
from snowbot.demo import Storm
from snowbot.geo import StreetIndex
from snowbot.model import Street, StreetRow
from snowbot.standin import BotApiStandIn, SimUser
from snowbot.wiring import open_service
from storage import open_store
from storage.sqlite import bulk

TOKEN = "123456:BENCH"


@dataclass(frozen=True)
class Sizes:
    checkins: int  # figure 1: location updates on each side
    writers: int  # figure 2: concurrent cadres
    writes: int  # figure 2: check-ins in all
    shifts: int  # figure 3
    users: int
    tasks: int
    streets: int
    tally_runs: int
    lookup_streets: int  # figure 4
    lookups: int
    scans: int
    memory_streets: int  # figure 5
    memory_checkins: int
    groups: int  # figure 6
    storm: str  # figure 7: the demo's storm, "seed" (~56,000 person-times) or "small"


FULL = Sizes(
    checkins=3000,
    writers=100,
    writes=10_000,
    shifts=1_000_000,
    users=100_000,
    tasks=10_000,
    streets=10_000,
    tally_runs=20,
    lookup_streets=100_000,
    lookups=2000,
    scans=3,
    memory_streets=100_000,
    memory_checkins=10_000,
    groups=200,
    storm="seed",
)
QUICK = Sizes(
    checkins=150,
    writers=20,
    writes=400,
    shifts=20_000,
    users=2000,
    tasks=500,
    streets=500,
    tally_runs=5,
    lookup_streets=5000,
    lookups=200,
    scans=2,
    memory_streets=5000,
    memory_checkins=300,
    groups=20,
    storm="small",
)


@dataclass(frozen=True)
class Figure:
    key: str
    name: str
    value: float
    unit: str
    baseline: float | None
    baseline_name: str
    ratio: float | None
    target: str
    met: bool
    note: str = ""


class StoppableBot(Protocol):
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Kit:
    """The Telegram side, handed in by the CLI."""

    start_bot: Callable[[Config, bool], Awaitable[StoppableBot]]  # (config, Telegram's limits?)
    start_bare_bot: Callable[[str, str], Awaitable[StoppableBot]]
    play_storm: Callable[[Config, str], Awaitable[Storm]]  # (config, "seed" or "small")


# -- the Bot API stand-in in its own process ------------------------------------------


def _standin_child(conn: Connection) -> None:
    """The stand-in's process: Telegram and the people, away from the bot's CPU."""
    asyncio.run(_standin_serve(conn))


async def _standin_serve(conn: Connection) -> None:
    api = BotApiStandIn(token=TOKEN)
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
        elif command == "delivered":
            chats, expected, timeout = args
            conn.send(await _wait_delivered(api, chats, expected, timeout))


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
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_standin_child, args=(child,), daemon=True)
        self._process.start()
        self.port: int = self._conn.recv()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def call(self, command: str, args: Any = None) -> Any:
        self._conn.send((command, args))
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)

    async def stop(self) -> None:
        await self.call("stop")
        self._process.join(timeout=10)


# -- helpers ------------------------------------------------------------------------------


def _sample_city() -> list[StreetRow]:
    from snowbot.gazetteer import read_gazetteer

    return read_gazetteer(Path(__file__).resolve().parent.parent / "data" / "heihe_streets.csv")


def _places(rows: Sequence[StreetRow], n: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        row = rng.choice(rows)
        out.append((row.lat + rng.uniform(-0.001, 0.001), row.lon + rng.uniform(-0.0015, 0.0015)))
    return out


def _bench_config(base: Config, folder: Path, base_url: str, gazetteer: Path | None) -> Config:
    return replace(
        base,
        telegram=TelegramConfig(token=TOKEN, base_url=base_url),
        database=folder / "bench.db",
        city=replace(base.city, gazetteer=gazetteer),
        coordinators=frozenset({1}),
        schedule=ScheduleConfig(),
        source=None,
    )


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


# -- 1. the check-in pipeline against bare python-telegram-bot --------------------------


async def figure_checkins(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    rows = _sample_city()
    standin = StandIn()
    try:
        config = _bench_config(base, folder / "f1", standin.base_url, None)
        config.database.parent.mkdir(parents=True, exist_ok=True)
        seeded = await open_store(config.database)
        await seeded.import_streets(rows)
        await seeded.close()
        warm = max(10, sizes.checkins // 20)
        bot = await kit.start_bot(config, False)
        try:
            await standin.call("locations", (500_000, _places(rows, warm, 1)))
            ours = await standin.call("locations", (1_000_000, _places(rows, sizes.checkins, 2)))
        finally:
            await bot.stop()
        bare = await kit.start_bare_bot(TOKEN, standin.base_url)
        try:
            await standin.call("locations", (2_500_000, _places(rows, warm, 3)))
            plain = await standin.call("locations", (3_000_000, _places(rows, sizes.checkins, 4)))
        finally:
            await bare.stop()
    finally:
        await standin.stop()
    ours_rate, bare_rate = sizes.checkins / ours, sizes.checkins / plain
    ratio = ours_rate / bare_rate
    return Figure(
        "checkin_pipeline",
        "Check-ins through snowbot (updates/s)",
        ours_rate,
        "updates/s",
        bare_rate,
        "bare python-telegram-bot answering each location",
        ratio,
        ">= 0.5 of the bare rate",
        ratio >= 0.5,
        f"{sizes.checkins} new people, one location each",
    )


# -- 2. committed writes against plain sqlite3 ---------------------------------------------


async def figure_writes(base: Config, sizes: Sizes, folder: Path) -> Figure:
    path = folder / "f2" / "writes.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = await open_store(path)
    rows = _sample_city()
    await store.import_streets(rows)
    streets = await store.streets()
    incident = await store.current_incident("bench", time.time())
    per_writer = max(1, sizes.writes // sizes.writers)
    for w in range(sizes.writers * per_writer):
        await store.register_user(10_000 + w, f"c{w}", None, "zh", time.time())

    async def writer(w: int) -> None:
        for k in range(per_writer):
            street = streets[(w * 7 + k) % len(streets)]
            await store.check_in(
                incident.id,
                10_000 + w * per_writer + k,
                1,
                street,
                street.lat,
                street.lon,
                time.time(),
                0.0,
            )

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(sizes.writers)))
    ours = time.perf_counter() - started
    await store.close()
    total = sizes.writers * per_writer
    plain_path = folder / "f2" / "plain.db"
    plain_store = await open_store(plain_path)  # the same schema, so the same indexes to keep
    await plain_store.import_streets(rows)
    first = (await plain_store.streets())[0]
    await plain_store.close()
    with bulk.bulk_load(plain_path) as db:
        bulk.insert_incident(db, 1, "plain", 0.0)
        bulk.insert_users(db, ((10_000 + k, "c") for k in range(total)))
    plain = _plain_sqlite_writes(plain_path, total, first)
    ours_rate, plain_rate = total / ours, total / plain
    ratio = ours_rate / plain_rate
    return Figure(
        "committed_writes",
        "Check-ins committed per second through snowbot's storage",
        ours_rate,
        "commits/s",
        plain_rate,
        "plain sqlite3, one INSERT per transaction, same settings",
        ratio,
        ">= 0.5 of plain sqlite3",
        ratio >= 0.5,
        f"{sizes.writers} concurrent cadres, {total} check-ins",
    )


def _plain_sqlite_writes(path: Path, n: int, street: Street) -> float:
    """The same shift rows into the same table, one plain INSERT per transaction.

    This is the baseline, so its one statement is written here, plainly, on purpose:
    it is what an application without snowbot's storage would do.
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    street_id, district_id = street.id, street.district_id
    started = time.perf_counter()
    for k in range(n):
        now = time.time()
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, lat, "
            "lon, started_at, welfare_from, located_at) VALUES (1, ?, 1, ?, ?, 50.2, 127.5, "
            "?4, ?4, ?4)",
            (10_000 + k, district_id, street_id, now),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


# -- 3. the tally at scale ------------------------------------------------------------------


async def figure_tally(base: Config, sizes: Sizes, folder: Path) -> Figure:
    path = folder / "f3" / "tally.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = await open_store(path)
    await store.close()
    incident_id = _seed_tally_database(path, sizes)
    config = replace(base, database=path, city=replace(base.city, gazetteer=None))
    bot = await open_service(config)
    try:
        incident = await bot.incident()
        assert incident.id == incident_id
        times = []
        tally = None
        for _ in range(sizes.tally_runs):
            started = time.perf_counter()
            tally = await bot.tally()
            times.append((time.perf_counter() - started) * 1000)
        assert tally is not None
        started = time.perf_counter()
        recount = full_recount(path, incident_id)
        recount_ms = (time.perf_counter() - started) * 1000
    finally:
        await bot.close()
    p50, p99 = _percentile(times, 50), _percentile(times, 99)
    agrees = recount == tally_summary(tally.as_json())
    return Figure(
        "tally_at_scale",
        "Tally computation, p50",
        p50,
        "ms",
        recount_ms,
        "a full recount from the raw rows",
        recount_ms / p50,
        "p50 <= 20 ms, equal to the recount",
        p50 <= 20 and agrees,
        f"p99 {p99:.1f} ms over {sizes.tally_runs} runs; {sizes.shifts:,} shifts, "
        f"{sizes.users:,} users, {sizes.tasks:,} tasks, {sizes.streets:,} streets; "
        f"equal to the recount: {'yes' if agrees else 'NO'}",
    )


def _seed_tally_database(path: Path, sizes: Sizes) -> int:
    """Fill a migrated database in bulk, counters included, as a long storm leaves it."""
    rng = random.Random(3)
    districts = 10
    incident_id = 1

    def shifts() -> Iterator[bulk.ShiftRow]:
        for k in range(sizes.shifts):
            street = rng.randint(1, sizes.streets)
            district = 1 + street % districts
            start = k * 0.5
            ended = None if k % 200 == 0 else start + 3600  # one in 200 still on duty
            headcount = rng.randint(5, 25) if k % 10 == 0 else 1
            # someone is on duty at most once at a time: those still on duty are all different
            user = 1 + k // 200 if ended is None else 1 + k % sizes.users
            yield (incident_id, user, headcount, district, street, 50.1, 127.5, start, ended)

    def tasks() -> Iterator[bulk.TaskRow]:
        statuses = ("open", "in_progress", "done", "done", "cancelled")
        for status in (rng.choice(statuses) for _ in range(sizes.tasks)):
            street = rng.randint(1, sizes.streets)
            accepted = 0 if status == "open" else 1
            done_at = 10.0 if status in ("done", "cancelled") else None
            yield (incident_id, street, 3, accepted, status, 1, 0.0, done_at)

    with bulk.bulk_load(path) as db:
        bulk.insert_districts(db, [(d, f"District {d:02d}") for d in range(1, districts + 1)])
        bulk.insert_streets(
            db,
            (
                (i, 1 + i % districts, f"Street {i}", 50 + rng.random() * 0.3, 127 + rng.random())
                for i in range(1, sizes.streets + 1)
            ),
        )
        bulk.insert_users(db, ((u, f"cadre {u}") for u in range(1, sizes.users + 1)))
        bulk.insert_incident(db, incident_id, "Bench storm", 0.0)
        bulk.insert_shifts(db, shifts())
        bulk.insert_tasks(db, tasks())
        bulk.rebuild_counters(db, incident_id)
    return incident_id


def full_recount(path: Path, incident_id: int) -> dict[str, Any]:
    """The tally's totals added up again from the raw rows, with no counters."""
    recount = bulk.recount_file(path, incident_id)
    return {
        "person_times": recount.person_times,
        "on_duty": recount.on_duty,
        "people": recount.people,
        "tasks": {status.value: n for status, n in recount.tasks.items()},
        "streets": {
            "total": recount.streets_total,
            "served": recount.streets_served,
            "unserved": recount.streets_total - recount.streets_served,
        },
        "districts": [list(r) for r in recount.district_person_times],
    }


def tally_summary(tally: dict[str, Any]) -> dict[str, Any]:
    """The same totals, as the tally (`snowbot tally --json`) states them."""
    return {
        "person_times": tally["person_times"],
        "on_duty": tally["on_duty"],
        "people": tally["people"],
        "tasks": tally["tasks"],
        "streets": tally["streets"],
        "districts": [[d["district"], d["person_times"]] for d in tally["districts"]],
    }


# -- 4. the nearest street at city scale -------------------------------------------------


def random_city(
    n: int, seed: int
) -> tuple[list[Street], dict[int, list[list[tuple[float, float]]]]]:
    """n streets, most of them short lines, at a big city's density around Heihe."""
    rng = random.Random(seed)
    side = math.sqrt(n / 100_000)  # 100,000 streets over about 1 x 1.5 degrees
    streets, lines = [], {}
    for i in range(1, n + 1):
        lat, lon = 49.8 + rng.random() * side, 126.8 + rng.random() * side * 1.5
        streets.append(Street(i, 1, "District", f"Street {i}", lat, lon))
        if rng.random() < 0.7:
            part = [(lat, lon)]
            for _ in range(rng.randint(1, 4)):
                lat += rng.uniform(-0.002, 0.002)
                lon += rng.uniform(-0.003, 0.003)
                part.append((lat, lon))
            lines[i] = [part]
    return streets, lines


def figure_nearest(sizes: Sizes) -> Figure:
    streets, lines = random_city(sizes.lookup_streets, 5)
    index = StreetIndex(streets, lines)
    lats = [s.lat for s in streets]
    lons = [s.lon for s in streets]
    rng = random.Random(6)

    def place() -> tuple[float, float]:
        return rng.uniform(min(lats), max(lats)), rng.uniform(min(lons), max(lons))

    times = []
    for _ in range(sizes.lookups):
        lat, lon = place()
        started = time.perf_counter()
        index.nearest(lat, lon, 15)
        times.append(time.perf_counter() - started)
    scans = []
    agree = True
    for _ in range(sizes.scans):
        lat, lon = place()
        started = time.perf_counter()
        slow = index.scan(lat, lon)
        scans.append(time.perf_counter() - started)
        fast = index.nearest(lat, lon, 15)
        agree = agree and fast is not None and slow is not None and fast.street == slow.street
    p50, scan = statistics.median(times) * 1000, statistics.median(scans) * 1000
    ratio = scan / p50
    return Figure(
        "nearest_street",
        "Nearest street, p50 per lookup",
        p50,
        "ms",
        scan,
        "a plain geodesic scan over every street",
        ratio,
        ">= 1000x faster than the scan, under 1 ms",
        ratio >= 1000 and p50 < 1 and agree,
        f"{sizes.lookup_streets:,} streets ({len(lines):,} of them lines), "
        f"{sizes.lookups} lookups; same street as the scan: {'yes' if agree else 'NO'}",
    )


# -- 5. memory -----------------------------------------------------------------------------


async def memory_probe(kit: Kit, base: Config, sizes: Sizes, kind: str) -> float:
    """In a process of its own: peak RSS (MB) after `memory_checkins` check-ins.

    kind "snowbot": the real bot holding a `memory_streets` city; "bare": the baseline.
    """
    standin = StandIn()
    try:
        with tempfile.TemporaryDirectory(prefix="snowbot-memory-") as tmp:
            places = _memory_places()
            if kind == "snowbot":
                config = _bench_config(base, Path(tmp), standin.base_url, None)
                await _import_random_city(config.database, sizes.memory_streets)
                bot: StoppableBot = await kit.start_bot(config, False)
            else:
                bot = await kit.start_bare_bot(TOKEN, standin.base_url)
            try:
                done = 0
                while done < sizes.memory_checkins:
                    batch = min(1000, sizes.memory_checkins - done)
                    chosen = [places[(done + k) % len(places)] for k in range(batch)]
                    await standin.call("locations", (7_000_000 + done, chosen))
                    done += batch
            finally:
                await bot.stop()
    finally:
        await standin.stop()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_places() -> list[tuple[float, float]]:
    """Check-in spots spread over the random city (the same for both probes)."""
    rng = random.Random(9)
    side = 1.0
    return [(49.8 + rng.random() * side, 126.8 + rng.random() * side * 1.5) for _ in range(500)]


async def _import_random_city(database: Path, n: int) -> None:
    """Write a random city to the database in a child process, so that building it
    does not count in the probe's own peak memory."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=_write_random_city, args=(str(database), n))
    process.start()
    await asyncio.get_running_loop().run_in_executor(None, process.join)
    if process.exitcode != 0:
        raise RuntimeError("writing the random city failed")


def _write_random_city(database: str, n: int) -> None:
    async def write() -> None:
        streets, lines = random_city(n, 8)
        rows = [
            StreetRow(
                s.district,
                s.name,
                s.lat,
                s.lon,
                tuple(tuple(p) for p in lines[s.id]) if s.id in lines else None,
            )
            for s in streets
        ]
        store = await open_store(database)
        await store.import_streets(rows)
        await store.close()

    asyncio.run(write())


async def figure_memory(sizes: Sizes, quick: bool, config_file: str | None) -> Figure:
    async def probe(kind: str) -> float:
        command = [sys.executable, "-m", "snowbot", "bench", "--memory-probe", kind]
        if quick:
            command.append("--quick")
        if config_file:
            command += ["--config", config_file]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"memory probe {kind} failed: {err.decode()[-500:]}")
        return float(out.decode().strip().splitlines()[-1])

    ours = await probe("snowbot")
    bare = await probe("bare")
    return Figure(
        "memory",
        "Peak RSS of the bot",
        ours,
        "MB",
        bare,
        "bare python-telegram-bot after the same updates",
        ours / bare,
        "<= 300 MB",
        ours <= 300,
        f"a {sizes.memory_streets:,}-street city after {sizes.memory_checkins:,} check-ins",
    )


# -- 6. fan-out under Telegram's limit -----------------------------------------------------


async def figure_fanout(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    rate = 30.0
    groups = [-5_000_000 - g for g in range(sizes.groups)]
    standin = StandIn()
    try:
        await standin.call("groups", groups)
        config = _bench_config(base, folder / "f6", standin.base_url, None)
        config.database.parent.mkdir(parents=True, exist_ok=True)
        store = await open_store(config.database)
        await store.import_streets([StreetRow("Fan", "Fan Street", 50.2, 127.5)])
        district = (await store.districts())[0]
        for chat in groups:
            await store.bind_chat(chat, district.id, 1, time.time(), f"group {chat}")
        await store.close()
        bot = await kit.start_bot(config, True)
        try:
            await standin.call("rate", rate)
            await standin.call("say", (1, "/start", None))
            await standin.call("say", (1, "/newtask Fan Street 2", None))
            elapsed, total, most = await standin.call("delivered", (groups, 1, 120.0))
        finally:
            await bot.stop()
            await standin.call("rate", None)
    finally:
        await standin.stop()
    ideal = len(groups) / rate
    ratio = elapsed / ideal
    return Figure(
        "fan_out",
        f"One announcement to {len(groups)} bound groups",
        elapsed,
        "s",
        ideal,
        f"the ideal at {rate:.0f} messages/s",
        ratio,
        "all delivered once, within 15% of the ideal",
        total == len(groups) and most == 1 and ratio <= 1.15,
        f"{total} delivered of {len(groups)}; most in one group: {most}; "
        "the stand-in answers 429 beyond 30 messages/s",
    )


# -- 7. the seed's storm ---------------------------------------------------------------------


async def figure_storm(kit: Kit, base: Config, scale: str, bare_rate: float) -> Figure:
    storm = await kit.play_storm(base, scale)
    rate = storm.updates / storm.seconds
    turnout = storm.tally.person_times
    agrees = f"{turnout} 人次" in storm.chat_tally
    expected = abs(turnout - 56_000) <= 1000 if scale == "seed" else turnout > 0
    return Figure(
        "storm",
        f"The demo's {scale} storm (snowbot demo --scale {scale}), updates/s",
        rate,
        "updates/s",
        bare_rate,
        "bare python-telegram-bot's rate from figure 1",
        rate / bare_rate,
        "completes (seed: ~56,000 person-times), chat and tally agreeing",
        expected and agrees,
        f"{storm.seconds:.0f} s wall time, {storm.updates:,} updates, {turnout:,} person-times",
    )


# -- running it all ---------------------------------------------------------------------------


async def run_bench(
    kit: Kit, base: Config, quick: bool, progress: bool = True, config_file: str | None = None
) -> list[Figure]:
    sizes = QUICK if quick else FULL
    figures: list[Figure] = []

    def done(figure: Figure) -> None:
        figures.append(figure)
        if progress:
            ratio = "" if figure.ratio is None else f", ratio {figure.ratio:.2f}"
            print(
                f"[{len(figures)}] {figure.name}: {_num(figure.value)} {figure.unit}{ratio}"
                f" — {'met' if figure.met else 'NOT met'}",
                file=sys.stderr,
                flush=True,
            )

    with tempfile.TemporaryDirectory(prefix="snowbot-bench-") as tmp:
        folder = Path(tmp)
        done(await figure_checkins(kit, base, sizes, folder))
        done(await figure_writes(base, sizes, folder))
        done(await figure_tally(base, sizes, folder))
        done(figure_nearest(sizes))
        done(await figure_memory(sizes, quick, config_file))
        done(await figure_fanout(kit, base, sizes, folder))
        assert figures[0].baseline is not None
        done(await figure_storm(kit, base, sizes.storm, figures[0].baseline))
    return figures


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def as_json(figures: list[Figure]) -> str:
    return json.dumps(
        {"machine": machine(), "figures": [asdict(f) for f in figures]}, ensure_ascii=False
    )


def as_table(figures: list[Figure]) -> str:
    lines = [
        "| figure | snowbot | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        base = "—" if f.baseline is None else f"{_num(f.baseline)} ({f.baseline_name})"
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}"
        lines.append(
            f"| {f.name} | {_num(f.value)} {f.unit} | {base} | {ratio} | {f.target} | "
            f"{'yes' if f.met else 'NO'} |"
        )
    return "\n".join(lines)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
