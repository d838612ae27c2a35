"""The overview always asks for credentials, and only under its own name (issue 28, item
2): no token configured means one derived from the bot's, handed out by /dashboard, on
loopback too; a Host naming another site (DNS rebinding) is refused on every path."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from snowbot.settings.config import Config
from snowbot.settings.dashboard_config import DashboardConfig
from snowbot.tools.standin import SimUser
from tests.harness import eventually, said, stand_in
from tests.overview_harness import served, session
from tests.ports import free_port
from tests.test_doors import _stop as stop_bot
from tests.test_overview_http import PATHS
from tests.test_webhook import _run

OTHER_HOSTS = ["attacker.example", "attacker.example:{port}", "127.0.0.1.attacker.example", ""]


def test_the_host_must_name_the_overview() -> None:
    loopback = DashboardConfig(listen="127.0.0.1:8080", public_url="https://snow.example.gov")
    for host in ("127.0.0.1:8080", "127.0.0.1", "localhost:8080", "[::1]:8080", "SNOW.example.gov"):
        assert loopback.host_allowed(host), host
    for host in ("attacker.example", "snow.example.gov.evil", "10.0.0.5:8080", "[::1", "", None):
        assert not loopback.host_allowed(host), host
    everywhere = DashboardConfig(listen="0.0.0.0:8080")
    assert everywhere.host_allowed("10.0.0.5:8080") and everywhere.host_allowed("[fe80::1]")
    assert not everywhere.host_allowed("localhost:8080")  # a name: only the configured ones
    assert not everywhere.host_allowed("rebind.attacker.example:8080")
    named = DashboardConfig(listen="snow-box:8080")
    assert named.host_allowed("snow-box:8080") and not named.host_allowed("127.0.0.1:8080")


async def test_another_host_is_refused_on_every_path(config: Config, city_csv: Path) -> None:
    async with served(config, city_csv, public_url="https://snow.example.gov") as s:
        port = s.base.rsplit(":", 1)[1]
        async with session() as client:
            for path in [*PATHS, "/healthz"]:
                for host in OTHER_HOSTS:
                    headers = {"Host": host.format(port=port)}
                    async with client.get(s.url(path), headers=headers) as r:
                        assert r.status == 421, (path, host)
                        assert await r.text() == "421: Misdirected Request"
                        assert "Set-Cookie" not in r.headers
            for host in (f"localhost:{port}", f"127.0.0.1:{port}", "snow.example.gov"):
                async with client.get(s.url("/api/tally"), headers={"Host": host}) as r:
                    assert r.status == 200, host


@pytest.mark.timeout(120)
async def test_run_without_a_token_derives_one_and_dashboard_hands_it_out(
    tmp_path: Path, city_csv: Path
) -> None:
    """`snowbot run` with public_url and no token: nothing answers without the token
    (loopback too), and /dashboard's link holds the one it checks."""
    port = free_port()
    coordinator = SimUser(1, "Coordinator Wang", "en")
    async with stand_in() as api:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
            f'[storage]\ndatabase = "open.db"\n[city]\ngazetteer = "{city_csv}"\n'
            "[access]\ncoordinators = [1]\n"
            f'[dashboard]\nlisten = "127.0.0.1:{port}"\n'
            f'public_url = "http://127.0.0.1:{port}"\n',
            "utf-8",
        )
        log = tmp_path / "bot.log"
        bot = _run(config, log)
        try:
            await eventually(lambda: "the overview is at" in log.read_text("utf-8"), "up", 30)
            base = f"http://127.0.0.1:{port}"
            async with session(None) as client:
                for path in ("/", "/api/tally", "/api/positions", "/metrics"):
                    async with client.get(base + path) as r:
                        assert r.status == 401, path
                await api.ask(coordinator, "/start")
                answer = await api.ask(coordinator, "/dashboard")
                link = answer.text.split(": ", 1)[1].split("\n", 1)[0]
                assert link.startswith(f"{base}/?token=")
                assert answer.text == said("dashboard.link", url=link)
                token = link.split("=", 1)[1]
                async with client.get(link) as r:
                    assert r.status == 200
                async with client.get(
                    base + "/api/positions", headers={"Authorization": f"Bearer {token}"}
                ) as r:
                    assert r.status == 200
                async with aiohttp.ClientSession() as bare, bare.get(base + "/healthz") as r:
                    assert (r.status, await r.text()) == (200, "ok")
            text = log.read_text("utf-8")
            assert "derived from the bot's token" in text
            assert token not in text and api.token not in text
        finally:
            await stop_bot(bot)
