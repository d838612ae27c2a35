"""The figures of the database: committed check-ins against plain sqlite3 (2) and the
tally at scale (3); and filling databases for the other figures, through storage."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from snowbot.domain.counts import Recount
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Street, StreetRow
from snowbot.settings.config import Config
from snowbot.tools.bench.common import Figure, Kit, Sizes, percentile, sample_city
from snowbot.tools.bench.nearest import random_city
from storage import open_store
from storage.bulk import ShiftRow, TaskRow
from storage.sqlite import bulk

# -- 2. committed writes against plain sqlite3 ---------------------------------------------


async def figure_writes(base: Config, sizes: Sizes, folder: Path) -> Figure:
    path = folder / "f2" / "writes.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = await open_store(path)
    rows = sample_city()
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

STREETS_PER_UNIT = 5  # 10,000 streets: 2,000 units (单位包保)


def units_for(sizes: Sizes) -> int:
    return max(1, sizes.streets // STREETS_PER_UNIT)


async def figure_tally(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    path = folder / "f3" / "tally.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = await open_store(path)
    await store.close()
    incident_id = seed_tally_database(path, sizes)
    config = replace(base, database=path, city=replace(base.city, gazetteer=None))
    return await measure_tally(
        kit,
        config,
        sizes,
        incident_id,
        lambda: full_recount(path, incident_id),
        "tally_at_scale",
        "",
    )


async def measure_tally(
    kit: Kit,
    config: Config,
    sizes: Sizes,
    incident_id: int,
    recount: Callable[[], dict[str, Any]],
    key: str,
    where: str,
) -> Figure:
    """Figure 3 on a seeded database: the tally's p50, checked against `recount`."""
    bot = await kit.open_service(config)
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
        recounted = await asyncio.to_thread(recount)
        recount_ms = (time.perf_counter() - started) * 1000
    finally:
        await bot.close()
    p50, p99 = percentile(times, 50), percentile(times, 99)
    agrees = recounted == tally_summary(tally.as_json())
    return Figure(
        key,
        f"Tally computation{where}, p50",
        p50,
        "ms",
        recount_ms,
        "a full recount from the raw rows",
        recount_ms / p50,
        "p50 <= 20 ms, equal to the recount",
        p50 <= 20 and agrees,
        f"p99 {p99:.1f} ms over {sizes.tally_runs} runs; {sizes.shifts:,} shifts, "
        f"{sizes.users:,} users, {sizes.tasks:,} tasks, {sizes.streets:,} streets, "
        f"{units_for(sizes):,} units; "
        f"equal to the recount: {'yes' if agrees else 'NO'}",
    )


@dataclass(frozen=True)
class StormRows:
    """Figure 3's rows, made as they are written (one generator, so the same rows
    whichever engine takes them, as long as each table is written in this order)."""

    incident_id: int
    districts: list[tuple[int, str]]
    streets: Iterator[tuple[int, int, str, float, float]]
    users: Iterator[tuple[int, str]]
    shifts: Iterator[ShiftRow]
    tasks: Iterator[TaskRow]
    units: int


def storm_rows(sizes: Sizes) -> StormRows:
    """A long storm's rows: streets, users, shifts (one in 200 still on duty, one in ten
    a team) and tasks, in that order."""
    rng = random.Random(3)
    districts = 10
    incident_id = 1

    def streets() -> Iterator[tuple[int, int, str, float, float]]:
        for i in range(1, sizes.streets + 1):
            yield (i, 1 + i % districts, f"Street {i}", 50 + rng.random() * 0.3, 127 + rng.random())

    def shifts() -> Iterator[ShiftRow]:
        for k in range(sizes.shifts):
            street = rng.randint(1, sizes.streets)
            district = 1 + street % districts
            start = k * 0.5
            ended = None if k % 200 == 0 else start + 3600  # one in 200 still on duty
            headcount = rng.randint(5, 25) if k % 10 == 0 else 1
            # someone is on duty at most once at a time: those still on duty are all different
            user = 1 + k // 200 if ended is None else 1 + k % sizes.users
            yield (incident_id, user, headcount, district, street, 50.1, 127.5, start, ended)

    def tasks() -> Iterator[TaskRow]:
        statuses = ("open", "in_progress", "done", "done", "cancelled")
        for status in (rng.choice(statuses) for _ in range(sizes.tasks)):
            street = rng.randint(1, sizes.streets)
            accepted = 0 if status == "open" else 1
            done_at = 10.0 if status in ("done", "cancelled") else None
            yield (incident_id, street, 3, accepted, status, 1, 0.0, done_at)

    return StormRows(
        incident_id,
        [(d, f"District {d:02d}") for d in range(1, districts + 1)],
        streets(),
        ((u, f"cadre {u}") for u in range(1, sizes.users + 1)),
        shifts(),
        tasks(),
        units_for(sizes),
    )


def seed_tally_database(path: Path, sizes: Sizes) -> int:
    """Fill a migrated database in bulk, counters included, as a long storm leaves it."""
    rows = storm_rows(sizes)
    write_storm(bulk, path, rows)
    return rows.incident_id


def write_storm(engine_bulk: ModuleType, address: Path | str, rows: StormRows) -> None:
    """The storm's rows through an engine's bulk module (`storage.sqlite.bulk`, or
    `storage.postgres.bulk` with COPY), which name the same steps."""
    with engine_bulk.bulk_load(address) as db:
        engine_bulk.insert_districts(db, rows.districts)
        engine_bulk.insert_streets(db, rows.streets)
        engine_bulk.insert_users(db, rows.users)
        engine_bulk.insert_incident(db, rows.incident_id, "Bench storm", 0.0)
        engine_bulk.insert_shifts(db, rows.shifts)
        engine_bulk.insert_tasks(db, rows.tasks)
        engine_bulk.insert_units(db, rows.units)
        engine_bulk.rebuild_counters(db, rows.incident_id)


def full_recount(path: Path, incident_id: int) -> dict[str, Any]:
    """The tally's totals added up again from the raw rows, with no counters."""
    return recount_summary(bulk.recount_file(path, incident_id))


def recount_summary(recount: Recount) -> dict[str, Any]:
    """A recount's totals, as `tally_summary` states the tally's."""
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
        "units": [list(r) for r in recount.unit_person_times],
        "no_unit": recount.no_unit_person_times,
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
        "units": [[u["unit"], u["person_times"]] for u in tally["units"]],
        "no_unit": tally["no_unit"]["person_times"],
    }


async def import_random_city(database: Path, n: int) -> None:
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


async def seed_fanout_groups(database: Path, groups: list[int]) -> None:
    """One street in one district, and every group bound to that district."""
    store = await open_store(database)
    try:
        await store.import_streets([StreetRow("Fan", "Fan Street", 50.2, 127.5)])
        district = (await store.districts())[0]
        for chat in groups:
            await store.bind_chat(chat, district.id, 1, time.time(), f"group {chat}")
    finally:
        await store.close()


async def seed_streets(database: Path | str, rows: Sequence[StreetRow]) -> None:
    store = await open_store(database)
    try:
        await store.import_streets(rows)
    finally:
        await store.close()


async def turnout(database: Path | str) -> int:
    """Person-times of the current incident, added up from the raw shift rows."""
    store = await open_store(database)
    try:
        incident = await store.current_incident("bench", time.time())
        return (await store.recount(incident.id))[0]
    finally:
        await store.close()


async def queue_notices(address: Path | str, first_chat: int, n: int, lane: int) -> None:
    """Queue `n` bulk notices, one to each chat from `first_chat` on, as one transaction
    (an incident's end queues its notices so)."""
    store = await open_store(address)
    try:
        notices = [
            Outgoing(f"bench:notice:{k}", first_chat + k, "zh", text="您的值守已结束。", lane=lane)
            for k in range(n)
        ]
        await store.enqueue(notices, time.time())
    finally:
        await store.close()
