"""Everyone affected hears it (issue 31, SPEC §14), through the real bot: a cancelled
task's reporters, the person a role is granted to or taken from."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.config import Config
from snowbot.standin import SimUser
from tests.harness import (
    CADRE,
    COORD,
    NORTH_DISPATCHER,
    STATION,
    bot_config,
    no_errors,
    running_bot,
    said,
    stand_in,
)

pytestmark = pytest.mark.both_engines

NORTH = NORTH_DISPATCHER
AUNTIE = SimUser(70, "王阿姨", "zh")


async def test_a_cancelled_task_tells_its_reporters_and_the_report_is_open_again(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv)):
            await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
            await api.ask(NORTH, "/start")
            before = api.count(NORTH.id)
            await api.ask(AUNTIE, "/report")
            await api.locate(AUNTIE, *STATION)
            alarm = await api.reply(NORTH.id, before)
            told_before = api.count(AUNTIE.id)
            await api.click(NORTH, alarm, "Make task")
            await api.wait_for(lambda: api.count(AUNTIE.id) > told_before)  # "task #1 made"
            await api.wait_for(lambda: any("Task posted" in m.text for m in api.sent[NORTH.id]))

            cancelled = await api.ask(NORTH, "/cancel 1")
            assert cancelled.text == said("cancel.ok", id=1)
            told = await api.reply(AUNTIE.id, told_before + 1)
            assert told.text == said(
                "cancelled.report", "zh", street="Station Road", ref="#R1", id=1
            )
            listed = await api.ask(NORTH, "/reports")
            assert "#R1 Station Road" in listed.text and listed.button("Make task #R1")
            # cancelling it again tells nobody twice
            assert (await api.ask(NORTH, "/cancel 1")).text != said("cancel.ok", id=1)
            assert api.count(AUNTIE.id) == told_before + 2
            assert api.count(CADRE.id) == 0
        no_errors(caplog, api)
