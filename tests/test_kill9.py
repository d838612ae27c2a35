"""A real `snowbot run` process: `kill -9` in the middle of a burst of check-ins keeps every
acknowledged check-in and leaves nothing half-done; the token never reaches its output."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from snowbot.config import load_config
from snowbot.standin import BotApiStandIn, SimUser
from tests.harness import ROOT, STATION, opened_bot, recount, stand_in

# `snowbot run`, with one library grown chatty: it logs every Bot API URL it calls, and the
# URL holds the token (httpx does this at INFO). What `snowbot run` wires up must clean it.
CHATTY_RUN = """
import logging, sys
from telegram.request import HTTPXRequest
from snowbot.cli import main

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
    for _ in range(300):
        if api.calls["getUpdates"] > calls:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not start polling")


async def test_kill_9_during_a_burst_keeps_every_acknowledged_check_in(
    tmp_path: Path, city_csv: Path
) -> None:
    api = BotApiStandIn()
    await api.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'[storage]\ndatabase = "kill.db"\n[city]\ngazetteer = "{city_csv}"\n'
        '[access]\nenrolment = "open"\n',
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
        await api.wait_for(lambda: all(api.count(u.id) > 0 for u in people), timeout=30)
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=20)
    finally:
        if bot.poll() is None:
            bot.kill()
        await api.stop()

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
