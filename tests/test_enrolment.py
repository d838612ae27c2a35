"""Enrolment by invitation through the real bot (README "Security"): guests are refused
check-in, accept and done with a hint; invitation links make them cadres who count;
expired, used-up, ended and unknown codes are refused and change nothing."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from snowbot.domain.roles import Role
from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import (
    COORD,
    NORTH_DISPATCHER,
    SOUTH_DISPATCHER,
    STATION,
    FakeClock,
    bot_config,
    invite_only,
    running_bot,
    stand_in,
)

NORTH, SOUTH = NORTH_DISPATCHER, SOUTH_DISPATCHER
GUEST = SimUser(10, "Guest Zhao", "en")
OTHER = SimUser(11, "Guest Sun", "en")
LINK = re.compile(r"https://t\.me/snowbot_demo_bot\?start=([A-Za-z0-9_-]+)")
HINT = "ask a dispatcher of your district for an invitation link"


async def _dispatchers(api: BotApiStandIn) -> None:
    await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
    await api.ask(COORD, f"/grant {SOUTH.id} dispatcher South")
    await api.ask(NORTH, "/start")
    await api.ask(SOUTH, "/start")


def code_of(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


async def test_a_guest_is_refused_until_an_invitation_makes_them_a_counted_cadre(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = invite_only(config)
    assert config.access.enrolment == "invite"
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        bot = running.service
        await _dispatchers(api)
        posted = await api.ask(NORTH, "/newtask Station Road 2")
        assert "#1" in posted.text

        hello = await api.ask(GUEST, "/start")
        assert "guest" in hello.text and "invitation link" in hello.text
        assert "/checkin" not in hello.text
        for text in ("/checkin", "/checkin 3", "/accept 1", "/done 1", "签到", "check in 5"):
            refused = await api.ask(GUEST, text)
            assert HINT in refused.text, (text, refused.text)
        assert "invitation link" in (await api.ask(GUEST, "Station Road")).text
        located = await api.locate(GUEST, *STATION)
        assert HINT in located.text
        await api.share_location(GUEST, *STATION, live_edit=True)  # a live location ticking
        pressed = await api.press(GUEST, posted, posted.button("Accept")["callback_data"])
        assert HINT in (await api.answer(pressed))["text"]
        assert "language" in (await api.ask(GUEST, "/help")).text
        assert "English" in (await api.ask(GUEST, "/lang en")).text
        tally = await bot.tally()
        assert (tally.person_times, tally.people) == (0, 0)

        # a North dispatcher invites to North only; the link names the bot (getMe)
        other = await api.ask(NORTH, "/invite South")
        assert "You dispatch for North only" in other.text
        made = await api.ask(NORTH, "/invite")
        assert "North" in made.text and "1 use" in made.text
        code = code_of(made.text)
        assert len(code) >= 16

        joined = await api.ask(GUEST, f"/start {code}")
        assert "now a cadre of North" in joined.text and "/checkin" in joined.text
        person = await bot.person(GUEST.id)
        assert person is not None and person.role == Role.CADRE
        assert person.user.district_id is not None
        on_duty = await api.locate(GUEST, *STATION)
        assert "On duty" in on_duty.text
        assert "joined task #1" in (await api.ask(GUEST, "/accept 1")).text
        tally = await bot.tally()
        assert (tally.person_times, tally.people) == (1, 1)

        # the link was for one person: the next one is refused and stays a guest
        used = await api.ask(OTHER, f"/start {code}")
        assert "used as many times as it allows" in used.text
        assert HINT in (await api.ask(OTHER, "/checkin")).text
        # a member does not need one, and takes no use
        assert "already a member" in (await api.ask(GUEST, f"/start {code}")).text
        assert "already a member" in (await api.ask(NORTH, f"/start {code}")).text
        # so is a coordinator of the config, whom the database may know as a guest
        assert "already a member" in (await api.ask(COORD, f"/start {code}")).text
        dispatcher = await bot.person(NORTH.id)
        assert dispatcher is not None and dispatcher.role == Role.DISPATCHER

        # expired: an hour's link, two hours later
        hourly = code_of((await api.ask(NORTH, "/invite North 5 1")).text)
        clock.advance(2 * 3600)
        assert "has expired" in (await api.ask(OTHER, f"/start {hourly}")).text
        # unknown and malformed codes
        for bad in ("A" * 16, "x'; DROP TABLE users; --", "é" * 5, "A" * 65):
            answer = await api.ask(OTHER, f"/start {bad}")
            assert "not valid" in answer.text, bad
        still = await bot.person(OTHER.id)
        assert still is not None and still.role == Role.GUEST
        tally = await bot.tally()
        assert (tally.person_times, tally.people) == (1, 1)


async def test_invitations_are_listed_and_ended_by_their_maker_or_a_coordinator(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = invite_only(config)
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv), clock=clock):
        await _dispatchers(api)
        assert "Only a dispatcher" in (await api.ask(GUEST, "/invite")).text
        north = code_of((await api.ask(NORTH, "/invite 20 12")).text)
        south = code_of((await api.ask(SOUTH, "/invite South 3")).text)
        city = code_of((await api.ask(COORD, "/invite")).text)
        assert "not a number of uses" in (await api.ask(NORTH, "/invite 0")).text
        assert "not a number of hours" in (await api.ask(NORTH, "/invite 1 100000")).text
        assert "Usage: /invite" in (await api.ask(NORTH, "/invite 1 2 3")).text

        mine = (await api.ask(NORTH, "/invites")).text
        assert north in mine and "20/20" in mine and south not in mine and city not in mine
        every = (await api.ask(COORD, "/invites")).text
        assert north in every and south in every and city in every

        # a dispatcher cannot end another's; the coordinator can end any
        assert (
            "No live invitation link of yours" in (await api.ask(SOUTH, f"/uninvite {north}")).text
        )
        assert "no longer works" in (await api.ask(NORTH, f"/uninvite {north}")).text
        assert "no longer works" in (await api.ask(COORD, f"/uninvite {south}")).text
        assert "not valid" in (await api.ask(GUEST, f"/start {north}")).text
        assert "not valid" in (await api.ask(GUEST, f"/start {south}")).text
        assert north not in (await api.ask(COORD, "/invites")).text
        # a link without a district makes a cadre of no district
        joined = await api.ask(GUEST, f"/start {city}")
        assert "now a cadre." in joined.text


async def test_twenty_people_on_a_five_use_link_at_once_enrol_five(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = invite_only(config)
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        await _dispatchers(api)
        code = code_of((await api.ask(NORTH, "/invite North 5")).text)
        crowd = [SimUser(2000 + i, f"person {i}", "en") for i in range(20)]
        await asyncio.gather(*(api.say(user, f"/start {code}") for user in crowd))
        await api.wait_for(lambda: all(api.count(u.id) for u in crowd), timeout=30)
        answers = [api.sent[u.id][0].text for u in crowd]
        assert sum("now a cadre" in a for a in answers) == 5
        assert sum("used as many times" in a for a in answers) == 15
        roles = [await running.service.person(u.id) for u in crowd]
        assert sum(p is not None and p.role == Role.CADRE for p in roles) == 5
        coordinator = await running.service.person(COORD.id)
        assert coordinator is not None
        assert not await running.service.invitations(coordinator)  # used up: no longer live


@pytest.mark.parametrize("enrolment", ["open", "invite"])
async def test_the_demo_and_open_enrolment_make_cadres_of_whoever_writes(
    config: Config, city_csv: Path, clock: FakeClock, enrolment: str
) -> None:
    config = replace(config, access=replace(config.access, enrolment=enrolment))
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        await api.ask(GUEST, "/start")
        answer = await api.locate(GUEST, *STATION)
        counted = (await running.service.tally()).person_times
        if enrolment == "open":
            assert "On duty" in answer.text and counted == 1
        else:
            assert HINT in answer.text and counted == 0


TIEXI_CITY = "district,street,lat,lon\n铁西街道,北二路,50.2400,127.5000\n"
TIEXI_DISPATCHER = SimUser(62, "铁西调度员", "zh")


async def test_an_invitation_for_twelve_hours_works_until_the_twelfth_hour_ends(
    config: Config, tmp_path: Path, clock: FakeClock
) -> None:
    """`/invite 铁西街道 5 12`: the link says when it ends and works until then, and not a
    second longer (minutes or days for hours would each break one side)."""
    city = tmp_path / "tiexi.csv"
    city.write_text(TIEXI_CITY, "utf-8")
    config = invite_only(config)
    async with stand_in() as api, running_bot(bot_config(config, api, city), clock=clock):
        await api.ask(COORD, f"/grant {TIEXI_DISPATCHER.id} dispatcher 铁西街道")
        made = await api.ask(TIEXI_DISPATCHER, "/invite 铁西街道 5 12")
        ends = datetime.fromtimestamp(clock() + 12 * 3600, config.city.timezone)
        assert f"有效期至 {ends:%Y-%m-%d %H:%M}" in made.text and "可用 5 次" in made.text
        code = code_of(made.text)

        clock.advance(12 * 3600 - 1)  # the last second of its twelfth hour
        joined = await api.ask(GUEST, f"/start {code}")
        assert "now a cadre of 铁西街道" in joined.text
        clock.advance(1)  # twelve hours after it was made
        assert "has expired" in (await api.ask(OTHER, f"/start {code}")).text
        assert "No invitation links are live" in (await api.ask(COORD, "/invites")).text
