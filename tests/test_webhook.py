"""`snowbot run --webhook URL` (issue 20): a real process behind what a reverse proxy would
pass on, updates posted to it by the stand-in as Telegram posts them; the secret token is
checked (a wrong or missing one gets 403 and changes nothing); mistakes are one line."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import ROOT, STATION, eventually, location_update, recount, stand_in
from tests.ports import log_tail, webhook_process

SERVING = "taking updates by webhook at"


def _config(tmp_path: Path, api: BotApiStandIn, city_csv: Path, extra: str = "") -> Path:
    # no overview: on its default port (8080) it would meet any other snowbot on the machine
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n{extra}'
        f'[storage]\ndatabase = "hook.db"\n[city]\ngazetteer = "{city_csv}"\n'
        '[access]\nenrolment = "open"\n[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    return config


def _url(port: int, path: str = "/telegram/snow") -> str:
    return f"http://127.0.0.1:{port}{path}"


def _run(
    config: Path, log: Path, *args: str, preexec_fn: Callable[[], None] | None = None
) -> subprocess.Popen[bytes]:
    """`snowbot run` (`preexec_fn`: run in the child first, e.g. to lower a limit)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "snowbot.app.cli", "run", "--config", str(config), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            preexec_fn=preexec_fn,
        )


async def test_updates_come_by_webhook_with_the_secret_checked(
    tmp_path: Path, city_csv: Path
) -> None:
    leader, team = SimUser(4001, "leader", "en"), SimUser(4002, "alone", "en")
    async with stand_in() as api:
        config = _config(tmp_path, api, city_csv)
        log = tmp_path / "bot.log"

        def hook(port: int) -> subprocess.Popen[bytes]:
            return _run(config, log, "--webhook", _url(port), "--port", str(port))

        bot, port = await webhook_process(hook, log, SERVING)
        url = _url(port)
        try:
            await eventually(lambda: api.webhook is not None, "the webhook set", timeout=30)
            assert api.webhook is not None and api.webhook["url"] == url
            secret = api.webhook["secret_token"]
            assert len(secret) >= 32  # none configured: made for this run

            # each person's updates in the order sent: the team's size, then the location
            await api.say(leader, "/checkin 3")
            await api.share_location(leader, *STATION)
            await api.share_location(team, *STATION)
            await api.wait_for(lambda: api.count(leader.id) >= 2 and api.count(team.id) >= 1)
            assert "headcount: 3" in api.sent[leader.id][-1].text

            # forged updates: without the secret, or with another, 403 and nothing changes
            forger = SimUser(4666, "forger", "en")
            async with aiohttp.ClientSession() as http:
                body = location_update(9_000_001, forger, *STATION)
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                    async with http.post(
                        url, data=body, headers={"Content-Type": "application/json", **headers}
                    ) as answer:
                        assert answer.status == 403
            await api.share_location(SimUser(4003, "later", "en"), *STATION)
            await api.wait_for(lambda: api.count(4003) >= 1)
            assert api.count(forger.id) == 0
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(bot.wait, 20) == 0, log_tail(log)
        finally:
            if bot.poll() is None:
                bot.kill()
        assert api.calls["getUpdates"] == 0 and api.conflicts == 0
        assert set(api.webhook_statuses) == {200}
    counted = recount(tmp_path / "hook.db")
    assert counted["person_times"] == 3 + 1 + 1 and counted["people"] == 3
    text = log.read_text("utf-8")
    assert secret not in text and api.token not in text
    assert f"taking updates by webhook at {url}" in text


async def test_the_configured_secret_is_used_and_a_second_process_stands_by(
    tmp_path: Path, city_csv: Path
) -> None:
    logs = tmp_path / "first.log", tmp_path / "second.log"
    async with stand_in() as api:
        config = _config(tmp_path, api, city_csv, 'webhook_secret = "snow-Secret_2026"\n')

        def hook(log: Path) -> Callable[[int], subprocess.Popen[bytes]]:
            return lambda port: _run(config, log, "--webhook", _url(port, "/"), "--port", str(port))

        first, first_port = await webhook_process(hook(logs[0]), logs[0], SERVING)
        second = None
        try:
            await eventually(lambda: api.webhook is not None, "the webhook set", timeout=30)
            assert api.webhook is not None
            assert api.webhook["secret_token"] == "snow-Secret_2026"
            # it stands by without listening: its port is never bound (nor taken)
            second, _ = await webhook_process(hook(logs[1]), logs[1], "standing by")
            await api.say(SimUser(4100, "asker", "en"), "/start")
            await api.wait_for(lambda: api.count(4100) >= 1, timeout=30)
            assert api.webhook["url"] == f"http://127.0.0.1:{first_port}/"
        finally:
            for process in (first, second):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
            for process, log in zip((first, second), logs, strict=True):
                if process is not None:
                    try:
                        assert await asyncio.to_thread(process.wait, 20) == 0, log_tail(log)
                    finally:
                        if process.poll() is None:
                            process.kill()


async def test_bad_webhook_options_are_one_line_errors(tmp_path: Path, city_csv: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    async with stand_in() as api:
        config = _config(tmp_path, api, city_csv)
        cases = {
            ("--webhook", "ftp://bot.example.org/hook"): "--webhook: 'ftp://bot.example.org/hook'",
            ("--webhook", "https://"): "is not a URL like https://",
            ("--webhook", "https://bot.example.org:99999/"): "not a number 1-65535",
            ("--webhook", "https://bot.example.org/", "--port", "0"): "--port: '0' is not",
            ("--webhook", "https://bot.example.org/", "--port", "http"): "--port: 'http'",
            ("--webhook", "https://bot.example.org/", "--listen", "no such;host"): "--listen:",
            ("--port", "8443"): "--listen and --port go with --webhook URL",
            ("--webhook", "http://127.0.0.1/", "--port", str(busy)): f"127.0.0.1:{busy}",
        }
        for args, expected in cases.items():
            log = tmp_path / "bad.log"
            log.unlink(missing_ok=True)
            bot = _run(config, log, *args)
            try:
                code = await asyncio.to_thread(bot.wait, 60)
            finally:
                if bot.poll() is None:
                    bot.kill()
            lines = log.read_text("utf-8").strip().splitlines()
            assert code == 2 if "cannot listen" not in lines[-1] else code == 1, (args, lines)
            assert lines[-1].startswith("snowbot: ") and expected in lines[-1], (args, lines)
            assert "Traceback" not in "\n".join(lines)
    taken.close()
