"""Check-ins that cannot make up turnout, through the real bot (README "Security"): a large
team counts once a dispatcher of its district confirms it, and one person starts at most
`max_checkins_per_hour` new shifts an hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CADRE,
    COORD,
    LEADER,
    NORTH_DISPATCHER,
    RIVER,
    SOUTH_DISPATCHER,
    STATION,
    FakeClock,
    bot_config,
    running_bot,
    stand_in,
)

NORTH, SOUTH = NORTH_DISPATCHER, SOUTH_DISPATCHER
SECOND = SimUser(12, "Leader Qian", "en")


async def test_a_large_team_counts_once_a_dispatcher_of_its_district_confirms_it(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        bot = running.service
        await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
        await api.ask(COORD, f"/grant {SOUTH.id} dispatcher South")
        await api.ask(NORTH, "/start")
        await api.ask(SOUTH, "/start")
        north_before, south_before = api.count(NORTH.id), api.count(SOUTH.id)

        # thirty is allowed without a word; thirty-one waits
        await api.ask(SECOND, "/checkin 30")
        assert "headcount: 30" in (await api.locate(SECOND, *STATION)).text
        await api.ask(LEADER, "/checkin 40")
        waiting = await api.locate(LEADER, *STATION)
        assert "team of 40" in waiting.text and "Nothing is counted yet" in waiting.text
        assert (await bot.tally()).person_times == 30
        assert (await api.ask(LEADER, "/checkout")).text.startswith("You are not on duty")

        asked = await api.reply(NORTH.id, north_before)
        assert "Leader Sun" in asked.text and "40" in asked.text and "Station Road" in asked.text
        confirm, refuse = (
            asked.button("Confirm")["callback_data"],
            asked.button("Refuse")["callback_data"],
        )
        assert api.count(SOUTH.id) == south_before  # not their district
        # sharing the location again while waiting: still waiting, nobody asked twice
        again = await api.locate(LEADER, *STATION)
        assert "Nothing is counted yet" in again.text
        assert api.count(NORTH.id) == north_before + 1

        # a dispatcher of another district, and a cadre, cannot confirm it
        other = await api.click(SOUTH, asked, "Confirm")
        assert "You dispatch for South only" in other["text"]
        cadre = await api.click(CADRE, asked, "Confirm")
        assert "Only a dispatcher" in cadre["text"]
        assert (await bot.tally()).person_times == 30

        before = api.count(LEADER.id)
        confirmed = await api.click(NORTH, asked, "Confirm")
        assert "Confirmed" in confirmed["text"]
        told = await api.reply(LEADER.id, before)
        assert "team of 40" in told.text and "confirmed" in told.text
        tally = await bot.tally()
        assert (tally.person_times, tally.on_duty, tally.people) == (70, 70, 2)
        assert not asked.buttons  # the buttons went with the decision
        # pressed again (another dispatcher's copy), or refused after: nothing more
        for data in (confirm, refuse):
            late = await api.answer(await api.press(NORTH, asked, data))
            assert "already been confirmed" in late["text"]
        assert (await bot.tally()).person_times == 70

        # a refused team counts nothing and its leader hears so
        await api.ask(CADRE, "/checkin 500")
        south_at = api.count(SOUTH.id)
        await api.locate(CADRE, *RIVER)
        request = await api.reply(SOUTH.id, south_at)
        before = api.count(CADRE.id)
        assert "Refused" in (await api.click(SOUTH, request, "Refuse"))["text"]
        assert "not confirm" in (await api.reply(CADRE.id, before)).text
        assert (await bot.tally()).person_times == 70
        # and then checks in as they really are
        await api.ask(CADRE, "/checkin 3")
        assert "headcount: 3" in (await api.locate(CADRE, *RIVER)).text
        assert (await bot.tally()).person_times == 73


async def test_at_most_so_many_new_shifts_an_hour_but_rejoins_and_moves_are_free(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = replace(config, schedule=replace(config.schedule, rejoin_window=timedelta(minutes=1)))
    assert config.access.max_checkins_per_hour == 4
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        bot = running.service
        for _ in range(4):
            assert "On duty" in (await api.locate(CADRE, *STATION)).text
            await api.ask(CADRE, "/checkout")
            clock.advance(120)  # past the rejoin window: the next is a new shift
        refused = await api.locate(CADRE, *STATION)
        assert "4 shifts in the last hour" in refused.text
        assert (await bot.tally()).person_times == 4

        # an hour after the first, one more
        clock.advance(3600 - 4 * 120 + 1)
        assert "On duty" in (await api.locate(CADRE, *STATION)).text
        # moving and coming back within the window open nothing new, and are not refused
        assert "Position updated" in (await api.locate(CADRE, *RIVER)).text
        await api.ask(CADRE, "/checkout")
        clock.advance(30)
        assert "Welcome back" in (await api.locate(CADRE, *STATION)).text
        assert "Position updated" in (await api.locate(CADRE, *STATION)).text
        await api.ask(CADRE, "/checkout")
        clock.advance(61)  # the shifts of minutes 2, 4, 6 and 60 are still inside the hour
        assert "shifts in the last hour" in (await api.locate(CADRE, *STATION)).text
        tally = await bot.tally()
        assert (tally.person_times, tally.on_duty) == (5, 0)


async def test_team_requests_count_towards_the_hourly_limit(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    access = replace(config.access, max_team_unconfirmed=5, max_checkins_per_hour=2)
    config = replace(config, access=access)
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        for _ in range(2):  # each new "/checkin 10" replaces the request before it
            await api.ask(LEADER, "/checkin 10")
            assert "Nothing is counted yet" in (await api.locate(LEADER, *STATION)).text
        await api.ask(LEADER, "/checkin 10")
        assert "2 shifts in the last hour" in (await api.locate(LEADER, *STATION)).text
        assert (await running.service.tally()).person_times == 0
