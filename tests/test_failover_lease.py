"""The PostgreSQL lease on its own (issue 20): a standby rides out a dropped connection, a
released lease is taken at once, and one that was not renewed is taken when it ends, the
old holder's connections ended so that its open transaction lets go of its rows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
import pytest

from storage.postgres import leader
from storage.postgres.leader import LeaseLeadership
from tests.engines import NewDatabase

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)


@contextlib.asynccontextmanager
async def two(url: str) -> AsyncIterator[tuple[LeaseLeadership, LeaseLeadership]]:
    a, b = LeaseLeadership(url, "snowbot:test-a"), LeaseLeadership(url, "snowbot:test-b")
    try:
        yield a, b
    finally:
        await a.release()
        await b.release()


def _end_connections(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid, 3000) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (name,),
        )


async def test_a_standby_rides_out_a_dropped_connection_and_takes_a_released_lease(
    new_database: NewDatabase,
) -> None:
    url = str(new_database("lease"))
    async with two(url) as (a, b):
        assert await a.try_lead()
        assert not await b.try_lead()
        _end_connections(url, b.me)  # the database restarting, as the standby sees it
        assert not await b.try_lead()  # no error: it goes on standing by
        assert not await b.try_lead()  # on a new connection
        assert await a.still_leading()
        await a.release()
        assert await b.try_lead()  # a lease given up is taken at once


async def test_a_lease_not_renewed_is_taken_and_the_old_holders_transaction_ended(
    new_database: NewDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leader, "LEASE", 1.5)
    monkeypatch.setattr(leader, "MARGIN", 0.5)
    url = str(new_database("lease"))
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("CREATE TABLE counter (n integer)")
        setup.execute("INSERT INTO counter VALUES (1)")
    async with two(url) as (a, b):
        assert await a.try_lead()
        # the leader's store, in the middle of a transaction that holds a row
        stuck = psycopg.connect(url, application_name=a.me)
        try:
            stuck.execute("UPDATE counter SET n = 2")
            assert not await b.try_lead()  # the lease holds while it runs
            await asyncio.sleep(1.6)  # the leader, cut off, renews no more
            assert not await a.still_leading()  # by its own clock, it has stopped
            assert await b.try_lead()  # the lease ran out: taken, and a's connections ended
            with psycopg.connect(url, autocommit=True) as new_leader:
                new_leader.execute("SET lock_timeout = '5s'")  # a row still held fails this
                new_leader.execute("UPDATE counter SET n = 3")
            assert stuck.broken or stuck.closed or _gone(stuck)
        finally:
            with contextlib.suppress(psycopg.Error):
                stuck.close()


def _gone(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False
