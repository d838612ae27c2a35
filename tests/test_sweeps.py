"""The scheduler's sweeps on a real SQLite file with a settable clock: no Telegram, no waiting.

Each sweep queues messages in the outbox; `drain` plays the courier (it takes
what is due and marks it sent), so every test sees exactly what would go out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from snowbot.domain.messages import Outgoing
from snowbot.domain.roles import Role
from snowbot.service import Person, Snowbot
from snowbot.service.outbox import chat_gone, compose
from snowbot.service.sweeps import Sweeps, Swept
from snowbot.settings.config import Config
from snowbot.text.render import render_tally, task_line
from snowbot.text.texts import catalog
from tests.harness import STATION, FakeClock, drain, opened_bot, person

REPORTS = -500  # a report chat from the config
HQ = -600  # a group bound with /bind all
NORTH_GROUP = -700
HOUR = 3600.0


@pytest.fixture
async def bot(config: Config, clock: FakeClock, city_csv: Path) -> AsyncIterator[Snowbot]:
    config = replace(config, schedule=replace(config.schedule, report_chats=(REPORTS,)))
    async with opened_bot(config, clock, city_csv) as service:
        yield service


async def setup_city(bot: Snowbot) -> tuple[Person, Person]:
    """A coordinator with an HQ group, and a North dispatcher with the North group."""
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 50, Role.DISPATCHER, "North")
    dispatcher = await person(bot, 50)
    await bot.bind(coordinator, HQ, "all", "City HQ")
    await bot.bind(dispatcher, NORTH_GROUP, "North", "North crews")
    return coordinator, dispatcher


async def test_the_tally_goes_to_every_report_chat_once_per_period(
    bot: Snowbot, clock: FakeClock
) -> None:
    await setup_city(bot)
    await bot.check_in(await person(bot, 10), *STATION)
    sweeps = Sweeps(bot)
    assert await sweeps.tally_report() == 2
    sent = await drain(bot)
    assert sorted(m.chat_id for m in sent) == [HQ, REPORTS]
    # the same numbers as /tally: one computation
    expected = render_tally(catalog("zh"), await bot.tally(), tz=bot.config.city.timezone)
    assert all(expected in (m.text or "") for m in sent)
    assert "定时通报" in (sent[0].text or "") and "尚未清扫" in (sent[0].text or "")
    # asked again in the same period, or after a restart: nothing more
    assert await sweeps.tally_report() == 0
    assert await Sweeps(bot).everything() == Swept()
    clock.advance(bot.config.schedule.tally_every.total_seconds())
    assert await sweeps.tally_report() == 2


async def test_no_report_chats_means_no_report(config: Config, clock: FakeClock) -> None:
    async with opened_bot(config, clock) as service:
        assert await Sweeps(service).tally_report() == 0


async def test_the_daily_summary_counts_the_day_and_comes_once(
    bot: Snowbot, clock: FakeClock
) -> None:
    await setup_city(bot)
    tz = bot.config.city.timezone
    # the clock starts at 16:00 city time; the summary is at 20:00
    assert datetime.fromtimestamp(clock(), tz).hour == 16
    await bot.ask_check_in(await person(bot, 10), 12)
    await bot.check_in(await person(bot, 10), *STATION)
    await bot.check_in(await person(bot, 11), 50.2001, 127.5001)
    sweeps = Sweeps(bot)
    assert await sweeps.daily_report() == 0
    clock.advance(4 * HOUR)
    assert await sweeps.daily_report() == 2
    summary = (await drain(bot))[0].text or ""
    assert "日报" in summary and "出动：13 人次" in summary
    assert "North（12 人次）" in summary
    assert await sweeps.daily_report() == 0
    clock.advance(3 * HOUR)  # 23:00: still today's, already sent
    assert await sweeps.daily_report() == 0


async def test_an_unaccepted_task_is_escalated_by_id_once_per_round(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    posted = await bot.post_task(dispatcher, ["Station", "Road", "2"])
    task = posted.task
    announced = await drain(bot)
    assert [(m.chat_id, m.task_id) for m in announced] == [(NORTH_GROUP, task.id)]
    sweeps = Sweeps(bot)
    after = bot.config.schedule.escalate_unaccepted_after.total_seconds()
    clock.advance(after - 1)
    assert await sweeps.escalations() == 0
    clock.advance(1)
    assert await sweeps.escalations() == 2
    sent = {m.chat_id: m for m in await drain(bot)}
    assert f"#{task.id}" in (sent[dispatcher.id].text or "")
    regroup = sent[NORTH_GROUP]
    assert regroup.task_id == task.id and regroup.template == "escalate.announce"
    # sweeping again in the same round sends nothing; the next comes two periods later
    assert await sweeps.escalations() == 0
    clock.advance(after)
    assert await sweeps.escalations() == 0
    clock.advance(after)
    assert await sweeps.escalations() == 2
    await drain(bot)
    # once someone accepts, no more escalations
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, task.id)
    clock.advance(after)
    assert await sweeps.escalations() == 0


async def test_a_task_with_no_group_still_reaches_its_dispatcher(
    bot: Snowbot, clock: FakeClock
) -> None:
    coordinator = await person(bot, 1, "Wang")
    await bot.set_language(coordinator, "en")
    coordinator = await person(bot, 1, "Wang")
    posted = await bot.post_task(coordinator, ["River", "Road"])
    clock.advance(bot.config.schedule.escalate_unaccepted_after.total_seconds())
    assert await Sweeps(bot).escalations() == 1
    (told,) = await drain(bot)
    assert told.chat_id == 1 and f"#{posted.task.id}" in (told.text or "")
    assert "No group is bound to South" in (told.text or "")


async def test_a_long_shift_is_warned_then_closed_and_its_person_times_stay(
    bot: Snowbot, clock: FakeClock
) -> None:
    leader = await person(bot, 10)
    await bot.ask_check_in(leader, 5)
    await bot.check_in(leader, *STATION)
    sweeps = Sweeps(bot)
    clock.advance(7 * HOUR + 44 * 60)
    assert await sweeps.welfare() == (0, 0)
    clock.advance(60)  # 7:45 on duty: the reminder
    assert await sweeps.welfare() == (1, 0)
    assert await sweeps.welfare() == (0, 0)
    (warning,) = await drain(bot)
    assert warning.chat_id == 10 and "15 分钟" in (warning.text or "")
    clock.advance(15 * 60)  # 8:00: closed
    assert await sweeps.welfare() == (0, 1)
    (closed,) = await drain(bot)
    assert "5 人次" in (closed.text or "")
    tally = await bot.tally()
    assert (tally.person_times, tally.on_duty) == (5, 0)
    assert await bot.on_duty(leader) is None
    assert await sweeps.welfare() == (0, 0)


async def test_a_cadre_who_rejoins_after_a_closure_gets_a_fresh_stretch(
    bot: Snowbot, clock: FakeClock
) -> None:
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    clock.advance(8 * HOUR)
    assert await Sweeps(bot).welfare() == (0, 1)
    clock.advance(60)
    back = await bot.check_in(cadre, *STATION)
    assert back.kind.value == "rejoined"  # inside the rejoin window: counts nothing new
    assert await Sweeps(bot).welfare() == (0, 0)  # not closed again at once
    assert (await bot.tally()).person_times == 1
    clock.advance(7 * HOUR + 45 * 60)
    assert await Sweeps(bot).welfare() == (1, 0)


async def test_a_sweep_after_a_restart_sends_nothing_twice(
    bot: Snowbot, clock: FakeClock, config: Config
) -> None:
    _, dispatcher = await setup_city(bot)
    await bot.post_task(dispatcher, ["Station", "Road"])
    await bot.check_in(await person(bot, 10), *STATION)
    clock.advance(8 * HOUR)
    first = await Sweeps(bot).everything()
    assert first.reports == 2 and first.escalations == 2 and first.closed == 1
    async with opened_bot(bot.config, clock) as reopened:
        assert (await Sweeps(reopened).everything()).total == 0


async def test_a_sweep_that_was_down_for_three_periods_escalates_once(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    await bot.post_task(dispatcher, ["Station", "Road"])
    await drain(bot)
    clock.advance(3 * bot.config.schedule.escalate_unaccepted_after.total_seconds() + 5)
    assert await Sweeps(bot).escalations() == 2


async def test_a_group_that_is_gone_is_unbound_and_its_dispatchers_told(bot: Snowbot) -> None:
    coordinator, _ = await setup_city(bot)
    await bot.grant(coordinator, 51, Role.DISPATCHER, "North")
    assert await chat_gone(bot, NORTH_GROUP)
    assert await bot.chats_for_district(bot.directory.districts["North"].id) == []
    told = await drain(bot)
    assert sorted(m.chat_id for m in told) == [50, 51]
    assert all("North crews" in (m.text or "") and "/bind North" in (m.text or "") for m in told)
    # a report chat from the config is only skipped
    assert not await chat_gone(bot, REPORTS)


async def test_a_task_message_shows_the_task_as_it_is_when_sent(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    posted = await bot.post_task(dispatcher, ["Station", "Road", "2"])
    (item,) = await bot.store.due_outbox(clock(), 10)
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, posted.task.id)
    letter = await compose(bot, item)
    assert letter is not None and letter.task is not None
    assert f"#{posted.task.id}" in letter.text and "1/2" in letter.text
    # a task of an ended incident is not announced any more
    await bot.start_incident(await person(bot, 1), "Second snow")
    assert await compose(bot, item) is None


async def test_queued_messages_are_unique_per_key_and_chat(bot: Snowbot) -> None:
    message = Outgoing("tally:1", REPORTS, "zh", text="hello")
    assert await bot.store.enqueue([message, message], bot.clock()) == 1
    assert await bot.store.enqueue([message], bot.clock()) == 0
    assert await bot.store.enqueue([replace(message, chat_id=HQ)], bot.clock()) == 1
    assert await bot.store.outbox_counts() == (2, 0, 0)


def test_durations_below_a_minute_read_in_seconds() -> None:
    from snowbot.text.render import duration

    assert duration(catalog("en"), 8.6) == "8 s"
    assert duration(catalog("en"), 1) == "1 s"  # the shortest a schedule setting may be
    assert duration(catalog("zh"), 90) == "1 分钟"


async def test_an_urgent_task_is_listed_first_and_chased_after_half_the_wait(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    usual = (await bot.post_task(dispatcher, ["Station", "Road", "2"])).task  # type: ignore[union-attr]
    clock.advance(60)
    urgent = (await bot.post_task(dispatcher, ["!", "School", "Lane", "3", "clinic"])).task  # type: ignore[union-attr]
    assert urgent.urgent and not usual.urgent
    assert (urgent.street, urgent.needed, urgent.note) == ("School Lane", 3, "clinic")
    for word, street in (
        ("急", "Market Street"),
        ("！", "Station Road East"),
        ("URGENT", "Market Street"),
    ):
        clock.advance(3600)  # never the same task sent twice
        marked = (await bot.post_task(dispatcher, [word, *street.split()])).task  # type: ignore[union-attr]
        assert marked.urgent, word
    listed = [n.task.id for n in await bot.nearby_tasks(None, None)]
    assert listed == [urgent.id, urgent.id + 1, urgent.id + 2, urgent.id + 3, usual.id]
    # beside Station Road, the urgent ones still come before it
    assert [n.task.id for n in await bot.nearby_tasks(*STATION)][-1] == usual.id
    assert (await bot.nearby_tasks(*STATION, exact=1))[0].task.urgent  # measured first too
    assert task_line(catalog("zh"), urgent).startswith("🚨急 #")
    assert task_line(catalog("en"), urgent).startswith("🚨 URGENT #")
    assert task_line(catalog("en"), usual).startswith(f"#{usual.id} ")
    await drain(bot)

    clock.now = urgent.created_at + 10 * HOUR  # wipe the slate: everything is chased once
    await Sweeps(bot).escalations()
    await drain(bot)
    half = bot.config.schedule.escalate_unaccepted_after.total_seconds() / 2
    fresh = (await bot.post_task(dispatcher, ["!", "School", "Lane"])).task  # type: ignore[union-attr]
    other = (await bot.post_task(dispatcher, ["Station", "Road", "East"])).task  # type: ignore[union-attr]
    await drain(bot)
    clock.advance(half - 1)
    await Sweeps(bot).escalations()
    assert {m.task_id for m in await drain(bot)} & {fresh.id, other.id} == set()
    clock.advance(1)
    await Sweeps(bot).escalations()
    chased = {m.task_id for m in await drain(bot)}
    assert fresh.id in chased and other.id not in chased  # the usual one waits the whole time
    clock.advance(half)
    await Sweeps(bot).escalations()
    assert other.id in {m.task_id for m in await drain(bot)}
