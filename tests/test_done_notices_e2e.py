"""Done, told and taken back (issue 31, SPEC §14), through the real bot: only a holder
or a dispatcher of the district marks a task done; its dispatcher and every other holder
hear who (name, team size), with the note and the proof photo; /reopen within an hour
makes the street unserved again unless another done task serves it."""

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
    STATION,
    THIRD,
    FakeClock,
    bot_config,
    no_errors,
    running_bot,
    said,
    stand_in,
)

pytestmark = pytest.mark.both_engines

NORTH = NORTH_DISPATCHER
ZHAO = SimUser(13, "赵队长", "zh")


async def _post(api: BotApiStandIn, words: str) -> int:
    posted = await api.ask(NORTH, f"/newtask {words}")
    return int(posted.text.split("#", 1)[1].split()[0])


async def test_the_dispatcher_and_the_other_holders_hear_who_marked_it_done(
    config: Config, city_csv: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv), clock=clock) as running:
            bot = running.service
            await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
            await api.ask(NORTH, "/start")
            task = await _post(api, "Station Road 15")
            for who, size in ((LEADER, 10), (CADRE, 1), (ZHAO, 3), (THIRD, 1)):
                await api.ask(who, f"/checkin {size}")
                await api.locate(who, *STATION)
                if who is not THIRD:
                    await api.ask(who, f"/accept {task}")

            refused = await api.ask(THIRD, f"/done {task}")  # on duty, but holds no place
            assert refused.text == said("done.not_yours", id=task)
            before = {p.id: api.count(p.id) for p in (NORTH, LEADER, ZHAO, CADRE)}
            await api.send_photo(CADRE, f"/done {task} cleared the corner")
            assert (await api.reply(CADRE.id, before[CADRE.id])).text == said("done.ok", id=task)

            told = await api.reply(NORTH.id, before[NORTH.id])
            assert told.method == "sendPhoto" and told.photo and told.photo.startswith("photo")
            assert f"#{task} (Station Road) was marked done by Cadre Zhao (on their own)" in (
                told.text
            )
            assert "Note: cleared the corner" in told.text and f"/reopen {task}" in told.text
            leader = await api.reply(LEADER.id, before[LEADER.id])
            assert leader.photo == told.photo and "/reopen" not in leader.text
            zhao = await api.reply(ZHAO.id, before[ZHAO.id])
            assert (
                "已由Cadre Zhao（1 人）标记完成" in zhao.text
                and "备注：cleared the corner" in zhao.text
            )
            assert api.count(CADRE.id) == before[CADRE.id] + 1  # only their reply
            assert (await bot.tally()).streets_served == 1

            # a leader marks the next one: their team's size is told
            second = await _post(api, "Station Road 5")
            await api.ask(LEADER, f"/accept {second}")
            north = api.count(NORTH.id)
            await api.ask(LEADER, f"/done {second}")
            told = await api.reply(NORTH.id, north)
            assert "Leader Sun (a team of 10)" in told.text and told.photo is None

            # /reopen: dispatchers only; the street stays served while another done task serves it
            refused = await api.ask(LEADER, f"/reopen {task}")
            assert refused.text == said("refuse.role", role="dispatcher")
            again = await api.ask(NORTH, f"/reopen {task}")
            assert again.text == said(
                "reopen.ok",
                id=task,
                street="Station Road",
                needed=15,
                served=said("reopen.street_still_served"),
            )
            assert (await bot.task(task)).status.value == "open"  # type: ignore[union-attr]
            assert (await bot.tally()).streets_served == 1
            clock.advance(3600)  # an hour after: still in time
            again = await api.ask(NORTH, f"/reopen {second}")
            assert said("reopen.street_unserved") in again.text
            assert (await bot.tally()).streets_served == 0
            nothing = await api.ask(NORTH, f"/reopen {second}")
            assert nothing.text == said("reopen.not_done", id=second)

            third = await _post(api, "School Lane 1")
            await api.ask(NORTH, f"/done {third}")  # a dispatcher of the district may
            clock.advance(3601)
            late = await api.ask(NORTH, f"/reopen {third}")
            assert late.text == said("reopen.too_late", id=third)
            assert (await bot.tally()).streets_served == 1
        no_errors(caplog, api)
