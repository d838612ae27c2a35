"""How the tools start the real bot: the demo (`snowbot demo`, with the overview served
beside it), `snowbot play`, and the benchmark's kit, each with Telegram's flood limits off.

Part of the composition root with `snowbot.app.wiring` (the import contracts in
pyproject.toml name both).
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from snowbot.app.wiring import (
    open_service,
    start_bot,
    start_overview,
    until_stopped,
    use_timedelta_durations,
)
from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.settings.webhook import Webhook

if TYPE_CHECKING:
    from telegram.ext import BaseRateLimiter

    from handlers.app import PollingBot
    from snowbot.service.sweeps import Swept
    from snowbot.tools.bench import Kit
    from snowbot.tools.demo import StartBot, Storm
    from web import Overview


class ServedBot:
    """The demo's bot with the overview served beside it; `stop` stops both (after Ctrl+C
    when `linger`: `snowbot demo --serve`)."""

    def __init__(self, running: PollingBot, overview: Overview, linger: bool) -> None:
        self.running, self.overview, self.linger = running, overview, linger
        self.service = running.service

    async def tick(self) -> Swept:
        return await self.running.tick()

    async def stop(self) -> None:
        try:
            if self.linger:
                print(
                    f"\n风暴已结束，一屏总览仍在服务：{self.overview.link()}  （按 Ctrl+C 结束）\n"
                    "The storm is over; the overview is still served (Ctrl+C stops it).",
                    flush=True,
                )
                await until_stopped()
        finally:
            await self.overview.stop()
            await self.running.stop()


def unlimited() -> BaseRateLimiter[int]:
    """A rate limiter with Telegram's flood limits off: on a local stand-in they would
    only measure sleeps."""
    from handlers.app import LaneLimiter

    return LaneLimiter(rate=None)


async def start_shared_webhook(config: Config, webhook: Webhook) -> PollingBot:
    """One of several webhook processes on PostgreSQL as `snowbot run` starts it, without
    the scheduler and with Telegram's limits off (the benchmark's,
    `snowbot.tools.bench.webhooks`)."""
    return await start_bot(
        config, rate_limiter=unlimited(), scheduled=False, webhook=webhook, shared=True
    )


def demo_starter(serve: str | None = None, linger: bool = False) -> StartBot:
    """How the demo (and the benchmark's seed storm) starts the real bot.

    `serve`: an address ("127.0.0.1:0" picks a free port) to serve the overview on while
    the storm plays, with a fresh token, printed; `linger`: until Ctrl+C after the storm.
    """

    async def start(demo_config: Config, clock: Callable[[], float]) -> PollingBot | ServedBot:
        running = await start_bot(
            demo_config, clock, rate_limiter=unlimited(), timeout=1, scheduled=False
        )
        if serve is None:
            return running
        dashboard = replace(
            demo_config.dashboard, listen=serve, token=secrets.token_urlsafe(18), public_url=""
        )
        try:
            overview = await start_overview(
                running.service, replace(demo_config, dashboard=dashboard), running
            )
        except BaseException:
            await running.stop()
            raise
        print(f"一屏总览 / the overview: {overview.link()}", flush=True)
        return ServedBot(running, overview, linger)

    return start


async def start_played_bot(play_config: Config, clock: Callable[[], float]) -> PollingBot:
    """How `snowbot play` starts the real bot: as the demo does, on the console's clock."""
    return await start_bot(play_config, clock, rate_limiter=unlimited(), timeout=1, scheduled=False)


def bench_kit() -> Kit:
    """The Telegram side of the benchmark: the real bot, the bare baseline, the storm."""
    from handlers.baseline import start_bare_bot
    from snowbot.tools import bench
    from snowbot.tools.demo import play_storm

    async def start(bench_config: Config, telegram_limits: bool) -> PollingBot:
        limiter = None if telegram_limits else unlimited()
        return await start_bot(bench_config, rate_limiter=limiter, timeout=1, scheduled=False)

    async def storm(demo_config: Config, scale: str) -> Storm:
        return await play_storm(
            demo_config, scale=scale, quiet=True, start_bot=demo_starter(), progress=sys.stderr
        )

    async def serve(service: Snowbot) -> tuple[str, Overview]:
        from snowbot.tools.bench.common import OVERVIEW_TOKEN
        from web import Overview

        dashboard = replace(service.config.dashboard, listen="127.0.0.1:0", token=OVERVIEW_TOKEN)
        overview = Overview(service, dashboard)
        return await overview.start(), overview

    async def serve_app(running: Any) -> tuple[str, Overview]:
        bot: PollingBot = running
        config = bot.service.config
        dashboard = replace(config.dashboard, listen="127.0.0.1:0", token=None)
        overview = await start_overview(bot.service, replace(config, dashboard=dashboard), bot)
        return overview.address, overview

    use_timedelta_durations()
    return bench.Kit(
        start_bot=start,
        start_bare_bot=start_bare_bot,
        play_storm=storm,
        open_service=open_service,
        start_shared_webhook=start_shared_webhook,
        serve_overview=serve,
        serve_app=serve_app,
    )
