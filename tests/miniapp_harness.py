"""The Mini App served beside the real bot, and initData signed as Telegram signs it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

from snowbot.app.wiring import start_overview
from snowbot.service.init_data import sign
from snowbot.settings.config import Config
from snowbot.settings.dashboard_config import DashboardConfig
from snowbot.tools.standin import SimUser
from tests.harness import CADRE, DISPATCH, STATION, FakeClock, bot_config, running_bot, stand_in
from tests.overview_harness import TOKEN, Served, make_dispatcher


def init_data(user: SimUser, bot_token: str, now: float | None = None) -> str:
    """initData for `user`, signed with `bot_token` at `now` (default: the wall clock)."""
    when = int(time.time() if now is None else now)
    person = {"id": user.id, "first_name": user.first_name, "language_code": user.language_code}
    fields = {"auth_date": str(when), "query_id": f"Q{user.id}", "user": json.dumps(person)}
    return sign(fields, bot_token)


def app_session(data: str | None) -> aiohttp.ClientSession:
    """A client that sends initData as the app does (None: nothing)."""
    headers = {"Authorization": f"tma {data}"} if data is not None else {}
    return aiohttp.ClientSession(headers=headers, cookie_jar=aiohttp.CookieJar(unsafe=True))


@asynccontextmanager
async def served_app(
    config: Config,
    city_csv: Path,
    public_url: str = "",
    clock: FakeClock | None = None,
    photo_cache_mb: int = 200,
) -> AsyncIterator[Served]:
    """The bot against the stand-in, with the overview and the Mini App on a free port. The
    overview's token is made for it, as the demo makes one: the bot's config has none."""
    dashboard = DashboardConfig(
        listen="127.0.0.1:0", token=None, public_url=public_url, photo_cache_mb=photo_cache_mb
    )
    async with stand_in() as api:
        cfg = replace(bot_config(config, api, city_csv), dashboard=dashboard)
        async with running_bot(cfg, clock=clock) as running:
            served = replace(cfg, dashboard=replace(dashboard, token=TOKEN))
            overview = await start_overview(running.service, served, running)
            try:
                yield Served(api, running, overview, cfg)
            finally:
                await overview.stop()


async def act(client: aiohttp.ClientSession, base: str, **body: Any) -> tuple[int, Any]:
    async with client.post(base + "/app/api/act", json=body) as r:
        return r.status, (await r.json() if r.status == 200 else await r.text())


async def view(client: aiohttp.ClientSession, base: str) -> tuple[int, Any]:
    async with client.get(base + "/app/api/view") as r:
        return r.status, (await r.json() if r.status == 200 else await r.text())


async def done_with_photo(s: Served) -> bytes:
    """Task #1 on Station Road, posted by a dispatcher, taken by a cadre and reported done
    with a photo; the photo's bytes."""
    api = s.api
    await make_dispatcher(api)
    await api.ask(DISPATCH, "/newtask Station Road 1")
    await api.locate(CADRE, *STATION)
    await api.ask(CADRE, "/accept 1")
    before = api.count(CADRE.id)
    await api.send_photo(CADRE, "/done 1 cleared")
    await api.reply(CADRE.id, before)
    return next(iter(api.files.values()))
