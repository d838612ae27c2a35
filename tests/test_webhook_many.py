"""Several `snowbot run --webhook` processes serving one bot on PostgreSQL (issue 20): updates
posted to two real processes at once, each person's split across both, are handled in each
person's order and once; exactly one process runs the scheduler, and when it is killed the
other takes the scheduler over while it goes on serving. Updates a dead process kept and
never handled are handled by a survivor, once."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import aiohttp
import pytest

from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.engines import NewDatabase, raw
from tests.harness import ROOT, STATION, eventually, location_update, recount, run_cli
from tests.ports import free_port, log_tail, webhook_process

SECRET = "many-Hooks_2026"
REPORTS = -100_888  # the report chat: the scheduler posts a tally to it every 2 s
PEOPLE = 16
TAKEOVER_SECONDS = 15.0

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)


def _text_update(update_id: int, user: SimUser, text: str) -> str:
    chat = {"id": user.id, "type": "private", "first_name": user.first_name}
    message: dict[str, object] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": user.as_json(),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return json.dumps({"update_id": update_id, "message": message})


def _start(config: Path, log: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    hook = ("--webhook", f"http://127.0.0.1:{port}/hook", "--port", str(port))
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "snowbot.app.cli", "run", "--config", str(config), *hook],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )


def _text(log: Path) -> str:
    return log.read_text("utf-8") if log.exists() else ""


async def _post(http: aiohttp.ClientSession, port: int, body: str) -> None:
    """As the reverse proxy passes Telegram's request on; 200 once the update is kept."""
    async with http.post(
        f"http://127.0.0.1:{port}/hook",
        data=body,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    ) as answer:
        assert answer.status == 200, answer.status


async def stop_all(processes: list[subprocess.Popen[bytes]], api: BotApiStandIn) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    await api.stop()


def answered_in_order(api: BotApiStandIn, people: list[SimUser]) -> None:
    """Each of the people's three updates (/checkin 5, the location, /whoami) answered
    once, in the person's order."""
    for user in people:
        texts = [sent.text for sent in api.sent[user.id]]
        assert len(texts) == 3, (user.id, texts)
        assert "headcount: 5" in texts[1], (user.id, texts)
        assert str(user.id) in texts[2], (user.id, texts)


async def test_two_webhook_processes_keep_each_persons_order_and_one_scheduler(
    tmp_path: Path, city_csv: Path, new_database: NewDatabase
) -> None:
    database = new_database()
    api = BotApiStandIn()
    await api.start()
    api.group(REPORTS, "Command centre")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'webhook_secret = "{SECRET}"\n'
        f'[storage]\ndatabase = "{database}"\n[city]\ngazetteer = "{city_csv}"\n'
        '[access]\nenrolment = "open"\n[dashboard]\nlisten = ""\n'
        f'[schedule]\nreport_chats = [{REPORTS}]\ntally_every = "2s"\n',
        "utf-8",
    )
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    ids = itertools.count(10_000)
    people = [SimUser(5000 + i, f"cadre {i}", "en") for i in range(PEOPLE)]
    processes: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        readiness = ("scheduler: tally every", "serving the webhook beside it")
        for log, ready in zip(logs, readiness, strict=True):
            process, port = await webhook_process(partial(_start, config, log), log, ready)
            processes.append(process)
            ports.append(port)
        # exactly one of the two runs the scheduler; the other serves beside it
        assert sum("scheduler: tally every" in _text(log) for log in logs) == 1
        assert "scheduler: tally every" in _text(logs[0])

        async with aiohttp.ClientSession() as http:

            async def one_person(n: int, user: SimUser) -> None:
                """The team's size to one process, the location to the other: handled the
                other way round, the check-in would be of one, not five."""
                first, second = ports[n % 2], ports[(n + 1) % 2]
                await _post(http, first, _text_update(next(ids), user, "/checkin 5"))
                await _post(http, second, location_update(next(ids), user, *STATION))
                await _post(http, first, _text_update(next(ids), user, "/whoami"))

            await asyncio.gather(*(one_person(n, u) for n, u in enumerate(people)))
            await api.wait_for(lambda: all(api.count(u.id) >= 3 for u in people), timeout=60)

            # updates a dead process kept but never handled: a survivor handles each once
            orphans = [SimUser(5900 + i, f"orphan {i}", "en") for i in range(3)]
            with raw(database) as db:
                for user in orphans:
                    update_id = next(ids)
                    db.execute(
                        "INSERT INTO inbox (update_id, body, received_at, person) "
                        "VALUES (?, ?, ?, ?)",
                        (
                            update_id,
                            location_update(update_id, user, *STATION),
                            time.time() - 120,
                            user.id,
                        ),
                    )

            await api.wait_for(lambda: all(api.count(u.id) >= 1 for u in orphans), timeout=30)

            # the scheduler's process is killed: the other takes the scheduler over, and
            # goes on serving the webhook it never stopped
            await api.wait_for(lambda: api.count(REPORTS) >= 1, timeout=30)
            processes[0].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await asyncio.to_thread(processes[0].wait, 10)
            # (the two lines are logged one after the other: read until both are there)
            await eventually(
                lambda: (
                    "taking it over" in (text := _text(logs[1]))
                    and "scheduler: tally every" in text
                ),
                "the scheduler taken over",
                30,
            )
            assert time.monotonic() - killed_at < TAKEOVER_SECONDS
            reports = api.count(REPORTS)
            late = SimUser(5999, "late", "en")
            await _post(http, ports[1], location_update(next(ids), late, *STATION))
            await api.wait_for(lambda: api.count(late.id) >= 1 and api.count(REPORTS) > reports)
        processes[1].send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(processes[1].wait, 30) == 0, log_tail(logs[1])
    finally:
        await stop_all(processes, api)

    answered_in_order(api, people)
    assert all(api.count(u.id) == 1 for u in [*orphans, late])
    counted = recount(database)
    assert counted["person_times"] == 5 * PEOPLE + len(orphans) + 1
    tally = json.loads(run_cli(tmp_path, "tally", "--json").stdout)
    assert {k: tally[k] for k in counted} == counted
    for log in logs:
        assert "Traceback" not in _text(log) and SECRET not in _text(log)
    with raw(database) as db:
        holders = [str(h) for (h,) in db.execute("SELECT holder FROM turns").fetchall()]
        (reports_sent,) = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND sent_at IS NOT NULL", (REPORTS,)
        ).fetchone()
    # every turn ended once its update's replies were out, but those the killed process
    # held then (they expire; a turn is taken again once expired)
    killed = f":{processes[0].pid}:"
    assert all(killed in holder for holder in holders), holders
    # nothing sent twice: every message Telegram got is one row of the outbox, claimed by one
    # process (both processes' couriers look at the outbox every 2 s)
    assert 0 < api.count(REPORTS) <= reports_sent


async def test_without_a_configured_secret_postgres_refuses_the_webhook(
    tmp_path: Path, city_csv: Path, new_database: NewDatabase
) -> None:
    database = new_database()
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\ntoken = "123:abc"\nbase_url = "http://127.0.0.1:9/bot"\n'
        f'[storage]\ndatabase = "{database}"\n[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    log = tmp_path / "bad.log"
    bot = _start(config, log, free_port())  # refused before it binds
    try:
        code = await asyncio.to_thread(bot.wait, 60)
    finally:
        if bot.poll() is None:
            bot.kill()
    lines = _text(log).strip().splitlines()
    assert code == 2, lines
    assert lines[-1].startswith("snowbot: telegram.webhook_secret: required with --webhook on")
    assert "Traceback" not in "\n".join(lines)
