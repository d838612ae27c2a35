"""Refusals through the real bot: a clear reply, nothing changed, the bot keeps running."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.settings.config import Config
from tests.harness import (
    CADRE,
    COORD,
    NORTH_DISPATCHER,
    NORTH_GROUP,
    STATION,
    bot_config,
    no_errors,
    running_bot,
    said,
    stand_in,
)


async def test_refusals(config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        bot = running.service
        await api.ask(COORD, f"/grant {NORTH_DISPATCHER.id} dispatcher North")
        coordinator_only = said("refuse.role", role="coordinator")

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
            (CADRE, "/grant 10 coordinator", coordinator_only),
            (NORTH_DISPATCHER, "/grant 10 coordinator", coordinator_only),
            # the role comes first: nobody else learns how these commands are used
            (CADRE, "/grant abc dispatcher", coordinator_only),
            (NORTH_DISPATCHER, "/grant 10 king", coordinator_only),
            (NORTH_DISPATCHER, "/revoke", coordinator_only),
            (NORTH_DISPATCHER, "/incident stop", coordinator_only),
            (CADRE, "/bind", said("refuse.role", role="dispatcher")),
            (COORD, "/incident start " + "x" * 101, said("refuse.too_long", limit=100)),
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
        assert (await api.locate(CADRE, 0.0, 0.0)).text == said("checkin.bad_location")
        mirrored = await api.locate(CADRE, -50.2401, -127.5001)
        assert mirrored.text.startswith("You are 1") and "km away are refused" in mirrored.text

        # a dispatcher of one district binds a group to it, never to the whole city
        api.group(NORTH_GROUP, "North crews")
        bound = await api.ask(NORTH_DISPATCHER, "/bind all", chat_id=NORTH_GROUP)
        assert bound.text == said("bind.only_own")
        assert await bot.report_chats() == []

        # a forged and a stale button are refused politely, each for what it is
        await api.locate(CADRE, *STATION)
        posted = await api.ask(NORTH_DISPATCHER, "/newtask Station Road 1")
        for data, expected in (
            ("v1|a|999", said("task.unknown", id=999)),
            ("v1|d|999", said("task.unknown", id=999)),
            ("v1|p|999", said("refuse.role", role="dispatcher")),
            ("v0|a|1", said("button.stale")),
            ("'; DROP TABLE tasks; --", said("button.stale")),
            ("v1|x|1", said("button.stale")),
            ("v1|a|" + "9" * 40, said("button.stale")),
            ("", said("button.stale")),
        ):
            query = await api.press(CADRE, posted, data)
            answer = await api.answer(query)
            assert answer.get("show_alert") and answer.get("text") == expected, data

        tally = await bot.tally()
        assert (tally.person_times, tally.on_duty) == (1, 1)
        assert sum(tally.tasks.values()) == 1 and tally.tasks["open"] == 1  # type: ignore[index]
        assert (await bot.incident()).name != "x" * 101
        # and the bot still answers, and nothing reached the error handler
        assert "Hello" in (await api.ask(CADRE, "/start")).text
        no_errors(caplog, api)
