"""`kill -9` in the middle of a burst of check-ins, on a real `snowbot run` process:
every acknowledged check-in is kept, and nothing is left half-done."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from snowbot.config import load_config
from snowbot.standin import BotApiStandIn, SimUser
from snowbot.wiring import open_service
from tests.conftest import ROOT

STATION = (50.2401, 127.5001)


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "snowbot", "run", "--config", str(config)],
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
        f'[storage]\ndatabase = "kill.db"\n[city]\ngazetteer = "{city_csv}"\n',
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

    service = await open_service(load_config(str(config)))
    try:
        incident = await service.incident()
        for user_id in acknowledged:
            assert await service.store.open_shift(incident.id, user_id) is not None, user_id
        tally = await service.tally()
        # the counters agree with the raw rows: no shift without its count, none twice
        raw = await service.store.recount(incident.id)
        assert (tally.person_times, tally.on_duty, tally.people) == raw
        assert tally.person_times == len(people)
    finally:
        await service.close()
    assert api.token not in log.read_text("utf-8")  # the token never reaches the log
