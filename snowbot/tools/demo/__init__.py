"""`snowbot demo`: a simulated storm played through the real bot, offline.

The real Application, handlers, domain and a throw-away SQLite file play snowbot;
the Bot API stand-in on 127.0.0.1 plays Telegram and the people: a coordinator,
a dispatcher per district, cadres and team leaders. Time is simulated, so six
days of storm take a minute, not six days.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from snowbot.domain.boundary import read_boundary
from snowbot.domain.gazetteer import SAMPLE_BOUNDARY, SAMPLE_GAZETTEER
from snowbot.settings.config import Config, ScheduleConfig, TelegramConfig
from snowbot.text.render import render_tally
from snowbot.text.texts import catalog
from snowbot.tools.demo.cast import (
    COORDINATOR,
    SimClock,
    StartBot,
    SteppedBot,
    Storm,
    Transcript,
)
from snowbot.tools.demo.seed import seed_storm
from snowbot.tools.demo.storms import close_storm, set_up, small_storm
from snowbot.tools.standin import BotApiStandIn

__all__ = ["SimClock", "StartBot", "SteppedBot", "Storm", "play_storm", "run_demo"]


async def run_demo(config: Config, *, scale: str, quiet: bool, start_bot: StartBot) -> int:
    """Play the storm; print the transcript and the final tally. Returns the exit code."""
    storm = await play_storm(config, scale=scale, quiet=quiet, start_bot=start_bot)
    tally, tz = storm.tally, config.city.timezone
    print()
    print(render_tally(catalog("zh"), tally, tz=tz))
    print()
    print(
        json.dumps(
            {
                k: tally.as_json()[k]
                for k in (
                    "person_times",
                    "on_duty",
                    "assigned",
                    "available",
                    "people",
                    "tasks",
                    "streets",
                )
            },
            ensure_ascii=False,
        )
    )
    agrees = f"出动：{tally.person_times} 人次" in storm.chat_tally
    print(f"chat /tally and `snowbot tally --json` agree: {'yes' if agrees else 'NO'}")
    print(
        f"{storm.updates} updates through the real bot in {storm.seconds:.1f} s "
        f"({storm.updates / storm.seconds:.0f} updates/s)"
    )
    if storm.closing:
        print()
        print(storm.closing)
    return 0 if agrees else 1


async def play_storm(
    config: Config,
    *,
    scale: str,
    quiet: bool,
    start_bot: StartBot,
    progress: TextIO | None = None,
) -> Storm:
    """The storm through the real bot on a throw-away database (the demo, and the bench)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="snowbot-demo-") as tmp:
        api = BotApiStandIn(token="123456:DEMO-TOKEN")
        await api.start()
        gazetteer = (
            config.city.gazetteer
            if config.city.gazetteer and config.city.gazetteer.exists()
            else SAMPLE_GAZETTEER
        )
        boundary = config.city.boundary  # the sample city comes with its outline
        if gazetteer == SAMPLE_GAZETTEER and boundary is None:
            boundary = read_boundary(SAMPLE_BOUNDARY)
        tz = config.city.timezone
        demo_config = replace(
            config,
            telegram=TelegramConfig(token=api.token, base_url=api.base_url),
            database=Path(tmp) / "demo.db",
            database_url="",  # a PostgreSQL database in the config is not touched
            city=replace(config.city, gazetteer=gazetteer, boundary=boundary),
            coordinators=frozenset({COORDINATOR.id}),
            # anyone who writes to the demo's bot is a cadre (docs/security.md)
            access=replace(config.access, enrolment="open"),
            language="zh",
            # the story below is told for the default schedule: tally every 30 min,
            # escalation after 30 min, shifts closed after 8 h, the summary at 20:00
            schedule=ScheduleConfig(),
        )
        first_day = datetime.now(tz).replace(hour=6, minute=30, second=0, microsecond=0)
        clock = SimClock(first_day)
        running = await start_bot(demo_config, clock)
        # after the overview's link, if one is served: its first line is the link
        print(f"{demo_config.database_line} (thrown away after the demo)", file=progress)
        try:
            say = Transcript(quiet, progress)
            cast = await set_up(api, running.service, say)
            if scale == "seed":
                updates = await seed_storm(api, running, clock, cast, say)
            else:
                updates = await small_storm(api, running, clock, cast, say)
            tally = await running.service.tally()
            chat = await api.ask(COORDINATOR, "/tally")
            # the six-day storm ends as storms do: the coordinator closes it
            closing = await close_storm(api, say) if scale == "seed" else ""
        finally:
            await running.stop()
            await api.stop()
        elapsed = time.perf_counter() - started
    return Storm(tally, chat.text, elapsed, updates, closing)
