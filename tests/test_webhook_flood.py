"""Turns at scale (issue 27), with two real `snowbot run --webhook` processes on PostgreSQL:
one account's flood, split across both, is bounded (beyond `[bot] max_queued_per_person`
its updates are dropped, with one notice) while everyone else's updates are all answered,
in each person's order, once; what a live process has kept is never taken from it, while
what a killed one kept is handled by the survivor, once, and the scheduler is taken over."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from snowbot.tools.standin import BotApiStandIn, SimUser
from storage.functions import functions_of
from tests.engines import NewDatabase, raw
from tests.harness import STATION, eventually, location_update
from tests.ports import free_port
from tests.test_webhook_many import (
    SECRET,
    _post,
    _start,
    _text,
    _text_update,
    answered_in_order,
    stop_all,
)

BOUND = 20  # [bot] max_queued_per_person
FLOOD = 300  # /whoami from one account, posted at once to both processes
PEOPLE = 8
ELSEWHERE = "another-host:1:live"  # a live process that keeps its updates to itself

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)


def _one(database: str, sql: str, *params: Any) -> Any:
    with raw(database) as db:
        return db.execute(sql, params).fetchone()[0]


def _keep_elsewhere(database: str, update_id: int, body: str, person: int, holder: str) -> None:
    """An update kept long ago, by `holder`, and never handled."""
    with raw(database) as db:
        db.execute(
            "INSERT INTO inbox (update_id, body, received_at, person, holder) "
            "VALUES (?, ?, ?, ?, ?)",
            (update_id, body, time.time() - 3600, person, holder),
        )


async def test_a_flood_is_bounded_and_others_are_answered_in_order_once(
    tmp_path: Path, city_csv: Path, new_database: NewDatabase
) -> None:
    database = str(new_database())
    api = BotApiStandIn()
    await api.start()
    reports = -100_889
    api.group(reports, "Command centre")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'webhook_secret = "{SECRET}"\n'
        f'[storage]\ndatabase = "{database}"\n[city]\ngazetteer = "{city_csv}"\n'
        f'[access]\nenrolment = "open"\n[dashboard]\nlisten = ""\n'
        f"[bot]\nmax_queued_per_person = {BOUND}\n"
        f'[schedule]\nreport_chats = [{reports}]\ntally_every = "2s"\n',
        "utf-8",
    )
    ports = [free_port(), free_port()]
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    ids = itertools.count(50_000)
    flooder = SimUser(7000, "flooder", "en")
    people = [SimUser(7100 + i, f"cadre {i}", "en") for i in range(PEOPLE)]
    live, orphan, waiting = (SimUser(7200 + i, name, "en") for i, name in enumerate("LOK"))
    processes = [_start(config, logs[0], ports[0])]
    try:
        await eventually(lambda: api.webhook is not None, "the first webhook set", timeout=30)
        processes.append(_start(config, logs[1], ports[1]))
        await eventually(
            lambda: "serving the webhook beside it" in _text(logs[1]), "both serving", timeout=30
        )
        with raw(database) as db:  # alive for an hour, by the database's clock
            now = functions_of(db).now
            db.execute(
                f"INSERT INTO processes (holder, beat_at) VALUES (?, {now} + 3600)",
                (ELSEWHERE,),
            )

        async with aiohttp.ClientSession() as http:
            gate = asyncio.Semaphore(64)

            async def flood(n: int) -> None:
                async with gate:
                    await _post(http, ports[n % 2], _text_update(next(ids), flooder, "/whoami"))

            async def one_person(n: int, user: SimUser) -> None:
                first, second = ports[n % 2], ports[(n + 1) % 2]
                await _post(http, first, _text_update(next(ids), user, "/checkin 5"))
                await _post(http, second, location_update(next(ids), user, *STATION))
                await _post(http, first, _text_update(next(ids), user, "/whoami"))

            await asyncio.gather(
                *(flood(n) for n in range(FLOOD)),
                *(one_person(n, u) for n, u in enumerate(people)),
            )
            await api.wait_for(lambda: all(api.count(u.id) >= 3 for u in people), timeout=120)
            # the flood: what was kept is handled, the rest was dropped, with one notice
            unhandled = (
                "SELECT COUNT(*) FROM inbox WHERE person = ? AND update_id NOT IN "
                "(SELECT update_id FROM seen_updates)"
            )
            await eventually(
                lambda: _one(database, unhandled, flooder.id) == 0, "the flood drained", 120
            )
            kept = _one(database, "SELECT COUNT(*) FROM inbox WHERE person = ?", flooder.id)
            assert BOUND <= kept < FLOOD
            await api.wait_for(lambda: api.count(flooder.id) >= kept + 1, timeout=60)

            # kept and unhandled: by a live process (its own), by a dead one (an orphan),
            # and one waiting here for a turn the live process holds
            for user, holder in ((live, ELSEWHERE), (orphan, "a-process-long-gone")):
                update_id = next(ids)
                body = _text_update(update_id, user, "/whoami")
                _keep_elsewhere(database, update_id, body, user.id, holder)
            with raw(database) as db:
                db.execute(
                    "INSERT INTO turns (person, update_id, holder, expires_at) VALUES (?, ?, ?, 0)",
                    (waiting.id, 1, ELSEWHERE),
                )
            await _post(http, ports[0], _text_update(next(ids), waiting, "/whoami"))
            await api.wait_for(lambda: api.count(orphan.id) >= 1, timeout=60)
            # the orphan was claimed by the statement that saw the live process's update
            assert api.count(live.id) == 0 and api.count(waiting.id) == 0

            # the first process is killed with the update in hand, and the live one stops:
            # the survivor handles both their updates, and takes the scheduler over
            await api.wait_for(lambda: api.count(reports) >= 1, timeout=30)
            processes[0].send_signal(signal.SIGKILL)
            await asyncio.to_thread(processes[0].wait, 10)
            with raw(database) as db:
                db.execute("DELETE FROM processes WHERE holder = ?", (ELSEWHERE,))
            await api.wait_for(
                lambda: api.count(live.id) >= 1 and api.count(waiting.id) >= 1, timeout=90
            )
            await eventually(
                lambda: "taking it over" in _text(logs[1]), "the scheduler taken over", 30
            )
        processes[1].send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(processes[1].wait, 30) == 0
    finally:
        await stop_all(processes, api)

    answered_in_order(api, people)
    flooded = [sent.text for sent in api.sent[flooder.id]]
    notices = [t for t in flooded if "sending faster than I can answer" in t]
    assert len(notices) == 1, notices
    assert len(flooded) == kept + 1  # every kept one answered once, the dropped never
    assert [api.count(u.id) for u in (live, orphan, waiting)] == [1, 1, 1]
    for log in logs:
        assert "Traceback" not in _text(log) and SECRET not in _text(log)
