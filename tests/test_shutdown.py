"""A real `snowbot run` stopped by SIGTERM while its outbox is full and people are writing:
the jobs, the courier and the updates under way stop before the database closes, so the
stop is quiet, prompt and loses nothing (what waited goes at the next start, once)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from snowbot.domain.messages import Outgoing
from snowbot.settings.config_file import load_config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import ROOT, eventually, opened_bot

WAITING = 200  # notices in the outbox at the start: far more than go out before the signal
WRITERS = 40  # people whose /start is being handled when the signal comes
# what a stop that closed the database under the courier (or a job) printed
BAD_SIGNS = (
    "Traceback",
    "closed database",
    "no active connection",
    "won't be automatically awaited",
    "ERROR",
    "CRITICAL",
)


def _start(config: Path, stderr: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    with stderr.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "snowbot", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=config.parent,
        )


async def _stop(bot: subprocess.Popen[bytes]) -> int:
    bot.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(bot.wait, 60)


async def test_sigterm_with_a_full_outbox_stops_cleanly_and_loses_nothing(
    tmp_path: Path, city_csv: Path
) -> None:
    # Telegram's flood limit, low: the courier is still at work when the signal comes
    api = BotApiStandIn(rate_limit=20)
    await api.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'[storage]\ndatabase = "stop.db"\n[city]\ngazetteer = "{city_csv}"\n'
        "[access]\ncoordinators = [1]\n"
        '[dashboard]\nlisten = "127.0.0.1:0"\ntoken = "a-token-for-this-test"\n',
        "utf-8",
    )
    config.chmod(0o600)
    async with opened_bot(load_config(str(config)), time.time, city_csv) as service:
        notices = [Outgoing(f"notice:{n}", 10_000 + n, "en", f"notice {n}") for n in range(WAITING)]
        await service.store.enqueue(notices, time.time())
    writers = [SimUser(2000 + n, f"guest {n}", "en") for n in range(WRITERS)]
    stderr = tmp_path / "stderr.txt"
    bot = _start(config, stderr)
    try:
        await eventually(lambda: api.total_sent >= 30, "the courier under way", timeout=30)
        polls = api.calls["getUpdates"]
        for user in writers:
            await api.say(user, "/start")
        # every /start fetched (the stand-in answers a long poll when updates come, as Telegram)
        await eventually(
            lambda: (
                api.calls["getUpdates"] > polls
                and f"from {writers[-1].id}: message" in stderr.read_text("utf-8")
            ),
            "the updates fetched",
        )
        code = await _stop(bot)
        text = stderr.read_text("utf-8")
        assert code == 0, text
        assert not [sign for sign in BAD_SIGNS if sign in text], text
        # the stop did not wait for the whole outbox to go out at Telegram's pace
        assert api.total_sent < WAITING, api.total_sent

        # started again (Telegram's limit lifted), it sends the rest: every notice and every
        # reply exactly once
        api.rate_limit = None
        bot = _start(config, stderr)
        chats = [10_000 + n for n in range(WAITING)] + [u.id for u in writers]
        await eventually(lambda: all(api.count(c) >= 1 for c in chats), "the rest", timeout=60)
        assert await _stop(bot) == 0
        assert {c: api.count(c) for c in chats if api.count(c) != 1} == {}
    finally:
        if bot.poll() is None:
            bot.kill()
        await api.stop()
    assert not [sign for sign in BAD_SIGNS if sign in stderr.read_text("utf-8")]
