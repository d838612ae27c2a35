"""An incident ends mid-work (issue 31, SPEC §14), through the real bot: its shifts end
with their places given back, so that tasks.csv and shifts.csv agree right after; each
person on duty hears what their shift counted, in their language; a reporter hears the
response ended; a team waiting for confirmation is withdrawn, its request edited where
the dispatcher holds it; so is a task proposal still waiting for its dispatcher's press."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from snowbot.domain.messages import Outgoing, proposal_copy
from snowbot.service import Snowbot, Suggested
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CADRE,
    COORD,
    LEADER,
    NORTH_DISPATCHER,
    STATION,
    THIRD,
    FakeClock,
    bot_config,
    no_errors,
    person,
    running_bot,
    said,
    stand_in,
    waiting,
)

pytestmark = pytest.mark.both_engines

NORTH = NORTH_DISPATCHER
ZHAO = SimUser(13, "赵队长", "zh")  # a leader who speaks Chinese
AUNTIE = SimUser(70, "王阿姨", "zh")  # a resident


def csv_rows(content: bytes | None) -> list[dict[str, str]]:
    assert content is not None
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_an_incident_ending_mid_work_tells_everyone_and_the_exports_agree(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv)) as running:
            bot = running.service
            await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
            await api.ask(NORTH, "/start")
            posted = await api.ask(NORTH, "/newtask Station Road 20")
            task_id = int(posted.text.split("#", 1)[1].split()[0])

            await api.ask(LEADER, "/checkin 25")
            await api.locate(LEADER, *STATION)
            await api.ask(LEADER, f"/accept {task_id}")
            await api.ask(ZHAO, "/checkin 3")
            await api.locate(ZHAO, *STATION)
            await api.ask(ZHAO, f"/accept {task_id}")
            await api.locate(CADRE, *STATION)
            asked_before = api.count(NORTH.id)
            await api.ask(THIRD, "/checkin 40")  # above 30: waits for North's dispatcher
            await api.locate(THIRD, *STATION)
            asked = await api.reply(NORTH.id, asked_before)
            assert asked.button("Confirm")
            reported_before = api.count(NORTH.id)
            await api.ask(AUNTIE, "/report")
            await api.locate(AUNTIE, *STATION)
            # North hears of the report first, so that the answer to /newtask is the offer
            assert "#R1" in (await api.reply(NORTH.id, reported_before)).text
            assert (await bot.tally()).person_times == 29
            offered = await api.ask(NORTH, "/newtask Staton Road 5")  # a street misspelt
            assert offered.buttons, offered.text
            data = offered.buttons[0]["callback_data"]

            ended = await bot.incident()
            before = {who.id: api.count(who.id) for who in (LEADER, ZHAO, CADRE, THIRD, AUNTIE)}
            await api.ask(COORD, "/incident close")

            # right after: the ended incident's exports agree with each other
            tasks = csv_rows(await bot.incident_file(ended.id, "tasks.csv"))
            shifts = csv_rows(await bot.incident_file(ended.id, "shifts.csv"))
            (task,) = [t for t in tasks if t["id"] == str(task_id)]
            assert (task["status"], task["accepted"]) == ("open", "0")
            assert all(s["ended_at"] and s["placed"] == "0" for s in shifts)
            assert sum(int(s["headcount"]) for s in shifts) == 29  # person-times stay

            told = await api.reply(LEADER.id, before[LEADER.id])
            assert "ended" in told.text and "your team of 25" in told.text
            assert "25 person-times counted" in told.text
            told = await api.reply(ZHAO.id, before[ZHAO.id])
            assert "本队 3 人" in told.text and "计入 3 人次" in told.text
            told = await api.reply(CADRE.id, before[CADRE.id])
            assert "just you" in told.text and "1 person-times counted" in told.text
            told = await api.reply(THIRD.id, before[THIRD.id])
            assert "team of 40" in told.text and "withdrawn" in told.text
            told = await api.reply(AUNTIE.id, before[AUNTIE.id])
            assert "#R" in told.text and "/report" in told.text and "结束" in told.text
            # the dispatcher's request says it is withdrawn, and has no buttons left
            await api.wait_for(lambda: asked.text.startswith("⏹"))
            assert "Cadre Qian's team of 40 at Station Road" in asked.text
            assert not asked.buttons
            # so does the task proposal North never pressed; a press on it is answered anyway
            await api.wait_for(lambda: offered.text.startswith("⏹"))
            assert "Withdrawn" in offered.text and "proposal" in offered.text
            assert not offered.buttons
            gone = await api.answer(await api.press(NORTH, offered, data))
            assert gone["text"] == said("newtask.proposal_gone")

            # nothing is left on duty, and the tally of the new incident is empty
            assert (await api.ask(LEADER, "/checkout")).text == said("checkout.not_on_duty")
            assert (await bot.tally()).on_duty == 0
        no_errors(caplog, api)


async def test_a_proposal_being_sent_as_the_incident_ends_is_edited_once_it_is_sent(
    bot: Snowbot, clock: FakeClock
) -> None:
    """The race the end meets in real use: the message offering a proposal is claimed and on
    its way to Telegram (no message id yet) when the incident ends. Its edit waits for the id,
    and goes as soon as the sending is recorded."""
    coordinator = await person(bot, 1)
    await bot.start_incident(coordinator, "Storm")
    offered = await bot.post_task(coordinator, ["Staton", "Road", "5"], offer=True)  # misspelt
    assert isinstance(offered, Suggested)
    key = proposal_copy(offered.proposals[0].id)
    (sending,) = await bot.handled(900, [Outgoing(key, 1, "zh", text="请选择", lane=0)])
    clock.advance(60)
    assert (await bot.close_incident(coordinator)).ended is not None
    # the edit is held: nothing for that chat goes before the offer's own id is known
    assert not [m for m in await waiting(bot, 1) if m.edit_after is not None]
    await bot.store.outbox_sent(sending, 4242, clock())
    (edit,) = [m for m in await waiting(bot, 1) if m.edit_after == sending.id]
    assert edit.edit_of == 4242
    assert (
        edit.text is not None and edit.text.startswith("⏹ 已撤回") and "此建议不再有效" in edit.text
    )
