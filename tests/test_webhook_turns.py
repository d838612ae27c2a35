"""A person's turn (several webhook processes, issues 20 and 27), held in the database: taken
in one statement only by the oldest kept-but-unhandled update of that person, by one live
process at a time, ended with the update's handling; a process is alive while its heartbeat
is renewed (by the database's clock), and only a dead one's turns and kept updates are taken
over, however old a live one's are. A person's backlog is bounded: beyond it their updates
are dropped, with one notice per flood. In this process a person's updates wait in memory
behind one waiter, which alone asks the database. On both engines."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from handlers.ordering import SharedUpdateProcessor
from snowbot.domain.model import Turn
from snowbot.service import Snowbot
from snowbot.service.delivery import DEAD_AFTER
from tests.engines import raw
from tests.harness import FakeClock, eventually
from tests.test_ordering import from_person

pytestmark = pytest.mark.both_engines


def _age(bot: Snowbot, holder: str) -> None:
    """Process `holder` stopped renewing its heartbeat DEAD_AFTER and more seconds ago."""
    with raw(bot.config.address) as db:
        db.execute(
            "UPDATE processes SET beat_at = beat_at - ? WHERE holder = ?", (DEAD_AFTER + 1, holder)
        )
        if hasattr(db, "commit"):
            db.commit()


async def test_a_persons_turn_goes_oldest_first_to_one_live_process(
    bot: Snowbot, clock: FakeClock
) -> None:
    for holder in ("a", "b", "c"):
        await bot.beat(holder)
    updates = [(1, "{}"), (2, "{}"), (3, "{}"), (4, "{}")]
    assert await bot.keep_updates(updates, {1: 10, 2: 10, 3: 20}, "b") == []
    assert await bot.take_turn(10, 2, "b") is Turn.WAIT  # 1, older, is not handled yet
    assert not await bot.turn_may_be_free(10, 2, "b")  # the same, read without a write
    assert await bot.take_turn(10, 1, "a") is Turn.TAKEN
    assert await bot.take_turn(10, 1, "b") is Turn.WAIT  # a has the turn
    assert not await bot.turn_may_be_free(10, 1, "b") and await bot.turn_may_be_free(10, 1, "a")
    assert await bot.take_turn(20, 3, "b") is Turn.TAKEN  # another person: not in the way
    await bot.handled(1)  # marked: a keeps the turn until its replies are handed over
    assert await bot.take_turn(10, 1, "b") is Turn.HANDLED
    assert await bot.take_turn(10, 2, "b") is Turn.WAIT
    await bot.give_back_turn(10, 1, "a")  # a's replies are out
    assert await bot.take_turn(10, 2, "b") is Turn.TAKEN
    await bot.give_back_turn(10, 2, "b")  # b stops before handling it
    assert await bot.take_turn(10, 2, "a") is Turn.TAKEN

    # b holds person 20's turn: never taken while b lives, however late by anyone's clock
    clock.advance(3600)
    assert await bot.take_turn(20, 3, "a") is Turn.WAIT
    assert not await bot.turn_may_be_free(20, 3, "a")
    assert await bot.claim_orphans("a") == []  # b's kept updates are b's
    _age(bot, "b")  # b stopped renewing its heartbeat: it is dead
    assert await bot.turn_may_be_free(20, 3, "a")
    assert await bot.take_turn(20, 3, "a") is Turn.TAKEN

    # a dead process's kept updates are a survivor's, oldest first, and only one's
    await bot.keep_updates([(5, "{}")], {5: 30}, "c")  # c is alive: left alone
    assert await bot.claim_orphans("a") == ["{}", "{}", "{}"]  # 2, 3 and 4 (nobody's)
    assert await bot.claim_orphans("c") == ["{}"]  # its own 5; b's are a's now
    await bot.keep_updates([(6, "{}")], {6: 30}, "c")
    await bot.leave("c")  # c stops: what it kept is anyone's at once
    assert await bot.claim_orphans("a") == ["{}", "{}", "{}", "{}", "{}"]


async def test_a_persons_backlog_is_bounded_with_one_notice_a_flood(
    bot: Snowbot, clock: FakeClock
) -> None:
    bot.config = replace(bot.config, max_queued_per_person=3)
    await bot.beat("a")

    async def keep(first: int, last: int, person: int = 10) -> list[int]:
        people = {n: person for n in range(first, last + 1)}
        languages: dict[int, str | None] = dict.fromkeys(people, "en")
        return await bot.keep_updates([(n, "{}") for n in people], people, "a", languages)

    async def notices() -> list[tuple[str, int, str]]:
        with raw(bot.config.address) as db:
            rows = db.execute(
                "SELECT key, chat_id, text FROM outbox WHERE key LIKE 'flood:%' ORDER BY id"
            ).fetchall()
        return [(str(k), int(c), str(t)) for k, c, t in rows]

    assert await keep(1, 5) == [4, 5]  # three wait; the fourth and fifth are dropped
    assert await keep(6, 6) == [6]
    assert await keep(1, 6) == [4, 5, 6]  # delivered again: the dropped stay dropped
    assert await keep(20, 25, person=20) == [23, 24, 25]  # another person's flood
    told = await notices()
    assert [(k, c) for k, c, _ in told] == [("flood:10:4", 10), ("flood:20:23", 20)]
    assert "more than 3 messages" in told[0][2]  # in the update's language
    for dropped in (4, 5, 6):  # acknowledged: handled, never replayed
        assert await bot.already_handled(dropped)
    assert len(await bot.unhandled_updates()) == 6  # 1-3 and 20-22: no dropped one

    for n in (1, 2):
        await bot.handled(n)
    assert await keep(7, 9) == [9]  # 3 (from before) still waits: the same flood, untold
    for n in (3, 7, 8):
        await bot.handled(n)
    # drained, but within a minute of the last drop (two processes draining one flood
    # by turns): the same flood, untold
    clock.advance(60)
    assert await keep(10, 13) == [13]
    assert [k for k, _, _ in await notices()] == ["flood:10:4", "flood:20:23"]
    for n in (10, 11, 12):
        await bot.handled(n)
    # drained, and a minute and a second without a drop: a new flood, told again
    clock.advance(61)
    assert await keep(16, 19) == [19]
    assert [k for k, _, _ in await notices()] == ["flood:10:4", "flood:20:23", "flood:10:19"]
    # dropped by a process that saw the backlog full in its own memory: the same rules
    await bot.drop_updates({14: 10, 15: 10, 30: 30}, {14: "en", 30: "zh"})
    assert all([await bot.already_handled(n) for n in (14, 15, 30)])
    told = await notices()
    assert [k for k, _, _ in told][3:] == ["flood:30:30"]  # 10's flood goes on: untold
    assert "条以上消息在等待处理" in told[3][2]


async def test_a_flood_notice_speaks_the_language_chosen_with_lang(bot: Snowbot) -> None:
    """Telegram says zh, the person chose English with /lang: the notice is in English;
    someone who chose nothing hears Telegram's language."""
    bot.config = replace(bot.config, max_queued_per_person=1)
    await bot.beat("a")
    await bot.set_language(await bot.meet(40, "chose", None, "zh-hans"), "en")
    await bot.meet(41, "did not", None, "en")
    people = {1: 40, 2: 40, 3: 41, 4: 41}
    zh: dict[int, str | None] = dict.fromkeys(people, "zh-hans")
    assert await bot.keep_updates([(n, "{}") for n in people], people, "a", zh) == [2, 4]
    with raw(bot.config.address) as db:
        rows = db.execute("SELECT chat_id, text FROM outbox ORDER BY chat_id").fetchall()
    told = {int(chat): str(text) for chat, text in rows}
    assert "more than 1 messages" in told[40]
    assert "条以上消息在等待处理" in told[41]


async def test_two_processes_handed_the_same_update_handle_it_once(bot: Snowbot) -> None:
    """As when an orphan is replayed while its own process still has it."""
    processes = [SharedUpdateProcessor(bot), SharedUpdateProcessor(bot)]
    for process in processes:
        await bot.beat(process.holder)
    update = from_person(7, 70)
    await bot.keep_updates([(7, update.to_json())], {7: 70}, processes[0].holder)
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


class _Asked:
    """The service's turns, noting which update each question was about."""

    def __init__(self, bot: Snowbot) -> None:
        self.bot = bot
        self.asked: list[int] = []

    async def take_turn(self, person: int, update_id: int, holder: str) -> Turn:
        self.asked.append(update_id)
        return await self.bot.take_turn(person, update_id, holder)

    async def turn_may_be_free(self, person: int, update_id: int, holder: str) -> bool:
        self.asked.append(update_id)
        return await self.bot.turn_may_be_free(person, update_id, holder)

    async def give_back_turn(self, person: int, update_id: int, holder: str) -> None:
        await self.bot.give_back_turn(person, update_id, holder)


async def test_a_persons_updates_wait_behind_one_waiter_oldest_first(bot: Snowbot) -> None:
    """While another process has the person's turn, only this process's oldest update of
    theirs asks for it (a question per waiting update stalled everyone, issue 27); once
    the turn is free, they are handled in order, whichever arrived first here."""
    turns = _Asked(bot)
    here = SharedUpdateProcessor(turns)
    await bot.beat("elsewhere")
    await bot.beat(here.holder)
    await bot.keep_updates([(100, "{}")], {100: 70}, "elsewhere")
    assert await bot.take_turn(70, 100, "elsewhere") is Turn.TAKEN
    ids = [120, *range(101, 120)]  # the newest first: the older go before it all the same
    await bot.keep_updates([(n, "{}") for n in ids], dict.fromkeys(ids, 70), here.holder)
    handled: list[int] = []

    async def handle(n: int) -> None:
        handled.append(n)
        await bot.handled(n)

    tasks = [asyncio.create_task(here.process_update(from_person(n, 70), handle(n))) for n in ids]
    await eventually(lambda: len(turns.asked) >= 5, "the waiter asks again and again")
    assert set(turns.asked) <= {101, 120} and handled == []  # 120 asked before 101 came
    await bot.handled(100)
    await bot.give_back_turn(70, 100, "elsewhere")
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    assert handled == sorted(ids)
    assert not here.in_hand


async def test_an_act_in_the_app_waits_for_what_the_person_sent_before(bot: Snowbot) -> None:
    """A Mini App act (a negative update id, never kept) is newer than every update the
    person has kept, in any process: it waits for them all, then takes the turn."""
    for holder in ("a", "b"):
        await bot.beat(holder)
    await bot.keep_updates([(7, "{}"), (9, "{}")], {7: 30, 9: 31}, "b")
    act = -1_765_000_000_000_000
    assert await bot.take_turn(30, act, "a") is Turn.WAIT  # 7 waits in b
    assert not await bot.turn_may_be_free(30, act, "a")
    assert await bot.take_turn(31, act - 1, "a") is Turn.WAIT  # 31's own 9 waits too
    assert await bot.take_turn(32, act - 2, "a") is Turn.TAKEN  # nothing of 32's waits
    assert await bot.take_turn(30, 7, "b") is Turn.TAKEN
    await bot.handled(7)
    await bot.give_back_turn(30, 7, "b")
    assert await bot.turn_may_be_free(30, act, "a")
    assert await bot.take_turn(30, act, "a") is Turn.TAKEN


async def test_acts_in_the_app_go_after_the_chats_updates_here_earlier_act_first(
    bot: Snowbot,
) -> None:
    """In this process too: a person's acts wait behind the chat updates waiting here, and
    the earlier act (the smaller microsecond: the larger negative id) goes first."""
    turns = _Asked(bot)
    here = SharedUpdateProcessor(turns)
    await bot.beat("elsewhere")
    await bot.beat(here.holder)
    await bot.keep_updates([(200, "{}")], {200: 80}, "elsewhere")
    assert await bot.take_turn(80, 200, "elsewhere") is Turn.TAKEN
    kept = [201, 202]
    await bot.keep_updates([(n, "{}") for n in kept], dict.fromkeys(kept, 80), here.holder)
    handled: list[int] = []

    async def handle(n: int) -> None:
        handled.append(n)
        await bot.handled(n)

    arriving = [-1_000_000, 202, -2_000_000, 201]  # the acts made at 1 s and at 2 s
    tasks = [
        asyncio.create_task(here.process_update(from_person(n, 80), handle(n))) for n in arriving
    ]
    await eventually(lambda: len(turns.asked) >= 3, "the waiter asks while 200 is elsewhere")
    await bot.handled(200)
    await bot.give_back_turn(80, 200, "elsewhere")
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    assert handled == [201, 202, -1_000_000, -2_000_000]
