"""Figures 1–3 on PostgreSQL (`snowbot bench --postgres URL`), in one scratch database
that each figure empties before it writes: check-ins through the real bot against bare
python-telegram-bot (1), check-ins committed through snowbot's storage against plain
asyncpg and plain psycopg inserts into the same table, one per transaction (2), and the
tally on a database seeded in bulk, against a recount from the raw rows (3)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg

from snowbot.settings.config import Config
from snowbot.settings.errors import SnowbotError
from snowbot.settings.redact import hide_password
from snowbot.tools.bench.common import Figure, Kit, Sizes, sample_city
from snowbot.tools.bench.database import (
    StormRows,
    measure_tally,
    recount_summary,
    storm_rows,
    turnout,
    write_storm,
)
from snowbot.tools.bench.pipeline import figure_checkins
from storage import open_store
from storage.postgres import bulk

# user ids of the plain baselines' rows: after any snowbot's own
PLAIN_USERS = 10_000_000
ASYNCPG_USERS = 20_000_000
ROUNDS = 4  # the plain drivers take turns


async def refuse_unless_scratch(url: str) -> None:
    """A clear line unless `url` is an empty database (snowbot's tables, once migrated,
    all without rows) that this run may fill and empty again, with asyncpg at hand."""
    where = f"bench --postgres {hide_password(url)}"
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        raise SnowbotError(
            f"{where}: figure 2's baseline needs asyncpg: pip install 'snowbot[bench]'"
        ) from None
    try:
        store = await open_store(url)
        await store.close()
        filled = await asyncio.to_thread(bulk.filled_tables, url)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SnowbotError(f"{where}: {hide_password(first)}") from None
    if filled:
        raise SnowbotError(
            f"{where}: not an empty database ({', '.join(filled[:3])} hold rows); "
            "the benchmark writes and deletes thousands of rows: give it a scratch database"
        )


async def fresh(url: str) -> None:
    """The scratch database migrated, every table of snowbot's empty."""
    store = await open_store(url)
    await store.close()
    await asyncio.to_thread(bulk.empty_tables, url)


# -- 1. the check-in pipeline ---------------------------------------------------------------


async def figure_checkins_postgres(
    kit: Kit, base: Config, sizes: Sizes, folder: Path, url: str
) -> Figure:
    await fresh(url)
    return await figure_checkins(kit, base, sizes, folder / "pg", postgres=url)


# -- 2. committed writes against plain asyncpg and plain psycopg ----------------------------


async def figure_writes_postgres(url: str, sizes: Sizes) -> list[Figure]:
    """Figure 2 on PostgreSQL, and the plain drivers side by side (psycopg 3 as fast as
    asyncpg here, so snowbot's storage keeps psycopg: issue #20)."""
    await fresh(url)
    store = await open_store(url)
    try:
        await store.import_streets(sample_city())
        streets = await store.streets()
        incident = await store.current_incident("bench", time.time())
        per_writer = max(1, sizes.writes // sizes.writers)
        total = sizes.writers * per_writer
        await asyncio.gather(
            *(store.register_user(10_000 + w, f"c{w}", None, "zh", 0.0) for w in range(total))
        )

        async def writer(w: int) -> None:
            for k in range(per_writer):
                street = streets[(w * 7 + k) % len(streets)]
                uid = 10_000 + w * per_writer + k
                await store.check_in(
                    incident.id, uid, 1, street, street.lat, street.lon, time.time(), 0.0
                )

        started = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(sizes.writers)))
        ours = time.perf_counter() - started
    finally:
        await store.close()
    ours_committed = await turnout(url)
    first = streets[0]
    row = (incident.id, first.district_id, first.id)
    await asyncio.to_thread(_plain_users, url, total)
    # each driver writes a quarter of its rows in turn, A B B A A B B A, so that a slower
    # stretch of this shared machine falls on both alike
    psycopg_s = asyncpg_s = 0.0
    quarters = [total // ROUNDS + (1 if r < total % ROUNDS else 0) for r in range(ROUNDS)]
    done = 0
    for r, n in enumerate(quarters):
        for driver in ("psycopg", "asyncpg") if r % 2 == 0 else ("asyncpg", "psycopg"):
            if driver == "psycopg":
                psycopg_s += await asyncio.to_thread(
                    _plain_psycopg_writes, url, PLAIN_USERS + done, n, row
                )
            else:
                asyncpg_s += await _plain_asyncpg_writes(url, ASYNCPG_USERS + done, n, row)
        done += n
    all_committed = await turnout(url)
    ours_rate, psycopg_rate, asyncpg_rate = total / ours, total / psycopg_s, total / asyncpg_s
    ratio, drivers = ours_rate / asyncpg_rate, psycopg_rate / asyncpg_rate
    all_in = ours_committed == total and all_committed == 3 * total
    committed = (
        f"check-ins committed: {ours_committed} of {total} "
        f"(with both baselines': {all_committed} of {3 * total})"
    )
    return [
        Figure(
            "committed_writes_postgres",
            "Check-ins committed per second through snowbot's storage on PostgreSQL",
            ours_rate,
            "commits/s",
            asyncpg_rate,
            "plain asyncpg, one INSERT per transaction, same server",
            ratio,
            ">= 0.5 of plain asyncpg",
            ratio >= 0.5 and all_in,
            f"{sizes.writers} concurrent cadres, {total} check-ins; plain psycopg "
            f"{psycopg_rate:,.0f} commits/s ({ours_rate / psycopg_rate:.2f} of it); {committed}",
        ),
        Figure(
            "drivers_postgres",
            "Plain psycopg 3 inserts on PostgreSQL, commits/s",
            psycopg_rate,
            "commits/s",
            asyncpg_rate,
            "plain asyncpg, the same inserts",
            drivers,
            ">= 0.9 of plain asyncpg (psycopg 3 as fast here)",
            drivers >= 0.9 and all_in,
            f"{total} INSERTs each, one per transaction, on one connection each, "
            f"taking turns in {ROUNDS} rounds each (psycopg first in odd rounds, asyncpg "
            "in even ones)",
        ),
    ]


# The baselines are written plainly on purpose: what an application without snowbot would do.

_PLAIN_INSERT = (
    "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, lat, lon, "
    "started_at, welfare_from, located_at) VALUES ({}, {}, 1, {}, {}, 50.2, 127.5, {}, {}, {})"
)


def _plain_users(url: str, n: int) -> None:
    """The cadres of both baselines, registered before either is timed."""
    with psycopg.connect(url, autocommit=True) as db, db.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (id, name, registered, created_at) VALUES (%s, 'p', 1, 0)",
            [(first + k,) for first in (PLAIN_USERS, ASYNCPG_USERS) for k in range(n)],
        )


def _plain_psycopg_writes(url: str, first_user: int, n: int, row: tuple[int, int, int]) -> float:
    """n shift rows, one INSERT per transaction, through psycopg 3; seconds taken."""
    incident_id, district, street = row
    sql = _PLAIN_INSERT.format(*["%s"] * 7)
    with psycopg.connect(url, autocommit=True) as db:
        started = time.perf_counter()
        for k in range(n):
            now = time.time()
            with db.transaction():
                db.execute(sql, (incident_id, first_user + k, district, street, now, now, now))
        return time.perf_counter() - started


async def _plain_asyncpg_writes(
    url: str, first_user: int, n: int, row: tuple[int, int, int]
) -> float:
    """The same through asyncpg: one INSERT per transaction; seconds taken."""
    import asyncpg

    incident_id, district, street = row
    sql = _PLAIN_INSERT.format(*(f"${i}" for i in (1, 2, 3, 4, 5, 5, 5)))
    db: Any = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for k in range(n):
            async with db.transaction():
                await db.execute(sql, incident_id, first_user + k, district, street, time.time())
        return time.perf_counter() - started
    finally:
        await db.close()


# -- 3. the tally at scale ------------------------------------------------------------------


async def figure_tally_postgres(kit: Kit, base: Config, sizes: Sizes, url: str) -> Figure:
    await fresh(url)
    rows = storm_rows(sizes)
    await asyncio.to_thread(seed_tally_postgres, url, rows)
    config = replace(base, database_url=url, city=replace(base.city, gazetteer=None))
    return await measure_tally(
        kit,
        config,
        sizes,
        rows.incident_id,
        lambda: recount_summary(bulk.recount_url(url, rows.incident_id)),
        "tally_at_scale_postgres",
        " on PostgreSQL",
    )


def seed_tally_postgres(url: str, rows: StormRows) -> None:
    """Figure 3's storm written with COPY into an empty, migrated database."""
    write_storm(bulk, url, rows)
