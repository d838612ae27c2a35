"""`snowbot play` (docs/commands.md "Try it first: snowbot play"): talk to the real bot without
Telegram.

The real Application, handlers and domain run on a throw-away SQLite file with the
sample city (or the config's gazetteer), against the Bot API stand-in on 127.0.0.1,
as in `snowbot demo`; the lines typed (or piped) say who writes what. The bot's clock
is simulated: it stands still between lines and `wait 2h` runs it forward, so a
script's transcript is the same every time it is played on the same day.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from snowbot.domain.boundary import read_boundary
from snowbot.domain.gazetteer import SAMPLE_BOUNDARY, SAMPLE_GAZETTEER
from snowbot.settings.config import Config, TelegramConfig
from snowbot.text.texts import catalog
from snowbot.tools.demo.cast import COORDINATOR, SimClock
from snowbot.tools.play.console import Console
from snowbot.tools.play.script import parse_line
from snowbot.tools.play.session import PlayedBot, Session, StartPlayedBot
from snowbot.tools.standin import BotApiStandIn

__all__ = ["Console", "PlayedBot", "run_play"]

START_HOUR = 8  # the bot's clock starts at 08:00 today, city time


async def run_play(config: Config, *, start_bot: StartPlayedBot, console: Console) -> int:
    """Read lines until `quit` or the end of input; returns the exit code (0)."""
    t = catalog(config.language)
    with tempfile.TemporaryDirectory(prefix="snowbot-play-") as tmp:
        api = BotApiStandIn(token="123456:PLAY-TOKEN")
        await api.start()
        try:
            gazetteer = config.city.gazetteer
            if gazetteer is None or not gazetteer.exists():
                gazetteer = SAMPLE_GAZETTEER
            # the sample city comes with its outline (the Russian bank outside)
            boundary = config.city.boundary
            if gazetteer == SAMPLE_GAZETTEER and boundary is None:
                boundary = read_boundary(SAMPLE_BOUNDARY)
            play_config = replace(
                config,
                telegram=TelegramConfig(token=api.token, base_url=api.base_url),
                database=Path(tmp) / "play.db",
                database_url="",  # a PostgreSQL one in the config is not touched
                city=replace(config.city, gazetteer=gazetteer, boundary=boundary),
                coordinators=frozenset({COORDINATOR.id}),
                access=replace(config.access, enrolment="open"),
            )
            tz = config.city.timezone
            start = datetime.now(tz).replace(hour=START_HOUR, minute=0, second=0, microsecond=0)
            clock = SimClock(start)
            bot = await start_bot(play_config, clock)
            try:
                if console.interactive:
                    console.note(t("play.banner", city=config.city.display_name(config.language)))
                session = Session(api, bot, clock, console, t)
                while (line := await console.read()) is not None:
                    if not await session.play(parse_line(line)):
                        break
            finally:
                await bot.stop()
        finally:
            await api.stop()
    return 0
