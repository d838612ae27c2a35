"""A real `snowbot run` process: `kill -9` in the middle of a burst of check-ins keeps every
acknowledged check-in and leaves nothing half-done; nobody hears back twice about one
update; the token never reaches its output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from snowbot.settings.config_file import load_config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.engines import raw
from tests.harness import ROOT, STATION, eventually, opened_bot, recount, stand_in

# `snowbot run`, with one library grown chatty: it logs every Bot API URL it calls, and the
# URL holds the token (httpx does this at INFO). What `snowbot run` wires up must clean it.
CHATTY_RUN = """
import logging, sys
from telegram.request import HTTPXRequest
from snowbot.app.cli import main

plain = HTTPXRequest.do_request

async def chatty(self, url, *args, **kwargs):
    logging.getLogger("telegram.request").warning("calling %s", url)
    return await plain(self, url, *args, **kwargs)

HTTPXRequest.do_request = chatty
sys.exit(main(sys.argv[1:]))
"""


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", CHATTY_RUN, "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


async def _polling(api: BotApiStandIn, calls: int) -> None:
    """Wait until the bot polls again. A process's start (Python, its imports, the city)
    takes seconds, many on a busy machine (one saw 8 s from the start to its first poll,
    at a load of 10 on two cores): the deadline is generous, and it fails loudly."""
    await eventually(
        lambda: api.calls["getUpdates"] > calls, "the bot did not start polling", timeout=60
    )


async def test_kill_9_during_a_burst_keeps_every_acknowledged_check_in(
    tmp_path: Path, city_csv: Path
) -> None:
    api = BotApiStandIn()
    await api.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'[storage]\ndatabase = "kill.db"\n[city]\ngazetteer = "{city_csv}"\n'
        '[access]\nenrolment = "open"\n[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    log = tmp_path / "bot.log"
    bot = _start(config, log)
    try:
        await _polling(api, 0)
        people = [SimUser(1000 + i, f"cadre {i}", "en") for i in range(30)]
        for user in people:
            await api.share_location(user, *STATION)
        await api.wait_for(lambda: sum(api.count(u.id) > 0 for u in people) >= 8, timeout=30)
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=10)
        acknowledged = [u.id for u in people if api.count(u.id) > 0]
        assert acknowledged

        # started again, it takes in what Telegram still holds and carries on
        calls = api.calls["getUpdates"]
        bot = _start(config, log)
        await _polling(api, calls + 1)
        database = tmp_path / "kill.db"
        await eventually(
            lambda: all(api.count(u.id) > 0 or u.id in in_hand(database) for u in people),
            "every check-in answered, or its answer in hand at the kill",
            timeout=30,
        )
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=20)
    finally:
        if bot.poll() is None:
            bot.kill()
        await api.stop()

    # one update, one reply: none was sent again after the restart; the only ones that may
    # be missing are those handed to Telegram just as the process died (whether Telegram
    # got them cannot be known, and sending them again could be a second reply)
    assert all(api.count(u.id) <= 1 for u in people), {u.id: api.count(u.id) for u in people}
    unanswered = [u.id for u in people if api.count(u.id) == 0]
    assert set(unanswered) <= in_hand(tmp_path / "kill.db")

    async with opened_bot(load_config(str(config)), time.time) as service:
        for user_id in acknowledged:
            cadre = await service.person(user_id)
            assert cadre is not None and await service.on_duty(cadre) is not None, user_id
        tally = (await service.tally()).as_json()
    # the counters agree with the raw rows: no shift without its count, none twice
    counted = recount(tmp_path / "kill.db")
    assert {k: tally[k] for k in counted} == counted
    assert counted["person_times"] == len(people)
    text = log.read_text("utf-8")
    assert "/bot<token>/getUpdates" in text  # the chatty library did log the URLs,
    assert api.token not in text  # and the token never reached the log


def run_config(tmp_path: Path, api: BotApiStandIn, database: Path | str, city: Path) -> Path:
    """`snowbot run`'s config against the stand-in: open enrolment, no overview."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'[storage]\ndatabase = "{database}"\n[city]\ngazetteer = "{city}"\n'
        '[access]\nenrolment = "open"\n[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    return config


def kill_when_sent_to(
    chat: int, process: Callable[[], subprocess.Popen[bytes] | None]
) -> Callable[[str, dict[str, object]], None]:
    """The stand-in's hook that kills the bot (`kill -9`) as a message reaches `chat`."""

    def hook(kind: str, event: dict[str, object]) -> None:
        running = process()
        if kind == "sent" and event["chat_id"] == chat and running is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(running.pid, signal.SIGKILL)

    return hook


def in_hand(database: Path | str) -> set[int]:
    """Chats of replies claimed for sending and never answered: in hand at a kill."""
    with raw(database) as db:
        rows = db.execute(
            "SELECT chat_id FROM outbox WHERE key LIKE 'reply:%' AND sent_at IS NOT NULL "
            "AND message_id IS NULL AND failed_at IS NULL"
        ).fetchall()
    return {int(chat_id) for (chat_id,) in rows}


async def test_killed_just_after_its_reply_went_out_nobody_hears_back_twice(
    tmp_path: Path, city_csv: Path
) -> None:
    """The window that used to repeat a reply: Telegram has the answer, the bot dies before
    hearing so. Started again, it neither handles the update again nor resends the reply."""
    bot: subprocess.Popen[bytes] | None = None
    first, second = SimUser(2001, "first", "en"), SimUser(2002, "second", "en")
    api = BotApiStandIn(on_event=kill_when_sent_to(first.id, lambda: bot))
    await api.start()
    config = run_config(tmp_path, api, "once.db", city_csv)
    log = tmp_path / "bot.log"
    try:
        bot = _start(config, log)
        await _polling(api, 0)
        await api.share_location(first, *STATION)
        await asyncio.to_thread(bot.wait, 30)  # killed the moment its reply reached Telegram
        assert api.count(first.id) == 1
        api.on_event = None

        calls = api.calls["getUpdates"]
        bot = _start(config, log)
        await _polling(api, calls + 1)
        await api.share_location(second, *STATION)  # handled after whatever was replayed
        await api.wait_for(lambda: api.count(second.id) > 0, timeout=30)
        await api.say(first, "/checkout")
        await api.wait_for(
            lambda: any("Checked out" in m.text for m in api.sent[first.id]), timeout=30
        )
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 20)
    finally:
        if bot is not None and bot.poll() is None:
            bot.kill()
        await api.stop()
    # the check-in's one reply, then the check-out's: nothing in between
    texts = [m.text for m in api.sent[first.id]]
    assert len(texts) == 2 and "Checked out" in texts[1], texts
    assert api.count(second.id) == 1
    counted = recount(tmp_path / "once.db")
    assert counted["person_times"] == 2 and counted["on_duty"] == 1


async def test_a_token_telegram_refuses_is_one_line_without_the_token(tmp_path: Path) -> None:
    async with stand_in() as api:
        refused = "999:REVOKED-secret"
        config = tmp_path / "config.toml"
        config.write_text(
            f'[telegram]\ntoken = "{refused}"\nbase_url = "{api.base_url}"\n'
            '[storage]\ndatabase = "bot.db"\n',
            "utf-8",
        )
        log = tmp_path / "bot.log"
        bot = _start(config, log)
        try:
            assert await asyncio.to_thread(bot.wait, 60) == 2
        finally:
            if bot.poll() is None:
                bot.kill()
    lines = log.read_text("utf-8").strip().splitlines()
    assert lines[-1] == (
        f"snowbot: telegram.token: the Bot API at {api.base_url.removesuffix('/bot')} refused "
        "this token (revoked? ask @BotFather for the current one; check base_url too)"
    )
    assert refused not in "\n".join(lines) and "Traceback" not in "\n".join(lines)


# `snowbot run` that dies by SIGKILL at the last step of its first update: after the
# update's handlers ran and its reply was made, just before it is marked handled
DIES_BEFORE_MARKING = """
import os, signal, sys
from snowbot.app.cli import main
from snowbot.service import Snowbot

async def dies(self, update_id, replies=()):
    os.kill(os.getpid(), signal.SIGKILL)

Snowbot.handled = dies
sys.exit(main(sys.argv[1:]))
"""


async def test_killed_between_its_change_and_its_mark_an_update_changed_nothing(
    tmp_path: Path, city_csv: Path
) -> None:
    """What an update changes commits with its mark and its reply: killed in between, the
    check-in is not there, and handled again it is a first check-in, answered as one
    ("On duty at …", not "Position updated")."""
    cadre = SimUser(3001, "cadre", "en")
    api = BotApiStandIn()
    await api.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'[storage]\ndatabase = "whole.db"\n[city]\ngazetteer = "{city_csv}"\n'
        '[access]\nenrolment = "open"\n[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    log = tmp_path / "bot.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    bot: subprocess.Popen[bytes] | None = None
    try:
        with log.open("ab") as out:
            bot = subprocess.Popen(
                [sys.executable, "-c", DIES_BEFORE_MARKING, "run", "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        await _polling(api, 0)
        await api.share_location(cadre, *STATION)
        assert await asyncio.to_thread(bot.wait, 30) == -signal.SIGKILL
        counted = recount(tmp_path / "whole.db")
        assert counted["person_times"] == 0 and api.count(cadre.id) == 0

        calls = api.calls["getUpdates"]
        bot = _start(config, log)
        await _polling(api, calls + 1)
        await api.wait_for(lambda: api.count(cadre.id) > 0, timeout=30)
        assert "Hello" in (await api.ask(SimUser(3002, "later", "en"), "/start")).text
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 20)
    finally:
        if bot is not None and bot.poll() is None:
            bot.kill()
        await api.stop()
    texts = [m.text for m in api.sent[cadre.id]]
    assert len(texts) == 1 and texts[0].startswith("✅ On duty at Station Road"), texts
    counted = recount(tmp_path / "whole.db")
    assert counted["person_times"] == 1 and counted["on_duty"] == 1
