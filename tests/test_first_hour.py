"""What a new operator meets in the first hour: one-line errors that never show the token,
a proxy, the ids the config needs, files a Chinese Excel opens."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from snowbot import __version__
from snowbot.app.wiring import run_polling
from snowbot.service.geocoding import NominatimGeocoder
from snowbot.settings.config import Config, GeoConfig
from snowbot.settings.errors import SnowbotError
from snowbot.tools.standin import SimUser
from tests.harness import bot_config, run_cli, running_bot, stand_in
from tests.proxies import LocalProxy

TOKEN = "123456:SECRET-first-hour-token"


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The CLI's error: one line on stderr (besides log lines), no traceback, no token."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert "SECRET" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("snowbot: ")]
    assert len(errors) == 1, result.stderr
    others = [line for line in result.stderr.splitlines() if not line.startswith("snowbot: ")]
    assert all(" WARNING " in line or " INFO " in line for line in others), others
    return errors[0]


def write_config(workdir: Path, telegram: str, extra: str = "") -> None:
    (workdir / "config.toml").write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n{telegram}\n[storage]\ndatabase = "city.db"\n{extra}',
        "utf-8",
    )


# -- snowbot run when Telegram cannot be had --------------------------------------------


def test_run_against_a_closed_port_is_one_line(workdir: Path) -> None:
    write_config(workdir, 'base_url = "http://127.0.0.1:9/bot"')
    line = one_line_error(run_cli(workdir, "run"))
    assert "cannot reach the Bot API at http://127.0.0.1:9" in line
    assert "proxy" in line and "network" in line


def test_run_against_an_unknown_host_is_one_line(workdir: Path) -> None:
    write_config(workdir, 'base_url = "http://api.telegram.invalid/bot"')
    line = one_line_error(run_cli(workdir, "run"))
    assert "cannot reach the Bot API at http://api.telegram.invalid" in line


async def test_run_with_a_rejected_token_is_one_line_without_the_token(workdir: Path) -> None:
    async with stand_in() as api:  # its token is another one: it answers 401
        write_config(workdir, f'base_url = "{api.base_url}"')
        result = await asyncio.to_thread(run_cli, workdir, "run")
    line = one_line_error(result)
    assert "refused this token" in line and line.startswith("snowbot: telegram.token:")
    assert result.returncode == 2
    assert "first-hour" not in result.stderr  # not even the token's secret half


def test_an_empty_coordinator_list_is_warned_about(workdir: Path) -> None:
    write_config(workdir, 'base_url = "http://127.0.0.1:9/bot"')
    result = run_cli(workdir, "run")
    assert "access.coordinators is empty" in result.stderr and "/whoami" in result.stderr


def test_run_through_the_proxy_starts_and_stops_cleanly(workdir: Path) -> None:
    """A real `snowbot run` process reaching the stand-in only through a SOCKS5 proxy."""

    async def play() -> tuple[str, list[tuple[str, int]]]:
        async with stand_in() as api:
            proxy = LocalProxy("socks5", {"api.telegram.test": "127.0.0.1"})
            await proxy.start()
            try:
                base = api.base_url.replace("127.0.0.1", "api.telegram.test")
                (workdir / "config.toml").write_text(
                    f'[telegram]\ntoken = "{api.token}"\nbase_url = "{base}"\n'
                    f'proxy = "{proxy.url}"\n[storage]\ndatabase = "city.db"\n'
                    "[access]\ncoordinators = [1]\n"
                    # the overview on a free port: 8080 may be another snowbot's
                    '[dashboard]\nlisten = "127.0.0.1:0"\n',
                    "utf-8",
                )
                env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "snowbot",
                    "run",
                    "--config",
                    str(workdir / "config.toml"),
                    cwd=workdir,
                    env=env,
                    stderr=asyncio.subprocess.PIPE,
                )
                try:
                    answer = await api.ask(SimUser(1, "Wang", "en"), "/whoami", timeout=30)
                finally:
                    process.send_signal(signal.SIGTERM)
                    _, err = await asyncio.wait_for(process.communicate(), 30)
                assert process.returncode == 0, err.decode()
                assert "Traceback" not in err.decode()
                return answer.text, proxy.carried
            finally:
                await proxy.stop()

    text, carried = asyncio.run(play())
    assert "1" in text
    assert carried and {host for host, _ in carried} == {"api.telegram.test"}


# -- the proxy, in process: the Bot API and the geocoder -----------------------------------


@pytest.mark.parametrize("kind", ["socks5", "http"])
async def test_the_bot_talks_to_telegram_only_through_the_proxy(
    config: Config, city_csv: Path, kind: str
) -> None:
    async with stand_in() as api:
        # a host name only the proxy knows: going around it would fail
        proxy = LocalProxy(kind, {"api.telegram.test": "127.0.0.1"}, "snow", "p@ss")
        await proxy.start()
        try:
            cfg = bot_config(config, api, city_csv)
            base = api.base_url.replace("127.0.0.1", "api.telegram.test")
            cfg = replace(cfg, telegram=replace(cfg.telegram, base_url=base, proxy=proxy.url))
            async with running_bot(cfg):
                answer = await api.ask(SimUser(1, "Wang", "en"), "/start")
                assert "Wang" in answer.text
        finally:
            await proxy.stop()
    assert proxy.carried and proxy.refused == 0
    assert {host for host, _ in proxy.carried} == {"api.telegram.test"}


async def test_a_proxy_that_refuses_the_login_is_one_line(config: Config, city_csv: Path) -> None:
    async with stand_in() as api:
        proxy = LocalProxy("socks5", {}, "snow", "right")
        await proxy.start()
        try:
            cfg = bot_config(config, api, city_csv)
            wrong = proxy.url.replace("right", "wrong")
            cfg = replace(cfg, telegram=replace(cfg.telegram, proxy=wrong))
            with pytest.raises(SnowbotError) as refused:
                await asyncio.wait_for(run_polling(cfg), 30)
        finally:
            await proxy.stop()
    line = str(refused.value)
    assert proxy.refused >= 1 and not proxy.carried
    assert "cannot reach the Bot API" in line and "through the proxy socks5://127.0.0.1:" in line
    assert "wrong" not in line and api.token not in line and "\n" not in line


async def test_the_geocoder_goes_through_the_proxy_too() -> None:
    from aiohttp import web

    async def search(request: web.Request) -> web.Response:
        return web.json_response([{"lat": "50.24", "lon": "127.50", "display_name": "College"}])

    app = web.Application()
    app.router.add_get("/search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    proxy = LocalProxy("socks5", {"nominatim.test": "127.0.0.1"})
    await proxy.start()
    geo = GeoConfig(
        geocoder="nominatim",
        user_agent="snowbot-test",
        geocoder_domain=f"http://nominatim.test:{port}",
    )
    geocoder = NominatimGeocoder(geo, proxy.url)
    try:
        assert await geocoder.locate("College", None) == (50.24, 127.5)
    finally:
        await geocoder.close()
        await proxy.stop()
        await runner.cleanup()
    assert proxy.carried == [("nominatim.test", port)]


# -- the command line --------------------------------------------------------------------


def test_config_goes_before_or_after_the_command(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    (workdir / "config.toml").rename(workdir / "other.toml")  # not the default name
    before = subprocess.run(
        [sys.executable, "-m", "snowbot", "--config", "other.toml", "tally", "--json"],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=60,
    )
    assert before.returncode == 0, before.stderr
    assert '"person_times": 0' in before.stdout
    version = subprocess.run(
        [sys.executable, "-m", "snowbot", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.strip() == f"snowbot {__version__}"


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    for command in (["tally", "--json"], ["tally"], ["export", "--out", "out"]):
        result = subprocess.run(
            [sys.executable, "-m", "snowbot", *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        line = one_line_error(result)
        assert f"{tmp_path / 'snowbot.db'}: no database here" in line
    assert list(tmp_path.iterdir()) == []  # no database, no out/


def test_tally_says_which_database_it_reads(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    result = run_cli(workdir, "tally", "--json")
    assert result.returncode == 0
    assert result.stderr.strip() == f"snowbot: reading {workdir / 'city.db'}"


@pytest.mark.parametrize(
    ("database", "expected"),
    [("missing/city.db", "the folder"), (".", "is a folder, not a database file")],
)
def test_a_database_path_that_cannot_be_used_is_one_line(
    workdir: Path, database: str, expected: str
) -> None:
    (workdir / "config.toml").write_text(f'[storage]\ndatabase = "{database}"\n', "utf-8")
    for command in (["import-streets", "city.csv"], ["tally"], ["run"]):
        line = one_line_error(run_cli(workdir, *command))
        assert expected in line and "[storage] database" in line
    assert not (workdir / "missing").exists()


def test_two_restores_in_one_second_keep_both_databases(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    assert run_cli(workdir, "backup", "copy.db").returncode == 0
    first = run_cli(workdir, "restore", "copy.db")
    second = run_cli(workdir, "restore", "copy.db")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    kept = sorted(p.name for p in workdir.glob("city.db.before-restore-*"))
    assert len(kept) == 2, kept
    for name in kept:
        assert sqlite3.connect(workdir / name).execute("SELECT COUNT(*) FROM streets").fetchone()
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", "x.db.before-restore-20261126-101010-2"],
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert ignored.returncode == 0


def test_the_csv_export_opens_in_a_chinese_excel(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    assert run_cli(workdir, "export", "--out", "out").returncode == 0
    for name in ("shifts.csv", "tasks.csv"):
        data = (workdir / "out" / name).read_bytes()
        assert data.startswith("\ufeff".encode()) and data.count("\ufeff".encode()) == 1
        assert data.decode("utf-8-sig").startswith("id,")


# -- ids in chat ----------------------------------------------------------------------------


async def test_whoami_gives_the_ids_the_config_needs(config: Config, city_csv: Path) -> None:
    async with stand_in() as api:
        api.group(-100777, "HQ")
        async with running_bot(bot_config(config, api, city_csv)):
            zh = await api.ask(SimUser(42, "李", "zh"), "/whoami")
            assert "42" in zh.text and "-100777" not in zh.text
            group = await api.ask(SimUser(42, "李", "zh"), "/whoami", chat_id=-100777)
            assert "42" in group.text and "-100777" in group.text and "report_chats" in group.text
            welcome = await api.ask(SimUser(43, "Zhou", "en"), "/start")
            assert "43" in welcome.text


def test_an_error_that_quotes_the_token_never_shows_it(workdir: Path) -> None:
    secret = "987654:SECRET-from-the-environment"
    result = run_cli(workdir, "restore", f"{secret}.db", env={"SNOWBOT_TOKEN": secret})
    line = one_line_error(result)
    assert "<token>.db: cannot be read" in line
