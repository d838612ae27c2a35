"""A different headcount on duty (issue 31, SPEC §14), through the real bot: more people
add the difference to person-times (above the limit, once a dispatcher confirms); fewer
give back unplaced people first, then places; person-times already counted stay, and
the exports still add up to the tally."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.settings.config import Config
from tests.harness import (
    CADRE,
    COORD,
    LEADER,
    NORTH_DISPATCHER,
    STATION,
    bot_config,
    no_errors,
    running_bot,
    said,
    stand_in,
)
from tests.test_incident_end_e2e import csv_rows

pytestmark = pytest.mark.both_engines

NORTH = NORTH_DISPATCHER


async def test_a_leader_on_duty_changes_the_headcount(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        async with running_bot(bot_config(config, api, city_csv)) as running:
            bot = running.service
            await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
            await api.ask(NORTH, "/start")
            posted = await api.ask(NORTH, "/newtask Station Road 20")
            task = int(posted.text.split("#", 1)[1].split()[0])
            await api.ask(LEADER, "/checkin 25")
            await api.locate(LEADER, *STATION)
            await api.ask(LEADER, f"/accept {task}")

            grown = await api.ask(LEADER, "/checkin 28")
            assert grown.text.startswith(said("resize.grown", old=25, new=28, added=3))
            assert said("places.team_free", free=8, count=28) in grown.text
            tally = await bot.tally()
            assert (tally.person_times, tally.on_duty) == (28, 28)

            # above max_team_unconfirmed (30): it waits for the district's dispatcher
            asked_before = api.count(NORTH.id)
            waiting = await api.ask(LEADER, "签到 35")
            assert waiting.text.startswith(said("resize.waiting", old=28, new=35, max=30))
            assert (await bot.tally()).person_times == 28
            asked = await api.reply(NORTH.id, asked_before)
            told_before = api.count(LEADER.id)
            await api.click(NORTH, asked, "Confirm")
            told = await api.reply(LEADER.id, told_before)
            assert "team of 35" in told.text and "confirmed" in told.text
            tally = await bot.tally()
            assert (tally.person_times, tally.on_duty) == (35, 35)

            # fewer: the 15 unplaced leave first, then 10 of the 20 places on the task
            shrunk = await api.ask(LEADER, "/checkin 10")
            assert shrunk.text.startswith(said("resize.shrunk", old=35, new=10, left=25))
            assert said("places.gave_back", tasks=f"#{task}") in shrunk.text
            tally = await bot.tally()
            assert (tally.person_times, tally.on_duty) == (35, 10)
            found = await bot.task(task)
            assert found is not None and (found.accepted, found.status.value) == (10, "in_progress")
            incident = await bot.incident()
            shifts = csv_rows(await bot.incident_file(incident.id, "shifts.csv"))
            assert sum(int(s["headcount"]) for s in shifts) == 35  # the exports add up
            assert sum(int(s["placed"]) for s in shifts) == 10

            # the same count, or not on duty: the location is asked for, as ever
            same = await api.ask(LEADER, "/checkin 10")
            assert same.text == said("checkin.ask", count=10)
            fresh = await api.ask(CADRE, "/checkin 3")
            assert fresh.text == said("checkin.ask", count=3)
        no_errors(caplog, api)
