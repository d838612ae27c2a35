"""Start the real bot (as `snowbot run` does) against the local Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from handlers.app import PollingBot
from snowbot.config import Config, TelegramConfig
from snowbot.standin import BotApiStandIn
from snowbot.wiring import start_bot


def bot_config(config: Config, api: BotApiStandIn, gazetteer: Path | None) -> Config:
    return replace(
        config,
        telegram=TelegramConfig(token=api.token, base_url=api.base_url),
        city=replace(config.city, gazetteer=gazetteer),
    )


@asynccontextmanager
async def running_bot(config: Config) -> AsyncIterator[PollingBot]:
    running = await start_bot(config, timeout=1)
    try:
        yield running
    finally:
        await running.stop()


@asynccontextmanager
async def stand_in() -> AsyncIterator[BotApiStandIn]:
    api = BotApiStandIn()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
