"""Places under random sequences (hypothesis): check-in, accept N, release, done, checkout
and max_shift closing, in any order. After every step: no task over its need, no shift
over its headcount, assigned + available == on duty, and the tally equals a recount."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Snowbot
from snowbot.service.sweeps import Sweeps
from snowbot.settings.config_file import parse_config
from tests.harness import SMALL_CITY, STATION, FakeClock, opened_bot, person, recount
from tests.test_places import assert_bounds

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


PEOPLE = {10: 1, 11: 1, 12: 3, 13: 7}  # user id -> the headcount they check in with
STREETS = ("Station Road", "School Lane", "Mill Street")

Step = tuple[str, int, int, int | None]  # what, who, which task (0..2), how many
STEPS = st.tuples(
    st.sampled_from(["checkin", "accept", "release", "done", "checkout", "max_shift"]),
    st.sampled_from(sorted(PEOPLE)),
    st.integers(0, len(STREETS) - 1),
    st.one_of(st.none(), st.integers(1, 8)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    needs=st.lists(st.integers(1, 6), min_size=3, max_size=3), steps=st.lists(STEPS, max_size=25)
)
def test_places_hold_their_bounds_under_any_sequence(needs: list[int], steps: list[Step]) -> None:
    asyncio.run(_play(needs, steps))


async def _play(needs: list[int], steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        (here / "city.csv").write_text(SMALL_CITY, "utf-8")
        base = parse_config({"access": {"coordinators": [1], "enrolment": "open"}}, base_dir=here)
        config = replace(base, database=here / "snowbot.db")
        clock = FakeClock()
        async with opened_bot(config, clock, here / "city.csv") as bot:
            boss = await person(bot, 1)
            await bot.grant(boss, 50, Role.DISPATCHER, None)
            dispatcher = await person(bot, 50)
            tasks = []
            for street, needed in zip(STREETS, needs, strict=True):
                posted = await bot.post_task(dispatcher, [*street.split(), str(needed)])
                tasks.append(posted.task.id)  # type: ignore[union-attr]
            for step in steps:
                clock.advance(60)
                await _step(bot, clock, tasks, step)
                await _check(bot)


async def _step(bot: Snowbot, clock: FakeClock, tasks: list[int], step: Step) -> None:
    what, user_id, which, count = step
    who = await person(bot, user_id)
    task = tasks[which]
    try:
        if what == "checkin":
            if PEOPLE[user_id] > 1:
                await bot.ask_check_in(who, PEOPLE[user_id])
            await bot.check_in(who, *STATION)
        elif what == "accept":
            await bot.accept(who, task, count)
        elif what == "release":
            await bot.release(who, task, count)
        elif what == "done":
            await bot.complete(who, task)
        elif what == "checkout":
            await bot.check_out(who)
        else:  # everyone on duty reaches max_shift: the sweep closes their shifts
            clock.advance(bot.config.schedule.max_shift.total_seconds())
            await Sweeps(bot).welfare()
    except Refused:
        pass  # a refusal changes nothing; the checks below see to that as well


async def _check(bot: Snowbot) -> None:
    assert_bounds(bot.config.address)
    tally = await bot.tally()
    assert tally.assigned + tally.available == tally.on_duty
    assert 0 <= tally.assigned <= tally.on_duty
    counted = recount(bot.config.address)
    shown = tally.as_json()
    assert {k: shown[k] for k in counted} == counted
