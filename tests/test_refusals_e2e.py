"""Refusals through the real bot: a clear reply, nothing changed, the bot keeps running."""

from __future__ import annotations

from pathlib import Path

from snowbot.config import Config
from tests.harness import CADRE, COORD, NORTH_DISPATCHER, STATION, bot_config, running_bot, stand_in


async def test_refusals(config: Config, city_csv: Path) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        bot = running.service
        await api.ask(COORD, f"/grant {NORTH_DISPATCHER.id} dispatcher North")

        cases = [
            (CADRE, "/newtask Station Road 2", "Only a dispatcher"),
            (NORTH_DISPATCHER, "/newtask River Road", "You dispatch for North only"),
            (NORTH_DISPATCHER, "/newtask Nowhere Lane", "No street called"),
            (NORTH_DISPATCHER, "/newtask Statoin Road", "Station Road"),
            (NORTH_DISPATCHER, "/newtask Station Road 0", "not a number of people"),
            (NORTH_DISPATCHER, "/newtask Station Road -3", "not a number of people"),
            (NORTH_DISPATCHER, "/newtask Station Road 2.5", "not a number of people"),
            (NORTH_DISPATCHER, "/newtask Station Road 100000000", "not a number of people"),
            (NORTH_DISPATCHER, "/newtask", "Usage: /newtask"),
            (CADRE, "/accept 1", "Check in first"),
            (CADRE, "/checkin 0", "not a number of people"),
            (CADRE, "/checkin -1", "not a number of people"),
            (CADRE, "/checkin 1.5", "not a number of people"),
            (CADRE, "/checkin 999999", "not a number of people"),
            (CADRE, "/checkin lots", "not a number of people"),
            (CADRE, "/accept abc", "not a task id"),
            (CADRE, "/accept", "Usage: /accept"),
            (CADRE, "/done 99", "no task #99"),
            (CADRE, "/checkout", "not on duty"),
            (CADRE, "/tally", "Only a dispatcher"),
            (CADRE, "/export", "Only a coordinator"),
            (CADRE, "/grant 10 coordinator", "Only a coordinator"),
            (NORTH_DISPATCHER, "/grant 10 coordinator", "Only a coordinator"),
            (COORD, "/grant 10 king", "not a role"),
            (COORD, "/grant abc dispatcher", "Usage: /grant"),
            (COORD, "/revoke 1", "by the config file"),
            (COORD, "/tally Atlantis", "no district"),
            (CADRE, "/lang fr", "Usage: /lang"),
            (CADRE, "/frobnicate", "don't know that command"),
            (COORD, "/incident stop", "Usage: /incident"),
            (NORTH_DISPATCHER, "/bind North", "in the group"),
        ]
        for user, text, expected in cases:
            answer = await api.ask(user, text)
            assert expected in answer.text, (text, answer.text)

        far = await api.locate(CADRE, 51.0, 127.5)
        assert "km from the nearest street" in far.text
        for lat, lon in ((0.0, 0.0), (-50.2401, -127.5001)):
            answer = await api.locate(CADRE, lat, lon)
            assert "refused" in answer.text or "not a real place" in answer.text

        # a forged and a stale button are refused politely
        await api.locate(CADRE, *STATION)
        posted = await api.ask(NORTH_DISPATCHER, "/newtask Station Road 1")
        for data in ("v1|a|999", "v0|a|1", "'; DROP TABLE tasks; --", "v1|x|1"):
            query = await api.press(CADRE, posted, data)
            answer = await api.answer(query)
            assert answer.get("show_alert") and answer.get("text"), data

        tally = await bot.tally()
        assert (tally.person_times, tally.on_duty) == (1, 1)
        assert sum(tally.tasks.values()) == 1 and tally.tasks["open"] == 1  # type: ignore[index]
        # and the bot still answers
        assert "Hello" in (await api.ask(CADRE, "/start")).text
