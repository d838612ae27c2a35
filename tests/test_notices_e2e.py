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


async def test_grant_and_revoke_tell_the_person_and_an_unknown_id_is_said_to_be_unknown(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = SimUser(9103, "Later Comer", "en")
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv)):
            await api.ask(AUNTIE, "/start")
            before = api.count(AUNTIE.id)
            granted = await api.ask(COORD, f"/grant {AUNTIE.id} dispatcher North")
            assert granted.text.endswith(said("roles.told"))
            told = await api.reply(AUNTIE.id, before)
            assert told.text == said(
                "roles.granted_district",
                "zh",
                by="Coordinator Wang",
                role="调度员",
                district="North",
            )

            unknown = await api.ask(COORD, f"/grant {stranger.id} dispatcher")
            assert unknown.text.endswith(said("roles.unknown_grant"))
            assert api.count(stranger.id) == 0  # nobody to tell
            helped = await api.ask(stranger, "/help")  # the grant waited for them
            assert "/newtask" in helped.text

            revoked = await api.ask(COORD, f"/revoke {AUNTIE.id}")
            assert revoked.text.endswith(said("roles.told"))
            told = await api.reply(AUNTIE.id, before + 1)
            assert told.text == said("roles.revoked", "zh", by="Coordinator Wang", role="访客")
            never = await api.ask(COORD, "/revoke 9999999")
            assert never.text == said("roles.unknown_revoke", user=9999999)
        no_errors(caplog, api)
