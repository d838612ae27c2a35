"""A six-day storm, at the service with a settable clock (issue 21): escalations that back
off, stop and keep quiet at night; tallies that supersede each other in the outbox; every
missed day summary caught up; which day of the storm it is."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from snowbot.app.database_commands import backup_database, restore_database
from snowbot.domain import schedule
from snowbot.domain.messages import Outgoing
from snowbot.domain.roles import Role
from snowbot.service import Person, Snowbot
from snowbot.service.sweeps import Sweeps
from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.errors import ConfigError
from tests.engines import sqlite_only
from tests.harness import RIVER, STATION, FakeClock, drain, opened_bot, person, waiting

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


REPORTS = -500
HQ = -600
NORTH_GROUP = -700
HOUR = 3600.0
QUIET = (time(22, 0), time(6, 0))


@pytest.fixture
async def bot(config: Config, clock: FakeClock, city_csv: Path) -> AsyncIterator[Snowbot]:
    schedule_ = replace(
        config.schedule,
        report_chats=(REPORTS,),
        escalate_unaccepted_after=timedelta(hours=1),
        quiet_hours=QUIET,
    )
    async with opened_bot(replace(config, schedule=schedule_), clock, city_csv) as service:
        yield service


async def setup_city(bot: Snowbot) -> tuple[Person, Person]:
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 50, Role.DISPATCHER, "North")
    dispatcher = await person(bot, 50)
    await bot.bind(coordinator, HQ, "all", "City HQ")
    await bot.bind(dispatcher, NORTH_GROUP, "North", "North crews")
    return coordinator, dispatcher


def local(bot: Snowbot, moment: float) -> datetime:
    return datetime.fromtimestamp(moment, bot.config.city.timezone)


def set_local(bot: Snowbot, clock: FakeClock, day: int, hh: int, mm: int, ss: int = 0) -> None:
    """The clock to hh:mm:ss city time, `day` days after the test's first day."""
    first = local(bot, 1_800_000_000.0).date()
    moment = datetime.combine(first + timedelta(days=day), time(hh, mm, ss))
    clock.now = moment.replace(tzinfo=bot.config.city.timezone).timestamp()


async def escalated(bot: Snowbot) -> list[Outgoing]:
    await Sweeps(bot).escalations()
    return [m for m in await drain(bot) if m.key.startswith("escalate:")]


async def test_escalations_back_off_and_stop_after_escalate_max(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    set_local(bot, clock, 1, 6, 0)  # due at 07:00, 09:00, 13:00, 21:00: never in quiet hours
    task = (await bot.post_task(dispatcher, ["Station", "Road", "2"])).task
    assert task is not None
    await drain(bot)
    # the 1st to 4th after 1, 3, 7 and 15 hours (1, 2, 4, 8 apart): a second before, nothing
    for k, hours in enumerate((1, 3, 7, 15), start=1):
        clock.now = task.created_at + hours * HOUR - 1
        assert await escalated(bot) == [], k
        clock.now += 1
        sent = await escalated(bot)
        assert sorted(m.chat_id for m in sent) == [NORTH_GROUP, dispatcher.id], k
        assert {m.key for m in sent} == {
            f"escalate:{task.id}:{k}",
            f"escalate:{task.id}:{k}:groups",
        }
        notice = next(m.text or "" for m in sent if m.chat_id == dispatcher.id)
        assert f"#{task.id}" in notice
        assert ("/cancel" in notice) == (k == 4)  # the last one says it is the last
    # escalate_max (4) reached: never again, however long it waits
    for hours in (31, 63, 200):
        clock.now = task.created_at + hours * HOUR
        assert await escalated(bot) == []


async def test_escalate_max_zero_never_escalates(
    config: Config, clock: FakeClock, city_csv: Path
) -> None:
    cfg = replace(config, schedule=replace(config.schedule, escalate_max=0))
    async with opened_bot(cfg, clock, city_csv) as bot:
        _, dispatcher = await setup_city(bot)
        await bot.post_task(dispatcher, ["Station", "Road"])
        clock.advance(3 * 86400)
        assert await Sweeps(bot).escalations() == 0


def test_quiet_hours_on_both_sides_of_each_boundary() -> None:
    city = ZoneInfo("Asia/Shanghai")

    def at(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=city).timestamp()

    night = (time(23, 0), time(6, 0))
    assert schedule.quiet_until(at("2026-11-26 22:59:59"), night, city) is None
    assert schedule.quiet_until(at("2026-11-26 23:00:00"), night, city) == at("2026-11-27 06:00")
    assert schedule.quiet_until(at("2026-11-27 03:00:00"), night, city) == at("2026-11-27 06:00")
    assert schedule.quiet_until(at("2026-11-27 05:59:59"), night, city) == at("2026-11-27 06:00")
    assert schedule.quiet_until(at("2026-11-27 06:00:00"), night, city) is None
    # a span inside one day, and none at all
    noon = (time(12, 0), time(13, 30))
    assert schedule.quiet_until(at("2026-11-26 11:59:59"), noon, city) is None
    assert schedule.quiet_until(at("2026-11-26 12:00:00"), noon, city) == at("2026-11-26 13:30")
    assert schedule.quiet_until(at("2026-11-26 13:29:59"), noon, city) == at("2026-11-26 13:30")
    assert schedule.quiet_until(at("2026-11-26 13:30:00"), noon, city) is None
    assert schedule.quiet_until(at("2026-11-26 23:30:00"), None, city) is None


async def test_in_quiet_hours_only_the_dispatcher_hears_and_the_groups_at_the_end(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    await bot.set_language(dispatcher, "en")
    dispatcher = await person(bot, 50)
    # quiet from 22:00: one task due a second before, one due at the very start
    set_local(bot, clock, 0, 20, 59, 59)
    early = (await bot.post_task(dispatcher, ["Station", "Road"])).task
    clock.advance(1)
    late = (await bot.post_task(dispatcher, ["School", "Lane"])).task
    assert early is not None and late is not None
    await drain(bot)
    set_local(bot, clock, 0, 21, 59, 59)
    sent = await escalated(bot)
    assert {(m.chat_id, m.task_id) for m in sent} == {
        (dispatcher.id, None),
        (NORTH_GROUP, early.id),
    }
    set_local(bot, clock, 0, 22, 0, 0)
    (notice,) = await escalated(bot)  # quiet: the dispatcher only, told when the groups hear
    assert notice.chat_id == dispatcher.id and f"#{late.id}" in (notice.text or "")
    assert "quiet hours" in (notice.text or "") and "06:00" in (notice.text or "")
    # through the night the dispatcher's notices go on (rounds 2 and 3), the groups hear nothing
    set_local(bot, clock, 1, 5, 59, 59)
    night = await escalated(bot)
    assert night and all(m.chat_id == dispatcher.id for m in night)
    # a task cancelled in the night is not announced again in the morning
    await bot.cancel(dispatcher, early.id)
    await drain(bot)
    set_local(bot, clock, 1, 6, 0, 0)
    morning = await escalated(bot)
    assert [(m.chat_id, m.task_id) for m in morning] == [(NORTH_GROUP, late.id)]
    assert morning[0].key == f"escalate:{late.id}:3:groups"  # the latest round, once
    assert await escalated(bot) == []


async def test_a_task_taken_done_or_cancelled_drops_its_waiting_escalations(
    bot: Snowbot, clock: FakeClock
) -> None:
    _, dispatcher = await setup_city(bot)
    set_local(bot, clock, 1, 8, 0)
    taken = (await bot.post_task(dispatcher, ["Station", "Road"])).task
    cancelled = (await bot.post_task(dispatcher, ["School", "Lane"])).task
    done = (await bot.post_task(dispatcher, ["Station", "Road", "East"])).task
    waits = (await bot.post_task(dispatcher, ["Market", "Street"])).task
    assert taken and cancelled and done and waits
    await drain(bot)
    clock.advance(HOUR)
    assert await Sweeps(bot).escalations() == 8  # Telegram down: they all wait
    await bot.reply_later(99, dispatcher.id, "a reply that waits too")
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, taken.id)
    await bot.cancel(dispatcher, cancelled.id)
    await bot.complete(dispatcher, done.id)  # done without anyone accepting it
    left = await waiting(bot)
    keys = sorted(m.key for m in left)
    # only the task still waiting keeps its escalations; the reply stays
    assert [k for k in keys if k.startswith("escalate:")] == [
        f"escalate:{waits.id}:1",
        f"escalate:{waits.id}:1:groups",
    ]
    assert any(k.startswith("reply:99:") for k in keys)


async def test_twelve_waiting_tallies_collapse_to_the_newest(
    bot: Snowbot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    _, dispatcher = await setup_city(bot)
    caplog.set_level(logging.INFO, logger="snowbot.storm")
    sweeps = Sweeps(bot)
    every = bot.config.schedule.tally_every.total_seconds()
    assert await sweeps.tally_report() == 2
    # Telegram is down for six hours: announcements, replies and a tally each half hour
    await bot.post_task(dispatcher, ["Station", "Road", "2"])
    await bot.reply_later(7, REPORTS, "a reply in the report chat")
    for _ in range(11):
        clock.advance(every)
        assert await sweeps.tally_report() == 2
    held = await waiting(bot)
    tallies = [m for m in held if m.key.startswith("tally:")]
    # one tally per chat, the newest; nothing else was dropped
    newest = schedule.tally_key(
        schedule.tally_slot(
            clock() + 0.5, bot.config.schedule.tally_every, bot.config.city.timezone
        )
    )
    assert sorted((m.chat_id, m.key) for m in tallies) == [(HQ, newest), (REPORTS, newest)]
    assert [m.key for m in held if m.chat_id == NORTH_GROUP] == ["announce:1"]
    assert [m.key for m in held if m.key.startswith("reply:")] == [
        m.key for m in held if m.chat_id == REPORTS and not m.key.startswith("tally:")
    ]
    assert await bot.superseded_reports() == 22  # 11 older ones in each of two chats
    assert "dropped for newer ones" in caplog.text


async def test_three_missed_days_are_caught_up_in_order_once_each(
    bot: Snowbot, clock: FakeClock, config: Config
) -> None:
    await setup_city(bot)
    sweeps = Sweeps(bot)
    # day 1 (the incident's first): its summary at 20:00
    await bot.check_in(await person(bot, 10), *STATION)
    set_local(bot, clock, 0, 20, 0)
    assert await sweeps.daily_report() == 2
    await drain(bot)
    # the scheduler is down from 20:05 on day 1 until 21:00 on day 4 (no sweep runs),
    # while people keep checking in
    for day, people in ((1, 2), (2, 3), (3, 4)):
        set_local(bot, clock, day, 9, 0)
        for n in range(people):
            cadre = await person(bot, 100 * day + n)
            await bot.check_in(cadre, *RIVER)
            await bot.check_out(cadre)
    set_local(bot, clock, 3, 21, 0)
    async with opened_bot(bot.config, clock) as restarted:
        assert await Sweeps(restarted).daily_report() == 6  # three days, two chats
        sent = [m for m in await drain(restarted) if m.chat_id == REPORTS]
        assert [m.key for m in sent] == [
            schedule.daily_key(local(bot, clock() - d * 86400).date()) for d in (2, 1, 0)
        ]
        for text, (day, people, total) in zip(
            [m.text or "" for m in sent], ((2, 2, 3), (3, 3, 6), (4, 4, 10)), strict=True
        ):
            assert f"暴雪第{day}天" in text
            assert f"出动：{people} 人次（本次应急累计：{total} 人次）" in text
        assert await Sweeps(restarted).daily_report() == 0
    async with opened_bot(bot.config, clock) as again:
        assert await Sweeps(again).daily_report() == 0


async def test_the_tally_report_says_which_day_of_the_storm_it_is(
    bot: Snowbot, clock: FakeClock
) -> None:
    await setup_city(bot)
    await bot.check_in(await person(bot, 10), *STATION)  # day 1, 16:00
    set_local(bot, clock, 2, 0, 0, 0)  # the first second of day 3
    leader = await person(bot, 11)
    await bot.ask_check_in(leader, 5)
    await bot.check_in(leader, *RIVER)
    assert await Sweeps(bot).tally_report() == 2
    (report,) = [m.text or "" for m in await drain(bot) if m.chat_id == REPORTS]
    assert "暴雪第3天：今天出动 5 人次，累计 6 人次" in report
    # the last second of day 2 is day 2; the first of day 3, day 3
    started = (await bot.incident()).started_at
    tz = bot.config.city.timezone
    assert schedule.storm_day(started, clock() - 1, tz) == 2
    assert schedule.storm_day(started, clock(), tz) == 3


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("23-6", "schedule.quiet_hours: '23-6' is not a span of the clock like \"23:00-06:00\""),
        ("24:00-06:00", "is not a span of the clock"),
        ("06:00-06:00", "schedule.quiet_hours: '06:00-06:00' starts and ends at the same time"),
        (2300, "schedule.quiet_hours: 2300 must be a string in quotes"),
    ],
)
def test_bad_quiet_hours_are_one_line_naming_the_key(value: object, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"schedule": {"quiet_hours": value}}, base_dir=Path("."))
    assert said in str(refused.value) and "\n" not in str(refused.value)


def test_quiet_hours_and_escalate_max_in_the_config() -> None:
    schedule_ = parse_config(
        {"schedule": {"quiet_hours": "23:00-06:00", "escalate_max": 2}}, base_dir=Path(".")
    ).schedule
    assert schedule_.quiet_hours == (time(23, 0), time(6, 0)) and schedule_.escalate_max == 2
    defaults = parse_config({}, base_dir=Path(".")).schedule
    assert defaults.quiet_hours is None and defaults.escalate_max == 4
    assert (
        parse_config({"schedule": {"quiet_hours": ""}}, base_dir=Path(".")).schedule.quiet_hours
        is None
    )
    for bad in (-1, 31, 2.5, True, "4"):
        with pytest.raises(ConfigError) as refused:
            parse_config({"schedule": {"escalate_max": bad}}, base_dir=Path("."))
        assert str(refused.value).startswith("schedule.escalate_max: ")


async def test_a_restored_backup_replays_nothing_and_catches_up_only_what_was_not_sent(
    bot: Snowbot, clock: FakeClock, tmp_path: Path, engine: str
) -> None:
    sqlite_only(engine, "snowbot backup/restore (PostgreSQL's are pg_dump/pg_restore)")
    await setup_city(bot)
    await bot.incident()  # it begins at 16:00
    sweeps = Sweeps(bot)
    set_local(bot, clock, 0, 20, 0)
    assert await sweeps.daily_report() == 2
    await drain(bot)  # day 1's summary went out
    set_local(bot, clock, 1, 20, 0)
    assert await sweeps.daily_report() == 2  # day 2's waits (Telegram down) when backed up
    backup_database(bot.config, tmp_path / "copy.db")
    restored = replace(bot.config, database=tmp_path / "restored.db")
    await restore_database(restored, tmp_path / "copy.db")
    async with opened_bot(restored, clock) as again:
        assert await waiting(again) == []  # what waited then is not replayed
        assert await Sweeps(again).daily_report() == 2  # day 2 was never sent: it comes
        assert {m.key for m in await drain(again)} == {
            schedule.daily_key(local(bot, clock()).date())
        }


async def test_a_closing_report_owed_in_a_restored_backup_is_not_sent(
    bot: Snowbot, tmp_path: Path, engine: str
) -> None:
    sqlite_only(engine, "snowbot backup/restore (PostgreSQL's are pg_dump/pg_restore)")
    await bot.check_in(await person(bot, 10), *STATION)
    await bot.start_incident(await person(bot, 1), "Second snow")  # owed, not queued yet
    backup_database(bot.config, tmp_path / "copy.db")
    restored = replace(bot.config, database=tmp_path / "restored.db")
    await restore_database(restored, tmp_path / "copy.db")
    async with opened_bot(restored, bot.clock) as again:
        assert await again.queue_closing_reports() == 0
    assert await bot.queue_closing_reports() == 6  # where it was owed: 3 to 2 chats
