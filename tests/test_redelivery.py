"""Telegram delivers again what the bot did not confirm before it died: nothing twice."""

from __future__ import annotations

from pathlib import Path

from snowbot.config import Config
from snowbot.standin import SimUser
from snowbot.wiring import open_service
from tests.harness import bot_config, running_bot, stand_in

COORD = SimUser(1, "Coordinator", "en")
CADRE = SimUser(10, "Cadre", "en")
STATION = (50.2401, 127.5001)


async def test_updates_delivered_twice_count_once(config: Config, city_csv: Path) -> None:
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg):
            before = api.count(COORD.id)
            posted = await api.say(COORD, "/newtask Station Road 2")
            await api.reply(COORD.id, before)
            await api.say(CADRE, "/checkin 12")
            await api.reply(CADRE.id, 0)
            located = await api.share_location(CADRE, *STATION)
            await api.reply(CADRE.id, 1)
        replies = {COORD.id: api.count(COORD.id), CADRE.id: api.count(CADRE.id)}
        await api.redeliver([posted, located])
        async with running_bot(cfg):
            assert "Hello" in (await api.ask(SimUser(99, "Later", "en"), "/start")).text
        # stopped: every update it fetched has been handled
        assert {COORD.id: api.count(COORD.id), CADRE.id: api.count(CADRE.id)} == replies
        service = await open_service(cfg)
        try:
            tally = await service.tally()
            assert tally.tasks["open"] == 1  # no second task
            assert (tally.person_times, tally.on_duty) == (12, 12)  # no second shift
        finally:
            await service.close()
