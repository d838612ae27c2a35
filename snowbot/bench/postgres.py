"""Figure 2 on PostgreSQL (`snowbot bench --postgres URL`): check-ins committed through
snowbot's storage on PostgreSQL, against plain psycopg inserts into the same table, one
per transaction, through the same driver and server."""

from __future__ import annotations

import asyncio
import time

import psycopg

from snowbot.bench.common import Figure, Sizes, sample_city
from snowbot.errors import SnowbotError
from snowbot.redact import hide_password
from storage import open_store

# user ids of the plain baseline's rows: after any snowbot's own
PLAIN_USERS = 10_000_000


async def figure_writes_postgres(url: str, sizes: Sizes) -> Figure:
    store = await open_store(url)
    try:
        if await store.streets():
            raise SnowbotError(
                f"bench --postgres {hide_password(url)}: not an empty database; "
                "the benchmark writes thousands of rows: give it a scratch database"
            )
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
    first = streets[0]
    plain = await asyncio.to_thread(
        _plain_psycopg_writes, url, total, incident.id, first.district_id, first.id
    )
    ours_rate, plain_rate = total / ours, total / plain
    ratio = ours_rate / plain_rate
    return Figure(
        "committed_writes_postgres",
        "Check-ins committed per second through snowbot's storage on PostgreSQL",
        ours_rate,
        "commits/s",
        plain_rate,
        "plain psycopg, one INSERT per transaction, same server",
        ratio,
        ">= 0.5 of plain psycopg",
        ratio >= 0.5,
        f"{sizes.writers} concurrent cadres, {total} check-ins",
    )


def _plain_psycopg_writes(url: str, n: int, incident_id: int, district: int, street: int) -> float:
    """The same shift rows into the same table, one plain INSERT per transaction: the
    baseline, written plainly on purpose (what an application without snowbot would do)."""
    with psycopg.connect(url, autocommit=True) as db:
        with db.cursor() as cur:
            cur.executemany(
                "INSERT INTO users (id, name, registered, created_at) VALUES (%s, 'p', 1, 0)",
                [(PLAIN_USERS + k,) for k in range(n)],
            )
        started = time.perf_counter()
        for k in range(n):
            now = time.time()
            with db.transaction():
                db.execute(
                    "INSERT INTO shifts (incident_id, user_id, headcount, district_id, "
                    "street_id, lat, lon, started_at, welfare_from, located_at) "
                    "VALUES (%s, %s, 1, %s, %s, 50.2, 127.5, %s, %s, %s)",
                    (incident_id, PLAIN_USERS + k, district, street, now, now, now),
                )
        return time.perf_counter() - started
