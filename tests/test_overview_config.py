"""`[dashboard]` in the config, and /dashboard in chat (SPEC §8)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.errors import ConfigError
from tests.harness import (
    CADRE,
    COORD,
    DISPATCH,
    NORTH_GROUP,
    bot_config,
    running_bot,
    said,
    stand_in,
)
from tests.overview_harness import TOKEN, served


def dashboard(section: dict[str, object], env: dict[str, str] | None = None) -> object:
    return parse_config({"dashboard": section}, base_dir=Path("."), env=env or {}).dashboard


def test_the_defaults_listen_on_loopback_without_a_token() -> None:
    d = parse_config({}, base_dir=Path(".")).dashboard
    assert (d.listen, d.token, d.public_url, d.tiles) == ("127.0.0.1:8080", None, "", "")
    assert d.enabled and d.loopback
    assert not dashboard({"listen": ""}).enabled  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"listen": "8080"}, "dashboard.listen: '8080' is not an address"),
        ({"listen": "127.0.0.1:99999"}, "dashboard.listen: '127.0.0.1:99999' is not an address"),
        ({"listen": "http://x:1"}, "dashboard.listen: 'http://x:1' is not an address"),
        ({"listen": 8080}, "dashboard.listen: 8080 must be a string in quotes"),
        ({"token": "short"}, "dashboard.token: must be at least 16 printable characters"),
        ({"token": "a token with spaces in it"}, "dashboard.token: must be at least 16"),
        ({"public_url": "snow.example.gov"}, "dashboard.public_url: 'snow.example.gov' is not"),
        ({"tiles": "https://t.example/{z}/{x}.png"}, "dashboard.tiles: "),
        ({"tiles": "file:///etc/{z}/{x}/{y}"}, "dashboard.tiles: "),
        ({"colour": "red"}, "dashboard.colour: unknown key"),
    ],
)
def test_bad_dashboard_settings_are_one_line_naming_the_key(
    section: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        dashboard(section)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_the_token_may_come_from_the_environment_or_is_derived_alike_everywhere() -> None:
    d = dashboard({"listen": "0.0.0.0:8080", "token": "x" * 16}, {"SNOWBOT_DASHBOARD_TOKEN": TOKEN})
    assert d.token == TOKEN  # type: ignore[attr-defined]
    assert d.with_token("123:abc").token == TOKEN  # type: ignore[attr-defined]
    # none configured: every process of one bot derives the same, another bot another
    bare = dashboard({"listen": "[::]:8080"})
    derived = bare.with_token("123:abc").token  # type: ignore[attr-defined]
    assert derived == dashboard({}).with_token("123:abc").token  # type: ignore[attr-defined]
    assert derived != bare.with_token("123:abd").token  # type: ignore[attr-defined]
    assert len(derived) >= 32
    good = dashboard(
        {
            "public_url": "https://snow.example.gov/",
            "tiles": "https://{s}.t.example/{z}/{x}/{y}.png",
        }
    )
    assert good.public_url == "https://snow.example.gov"  # type: ignore[attr-defined]


async def test_dashboard_gives_a_coordinator_the_link_in_private_only(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s:
        api = s.api
        await api.ask(COORD, "/start")
        answer = await api.ask(COORD, "/dashboard")
        assert answer.text == said("dashboard.link", url=f"{s.base}/?token={TOKEN}")
        await api.ask(COORD, "/lang zh")
        answer = await api.ask(COORD, "/dashboard")
        assert answer.text == said("dashboard.link", "zh", url=f"{s.base}/?token={TOKEN}")
        api.group(NORTH_GROUP, "North")
        in_group = await api.ask(COORD, "/dashboard", chat_id=NORTH_GROUP)
        assert in_group.text == said("dashboard.private_only", "zh")
        assert TOKEN not in in_group.text
        await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher")
        for who in (DISPATCH, CADRE):
            await api.ask(who, "/start")
            refused = await api.ask(who, "/dashboard")
            assert TOKEN not in refused.text and "http" not in refused.text


async def test_dashboard_gives_the_public_url_when_set(config: Config, city_csv: Path) -> None:
    async with served(config, city_csv, public_url="https://snow.example.gov") as s:
        await s.api.ask(COORD, "/start")
        answer = await s.api.ask(COORD, "/dashboard")
        assert answer.text == said("dashboard.link", url=f"https://snow.example.gov/?token={TOKEN}")


async def test_dashboard_says_when_the_overview_is_off(config: Config, city_csv: Path) -> None:
    off = replace(config, dashboard=replace(config.dashboard, listen=""))
    async with stand_in() as api, running_bot(bot_config(off, api, city_csv)):
        await api.ask(COORD, "/start")
        assert (await api.ask(COORD, "/dashboard")).text == said("dashboard.off")
