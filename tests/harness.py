"""What the tests share, imported explicitly (fixtures stay in conftest.py).

- the city: `SMALL_CITY` (two districts), `SAMPLE_CSV`, and places in it (`STATION`…);
- the cast: the people who talk to the bot in end-to-end tests (`COORD`, `CADRE`…);
- clocks and fakes: `FakeClock`, `person`, `location_update` (a Telegram update as JSON);
- opened and always closed: `opened_store`, `opened_bot`;
- the real bot against the local Bot API stand-in: `stand_in`, `bot_config`, `running_bot`,
  and `invite_only` (enrolment by invitation, where the fixture's config is open);
- the command line as an operator runs it: `run_cli`;
- checks that fail loudly: `said` (a reply is this catalog text), `no_errors` (nothing reached
  the error handler), `eventually` (a condition comes true before a deadline), `recount`
  (a database's totals in plain SQL, to hold the tally against).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from handlers.app import PollingBot
from snowbot.app.wiring import open_service, start_bot
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Task
from snowbot.service import Person, Snowbot
from snowbot.settings.config import Config, TelegramConfig
from snowbot.text.texts import catalog
from snowbot.tools.standin import BotApiStandIn, SimUser
from storage import open_store
from tests.engines import raw

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "data" / "heihe_streets.csv"

# A tiny city: two districts, streets a few hundred metres apart.
SMALL_CITY = """district,street,lat,lon
North,Station Road,50.2400,127.5000
North,Station Road East,50.2400,127.5100
North,Market Street,50.2450,127.5000
North,School Lane,50.2500,127.5050
South,River Road,50.2000,127.5000
South,Mill Street,50.2050,127.5050
South,Market Street,50.2100,127.4950
"""
STATION = (50.2401, 127.5001)  # beside Station Road, North
RIVER = (50.2001, 127.5001)  # beside River Road, South, 4.5 km from Station Road
FAR = (51.0, 127.5)  # 84 km north of the city: farther than max_distance_km

# -- the cast of the end-to-end tests (user 1 is the config's coordinator) ----------------

COORD = SimUser(1, "Coordinator Wang", "en")
DISPATCH = SimUser(50, "Dispatcher Li", "en")  # made a dispatcher by each test that needs one
NORTH_DISPATCHER = SimUser(60, "North dispatcher", "en")
SOUTH_DISPATCHER = SimUser(61, "South dispatcher", "en")
CADRE = SimUser(10, "Cadre Zhao", "en")
LEADER = SimUser(11, "Leader Sun", "en")
THIRD = SimUser(12, "Cadre Qian", "en")
NORTH_GROUP = -100200
CITY_GROUP = -100300


class FakeClock:
    """The service's clock, moved by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def person(bot: Snowbot, user_id: int, name: str = "") -> Person:
    """The user as the bot meets them (registered on first contact)."""
    return await bot.meet(user_id, name or f"user{user_id}", None, None)


# -- the few places a test looks past the service into its store: here, so that a storage
# rebuilt underneath changes this file and no test


async def task_of(bot: Snowbot, task_id: int) -> Task | None:
    """Task `task_id` of the current incident as stored, whatever its status."""
    return await bot.store.get_task((await bot.incident()).id, task_id)


async def waiting(bot: Snowbot, chat_id: int | None = None) -> list[Outgoing]:
    """What the outbox holds for a chat (or for all), not yet sent."""
    items = await bot.store.due_outbox(bot.clock(), 10_000)
    return [i.message for i in items if chat_id is None or i.message.chat_id == chat_id]


async def drain(bot: Snowbot) -> list[Outgoing]:
    """Everything due, marked as sent: the courier's part, without Telegram."""
    items = await bot.store.due_outbox(bot.clock(), 10_000)
    for n, item in enumerate(items):
        await bot.store.outbox_sent(item, 1000 + n, bot.clock())
    return [item.message for item in items]


# -- opened and always closed: a failing test must not leave a database thread behind ---
# (aiosqlite's thread keeps the interpreter alive: pytest would print "1 failed" and hang)


@asynccontextmanager
async def opened_store(path: Path | str) -> AsyncIterator[Any]:  # the store, whatever its class
    store = await open_store(path)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def opened_bot(
    config: Config, clock: Callable[[], float], city_csv: Path | None = None, **kwargs: Any
) -> AsyncIterator[Snowbot]:
    service = await open_service(config, clock, **kwargs)
    try:
        if city_csv is not None:
            await service.import_streets(city_csv)
        yield service
    finally:
        await service.close()


# -- the real bot against the local Bot API stand-in --------------------------------------


def invite_only(config: Config) -> Config:
    """Enrolment by invitation (the default for `snowbot run`; the fixture's is open)."""
    return replace(config, access=replace(config.access, enrolment="invite"))


def bot_config(config: Config, api: BotApiStandIn, gazetteer: Path | None) -> Config:
    return replace(
        config,
        telegram=TelegramConfig(token=api.token, base_url=api.base_url),
        city=replace(config.city, gazetteer=gazetteer),
    )


@asynccontextmanager
async def running_bot(config: Config, **kwargs: Any) -> AsyncIterator[PollingBot]:
    """Started as `snowbot run` starts it (`kwargs`: `start_bot`'s), stopped whatever happens."""
    running = await start_bot(config, timeout=1, **kwargs)
    try:
        yield running
    finally:
        await running.stop()


@asynccontextmanager
async def stand_in() -> AsyncIterator[BotApiStandIn]:
    api = BotApiStandIn()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


def location_update(update_id: int, user: SimUser, lat: float, lon: float) -> str:
    """A Telegram update (as JSON) in which `user` shares a location in a private chat."""
    chat = {"id": user.id, "type": "private", "first_name": user.first_name}
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": user.as_json(),
        "location": {"latitude": lat, "longitude": lon},
    }
    return json.dumps({"update_id": update_id, "message": message})


# -- checks that fail loudly ---------------------------------------------------------------


def said(key: str, lang: str = "en", **params: object) -> str:
    """The catalog's text for `key`: a reply is checked by the refusal or answer it is,
    not by "some refusal"."""
    return catalog(lang)(key, **params)


def no_errors(caplog: pytest.LogCaptureFixture, api: BotApiStandIn | None = None) -> None:
    """Nothing reached the error handler: no ERROR log record, and nobody was told
    "something went wrong" (in either language)."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    if api is not None:
        sorry = {said("error.generic", "en"), said("error.generic", "zh")}
        apologies = [s.text for chat in api.sent.values() for s in chat if s.text in sorry]
        apologies += [a["text"] for a in api.answers.values() if a.get("text") in sorry]
        assert not apologies, apologies


async def eventually(
    check: Callable[[], Awaitable[T] | T], what: str, timeout: float = 10.0, every: float = 0.02
) -> T:
    """Call (and await) `check()` until it returns something truthy, and return that; past
    the deadline, fail naming `what` (a wait that ends silently lets the test go on as if)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(every)


def recount(database: Path | str) -> dict[str, Any]:
    """The current incident's totals, counted again from the raw rows with plain SQL: an
    oracle that shares nothing with the tally's own counters and queries."""
    with raw(database) as db:
        (incident,) = db.execute("SELECT id FROM incidents WHERE ended_at IS NULL").fetchone()
        person_times, on_duty, people = db.execute(
            "SELECT COALESCE(SUM(headcount), 0), "
            "COALESCE(SUM(headcount) FILTER (WHERE ended_at IS NULL), 0), "
            "COUNT(DISTINCT user_id) FROM shifts WHERE incident_id = ?",
            (incident,),
        ).fetchone()
        tasks = dict.fromkeys(("open", "in_progress", "done", "cancelled"), 0)
        tasks.update(
            db.execute(
                "SELECT status, COUNT(*) FROM tasks WHERE incident_id = ? GROUP BY status",
                (incident,),
            ).fetchall()
        )
        # people placed: the places rows themselves, not the shifts' own `placed` counters
        (assigned,) = db.execute(
            "SELECT COALESCE(SUM(p.count), 0) FROM places p "
            "JOIN shifts sh ON sh.id = p.shift_id JOIN tasks t ON t.id = p.task_id "
            "WHERE sh.incident_id = ? AND sh.ended_at IS NULL "
            "AND t.status IN ('open', 'in_progress')",
            (incident,),
        ).fetchone()
        (total,) = db.execute("SELECT COUNT(*) FROM streets").fetchone()
        (served,) = db.execute(
            "SELECT COUNT(DISTINCT street_id) FROM tasks WHERE incident_id = ? AND status = 'done'",
            (incident,),
        ).fetchone()
    return {
        "person_times": person_times,
        "on_duty": on_duty,
        "assigned": assigned,
        "available": on_duty - assigned,
        "people": people,
        "tasks": tasks,
        "streets": {"total": total, "served": served, "unserved": total - served},
    }


# -- the command line, as an operator runs it --------------------------------------------


def run_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`snowbot ARGS --config tmp_path/config.toml`, in a process of its own."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "snowbot", *args, "--config", str(tmp_path / "config.toml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=full_env,
        timeout=60,
    )
