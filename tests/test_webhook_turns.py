"""A person's turn (several webhook processes, issue 20), held in the database: taken in one
statement only by the oldest kept-but-unhandled update of that person, by one process at
a time, ended with the update's handling, taken again once a dead process's turn expired;
two processes handed the same update handle it once. On both engines."""

from __future__ import annotations

import asyncio

import pytest

from handlers.ordering import SharedUpdateProcessor
from snowbot.model import Turn
from snowbot.service import Snowbot
from snowbot.service.delivery import ORPHAN_SECONDS, TURN_SECONDS
from tests.harness import FakeClock
from tests.test_ordering import from_person

pytestmark = pytest.mark.both_engines


async def test_a_persons_turn_goes_oldest_first_to_one_process(
    bot: Snowbot, clock: FakeClock
) -> None:
    await bot.keep_updates([(1, "{}"), (2, "{}"), (3, "{}"), (4, "{}")], {1: 10, 2: 10, 3: 20})
    assert await bot.take_turn(10, 2, "b") is Turn.WAIT  # 1, older, is not handled yet
    assert await bot.take_turn(10, 1, "a") is Turn.TAKEN
    assert await bot.take_turn(10, 1, "b") is Turn.WAIT  # a has the turn
    assert await bot.take_turn(20, 3, "b") is Turn.TAKEN  # another person: not in the way
    await bot.handled(1)  # marked: a keeps the turn until its replies are handed over
    assert await bot.take_turn(10, 1, "b") is Turn.HANDLED
    assert await bot.take_turn(10, 2, "b") is Turn.WAIT
    await bot.give_back_turn(10, 1, "a")  # a's replies are out
    assert await bot.take_turn(10, 2, "b") is Turn.TAKEN
    await bot.give_back_turn(10, 2, "b")  # b stops before handling it
    assert await bot.take_turn(10, 2, "a") is Turn.TAKEN

    # b died holding person 20's turn: it is taken again once expired, not before
    clock.advance(TURN_SECONDS - 1)
    assert await bot.take_turn(20, 3, "a") is Turn.WAIT
    clock.advance(2)
    assert await bot.take_turn(20, 3, "a") is Turn.TAKEN

    # kept long ago and never handled: the orphans a survivor replays, oldest first
    clock.advance(ORPHAN_SECONDS + 1)
    assert await bot.orphan_updates() == ["{}", "{}", "{}"]  # 2, 3 and 4 (nobody's)
    await bot.keep_updates([(5, "{}")], {5: 30})
    assert len(await bot.orphan_updates()) == 3  # 5 is fresh: its process is at it


async def test_two_processes_handed_the_same_update_handle_it_once(bot: Snowbot) -> None:
    """As when two survivors replay one orphan at the same moment."""
    processes = [SharedUpdateProcessor(bot), SharedUpdateProcessor(bot)]
    update = from_person(7, 70)
    await bot.keep_updates([(7, update.to_json())], {7: 70})
    ran: list[str] = []

    async def handle(name: str) -> None:
        ran.append(name)
        await asyncio.sleep(0.2)  # the other asks for the turn meanwhile
        await bot.handled(7)

    await asyncio.gather(
        *(p.process_update(update, handle(str(n))) for n, p in enumerate(processes))
    )
    assert len(ran) == 1, ran
    assert all(not p.in_hand for p in processes)
