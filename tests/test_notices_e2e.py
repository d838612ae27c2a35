"""Everyone affected hears it (issue 31, SPEC §14), through the real bot: a cancelled
task's reporters, the person a role is granted to or taken from."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import (
    CADRE,
    COORD,
    LEADER,
    NORTH_DISPATCHER,
    NORTH_GROUP,
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


async def _north_desk(api: BotApiStandIn) -> None:
    """North has a dispatcher, who has written to the bot."""
    await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
    await api.ask(NORTH, "/start")


async def test_a_cancelled_task_tells_its_reporters_and_the_report_is_open_again(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv)):
            await _north_desk(api)
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


async def test_decided_messages_show_the_decision_who_and_when_and_lose_their_buttons(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = SimUser(62, "Night dispatcher", "en")  # a second dispatcher of North
    async with stand_in() as api:
        api.group(NORTH_GROUP, "North crews")
        async with running_bot(bot_config(config, api, city_csv)):
            for who in (NORTH, other):
                await api.ask(COORD, f"/grant {who.id} dispatcher North")
                await api.ask(who, "/start")
            await api.ask(NORTH, "/bind North", chat_id=NORTH_GROUP)

            # a team request, confirmed by one dispatcher: the other's copy says so
            copy_before = api.count(other.id)
            await api.ask(LEADER, "/checkin 40")
            await api.locate(LEADER, *STATION)
            copy = await api.reply(other.id, copy_before)
            asked = await api.reply(NORTH.id, api.count(NORTH.id) - 1)
            assert copy.button("Confirm") and "Is it real?" in copy.text
            await api.click(NORTH, asked, "Confirm")
            await api.wait_for(lambda: copy.text.startswith("✅ Confirmed (North dispatcher, "))
            assert "Leader Sun's team of 40 at Station Road (North) counts." in copy.text
            assert not copy.buttons and "Is it real?" not in copy.text

            # a residents' report made a task: the group's copy (Chinese) shows it
            group_before = api.count(NORTH_GROUP)
            await api.ask(AUNTIE, "/report")
            await api.locate(AUNTIE, *STATION)
            in_group = await api.reply(NORTH_GROUP, group_before)
            assert in_group.button("派任务 #R1")
            alarm = await api.reply(other.id, api.count(other.id) - 1)
            await api.click(other, alarm, "Make task")
            await api.wait_for(lambda: in_group.text.startswith("✅ 群众求助 #R1（Station Road）"))
            assert "已派任务 #1（Night dispatcher，" in in_group.text and not in_group.buttons

            # the task, done: its announcement shows who and when instead of "new task"
            announced = await api.wait_for(
                lambda: [m for m in api.sent[NORTH_GROUP] if m.text.startswith("🆕")]
            )
            await api.ask(LEADER, "/accept 1")
            await api.ask(LEADER, "/done 1")
            await api.wait_for(lambda: announced[0].text.startswith("✅ 已完成（Leader Sun，"))
            assert "🆕" not in announced[0].text and not announced[0].buttons
        no_errors(caplog, api)


async def test_a_district_dispatchers_tally_shows_the_district_in_full(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv)):
            await _north_desk(api)
            await api.ask(NORTH, "/newtask Station Road 20")
            await api.ask(NORTH, "/newtask School Lane 2")
            await api.ask(LEADER, "/checkin 25")
            await api.locate(LEADER, *STATION)
            await api.ask(LEADER, "/accept 1")
            await api.ask(AUNTIE, "/report")
            await api.locate(AUNTIE, *STATION)
            await api.wait_for(lambda: any("#R1" in m.text for m in api.sent[NORTH.id]))

            tally = await api.ask(NORTH, "/tally")
            lines = tally.text.splitlines()
            assert any(line.startswith("• North: 25 person-times") for line in lines)
            assert "  " + said("places.tally", assigned=20, available=5) in lines
            tasks = said("tally.tasks", open=1, in_progress=1, done=0, cancelled=0)
            assert "  " + tasks in lines
            assert "  " + said("district.reports", open=1, tasked=0) in lines
            assert said("unserved.header", count=4) in lines  # North's four streets
            assert not any("South" in line for line in lines)
        no_errors(caplog, api)
