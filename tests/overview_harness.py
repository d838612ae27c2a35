"""The overview served beside the real bot, for the overview's tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from handlers.app import PollingBot
from snowbot.app.wiring import start_overview
from snowbot.settings.config import Config
from snowbot.settings.dashboard_config import DashboardConfig
from snowbot.tools.standin import BotApiStandIn
from tests.harness import COORD, DISPATCH, FakeClock, bot_config, running_bot, stand_in
from web import Overview

TOKEN = "overview-test-token-0123456789"


@dataclass
class Served:
    api: BotApiStandIn
    running: PollingBot
    overview: Overview
    config: Config

    @property
    def base(self) -> str:
        return self.overview.address

    def url(self, path: str) -> str:
        return self.base + path


@asynccontextmanager
async def served(
    config: Config,
    city_csv: Path,
    token: str | None = TOKEN,
    tiles: str = "",
    public_url: str = "",
    clock: FakeClock | None = None,
) -> AsyncIterator[Served]:
    """The bot against the stand-in, with the overview on a free port of 127.0.0.1 (on
    `clock` when one is given)."""
    dashboard = DashboardConfig(
        listen="127.0.0.1:0", token=token, tiles=tiles, public_url=public_url
    )
    async with stand_in() as api:
        cfg = replace(bot_config(config, api, city_csv), dashboard=dashboard)
        async with running_bot(cfg, clock=clock) as running:
            overview = await start_overview(running.service, cfg)
            try:
                yield Served(api, running, overview, cfg)
            finally:
                await overview.stop()


def session(token: str | None = TOKEN) -> aiohttp.ClientSession:
    """A client that sends the token as a Bearer header (None: no token at all)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # unsafe: aiohttp keeps cookies of IP addresses only so
    return aiohttp.ClientSession(headers=headers, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def make_dispatcher(api: BotApiStandIn) -> None:
    await api.ask(COORD, "/start")
    await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher")
    await api.ask(DISPATCH, "/start")


async def read_event(response: aiohttp.ClientResponse) -> dict[str, object]:
    """The next `tally` event of an SSE stream, decoded."""
    data = None
    while True:
        line = (await response.content.readline()).decode()
        if line == "":
            raise AssertionError("the event stream ended")
        if line.startswith("data: "):
            data = line[len("data: ") :].rstrip("\n")
        elif line == "\n" and data is not None:
            found: dict[str, object] = json.loads(data)
            return found
