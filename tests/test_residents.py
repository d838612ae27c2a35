"""Residents' reports (群众求助) through the service, on a real file with a FakeClock: what
joins what (150 m, 6 hours, both sides), the hourly limit held in the database, a
cancelled task reopening its report, and the counts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.residents import decode, encode, report_markup
from snowbot.domain.refusals import Refused
from snowbot.domain.residents import ReportOutcome, ReportStatus
from snowbot.domain.roles import Role
from snowbot.service import Snowbot
from snowbot.service.sweeps import Sweeps
from snowbot.settings.config import Config
from snowbot.text.render import render_resident_reports
from snowbot.text.texts import catalog
from tests.harness import STATION, FakeClock, drain, opened_bot, person, said, task_of, waiting

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


# metres north of a point, in degrees of latitude (the haversine's sphere: 6371 km)
METRE = 1 / 111_195


def markup(report_id: int, lang: str) -> str:
    return f'{{"inline_keyboard": [[{{"text": "x", "callback_data": "r1|m|{report_id}"}}]]}}'


async def report(bot: Snowbot, user_id: int, lat: float, lon: float, text: str = "") -> object:
    who = await person(bot, user_id)
    await bot.ask_report(who, text, private=True)
    made = await bot.report_at(who, lat, lon, markup, None)
    assert made is not None
    return made


async def dispatcher(bot: Snowbot, user_id: int = 50) -> None:
    coordinator = await person(bot, 1)
    await person(bot, user_id)
    await bot.grant(coordinator, user_id, Role.DISPATCHER, "North")


async def test_a_report_within_150_m_of_a_live_one_joins_it_and_beyond_makes_another(
    bot: Snowbot,
) -> None:
    lat, lon = STATION
    first = await report(bot, 70, lat, lon, "snow up to the knee")
    assert first.outcome == ReportOutcome.NEW and first.report.street == "Station Road"
    joined = await report(bot, 71, lat + 140 * METRE, lon, "a car is stuck")
    assert joined.outcome == ReportOutcome.JOINED
    assert (joined.report.id, joined.report.reporters) == (first.report.id, 2)
    assert joined.report.text == "snow up to the knee"  # the first words stay
    again = await report(bot, 71, lat, lon)  # the same person, the same spot: nothing new
    assert again.outcome == ReportOutcome.ALREADY and again.report.reporters == 2
    beyond = await report(bot, 72, lat + 160 * METRE, lon)
    assert beyond.outcome == ReportOutcome.NEW and beyond.report.id != first.report.id


async def test_a_report_joins_one_of_the_last_six_hours_only(
    bot: Snowbot, clock: FakeClock
) -> None:
    lat, lon = STATION
    first = await report(bot, 70, lat, lon)
    clock.advance(6 * 3600)  # exactly six hours: still joins
    assert (await report(bot, 71, lat, lon)).outcome == ReportOutcome.JOINED
    clock.advance(1)
    later = await report(bot, 72, lat, lon)
    assert later.outcome == ReportOutcome.NEW and later.report.id != first.report.id


async def test_the_hourly_limit_is_held_when_the_location_comes(
    bot: Snowbot, clock: FakeClock
) -> None:
    lat, lon = STATION
    resident = await person(bot, 70)
    for k in range(4):
        await report(bot, 70, lat + k * 500 * METRE, lon)
    # the fifth /report is allowed; two more locations race in before it lands … the second
    # location finds no /report waiting and is no report at all
    await bot.ask_report(resident, "", private=True)
    fifth = await bot.report_at(resident, lat + 2500 * METRE, lon, markup, None)
    assert fifth is not None and fifth.outcome == ReportOutcome.NEW
    assert await bot.report_at(resident, lat + 3000 * METRE, lon, markup, None) is None
    with pytest.raises(Refused) as refused:
        await bot.ask_report(resident, "", private=True)
    assert refused.value.key == "residents.limit"
    # the limit is the database's too: a /report that waited from before the limit was met
    # is refused when its location comes, and is used up (the next location is a check-in)
    await bot.store.wait_for_report(resident.id, "", None, clock())
    with pytest.raises(Refused) as refused:
        await bot.report_at(resident, lat + 3500 * METRE, lon, markup, None)
    assert refused.value.key == "residents.limit"
    assert not await bot.waiting_report(resident)
    assert (await bot.tally()).reports.open == 5


async def test_make_task_links_the_task_and_a_cancelled_task_reopens_the_report(
    bot: Snowbot, clock: FakeClock
) -> None:
    await dispatcher(bot)
    lat, lon = STATION
    made = await report(bot, 70, lat, lon, "ice at the school gate")
    await report(bot, 71, lat, lon)
    desk = await person(bot, 50)
    decided = await bot.task_from_report(desk, made.report.id)
    assert decided.task is not None and decided.task.needed == bot.config.residents.task_needed
    assert decided.task.street == "Station Road" and "#R1" in decided.task.note
    assert decided.report is not None and decided.report.status == ReportStatus.TASKED
    told = {m.chat_id: m.text for m in await waiting(bot) if m.key.startswith("report-tasked")}
    assert set(told) == {70, 71} and all(f"#{decided.task.id}" in t for t in told.values())
    with pytest.raises(Refused) as refused:  # a second press: already tasked
        await bot.task_from_report(desk, made.report.id)
    assert refused.value.key == "residents.is_tasked"
    await bot.cancel(desk, decided.task.id)
    assert (await bot.tally()).reports.open == 1
    again = await bot.task_from_report(desk, made.report.id)
    assert again.task is not None and again.task.id != decided.task.id
    counts = (await bot.tally()).reports
    assert (counts.open, counts.tasked, counts.resolved, counts.dismissed) == (0, 1, 0, 0)

    await drain(bot)
    clock.advance(1800)
    await bot.complete(desk, again.task.id)
    resolved = [m for m in await waiting(bot) if m.key.startswith("report-resolved")]
    assert sorted(m.chat_id for m in resolved) == [70, 71]
    tally = await bot.tally()
    assert tally.reports.resolved == 1 and tally.median_report_wait == 1800
    stored = await task_of(bot, again.task.id)
    assert stored is not None and stored.status == "done"


async def test_a_dispatcher_of_another_district_or_a_cadre_cannot_decide(bot: Snowbot) -> None:
    await dispatcher(bot)
    coordinator = await person(bot, 1)
    await person(bot, 51)
    await bot.grant(coordinator, 51, Role.DISPATCHER, "South")
    made = await report(bot, 70, *STATION)
    for who, key in ((51, "refuse.other_district"), (10, "refuse.role")):
        with pytest.raises(Refused) as refused:
            await bot.dismiss_report(await person(bot, who), made.report.id, block=True)
        assert refused.value.key == key
    assert (await bot.tally()).reports.open == 1


async def test_dismiss_and_block(bot: Snowbot) -> None:
    await dispatcher(bot)
    desk = await person(bot, 50)
    made = await report(bot, 70, *STATION)
    await bot.dismiss_report(desk, made.report.id, block=False)
    with pytest.raises(Refused) as refused:
        await bot.task_from_report(desk, made.report.id)
    assert refused.value.key == "residents.is_dismissed"
    # a plain Dismiss does not block; blocking afterwards (the confirmation) does
    again = await report(bot, 70, *STATION)
    assert again.outcome == ReportOutcome.NEW
    await bot.dismiss_report(desk, made.report.id, block=True)
    with pytest.raises(Refused) as refused:
        await bot.ask_report(await person(bot, 70), "", private=True)
    assert refused.value.key == "residents.blocked"
    assert (await bot.tally()).reports.dismissed == 1


async def test_the_same_update_again_finds_its_report(bot: Snowbot) -> None:
    """An update handled again after a crash (before it was marked handled) answers the same."""
    resident = await person(bot, 70)
    await bot.ask_report(resident, "", private=True)
    first = await bot.report_at(resident, *STATION, markup, origin=4242)
    again = await bot.report_at(resident, *STATION, markup, origin=4242)
    assert first is not None and again is not None and again.report is not None
    assert (again.outcome, again.report.id) == (ReportOutcome.NEW, first.report.id)
    assert len([m for m in await waiting(bot) if m.key.startswith("report:")]) >= 1
    assert (await bot.tally()).reports.open == 1
    # without a /report waiting and from another update, a location is no report
    assert await bot.report_at(resident, *STATION, markup, origin=4243) is None


async def test_the_daily_summary_shows_the_reports_and_the_median_wait(
    config: Config, clock: FakeClock, city_csv: Path
) -> None:
    config = replace(config, schedule=replace(config.schedule, report_chats=(-500,)))
    async with opened_bot(config, clock, city_csv) as bot:
        # no reports yet: the summary says nothing of them
        assert render_resident_reports(catalog("zh"), await bot.tally()) == ""
        desk = await person(bot, 1)  # the config's coordinator decides
        lat, lon = STATION
        spots = [(lat + k * 500 * METRE, lon) for k in range(4)]
        made = [await report(bot, 70 + k, *spot) for k, spot in enumerate(spots)]
        tasks = [await bot.task_from_report(desk, m.report.id) for m in made[:2]]
        await bot.dismiss_report(desk, made[2].report.id, block=False)
        for task, minutes in zip(tasks, (20, 40), strict=True):
            clock.advance(minutes * 60)
            assert task.task is not None
            await bot.complete(desk, task.task.id)  # after 20 and after 60 minutes
        clock.advance(3 * 3600)  # 16:00 + 1 h + 3 h: the summary at 20:00 city time
        assert await Sweeps(bot).daily_report() == 1
        (summary,) = [m for m in await drain(bot) if m.key.startswith("daily")]
        assert said(
            "residents.daily",
            "zh",
            open=1,
            tasked=0,
            resolved=2,
            dismissed=1,
            median="40 分钟",
        ) in (summary.text or "")


@given(st.text(max_size=80))
def test_any_button_data_is_understood_or_refused(data: str) -> None:
    press = decode(data)
    if press is not None:
        assert encode(press.action, press.report_id) == data and len(data.encode()) <= 64


def test_report_buttons_fit_telegram() -> None:
    for lang in ("zh", "en"):
        rows = json.loads(report_markup(999_999_999, lang))["inline_keyboard"]
        datas = [b["callback_data"] for row in rows for b in row]
        assert all(decode(d) is not None and len(d.encode()) <= 64 for d in datas)


async def test_the_residents_word_is_queued_with_the_task_done_not_after_it(
    bot: Snowbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash right after the commit that marks the task done (here: the queue after it
    fails) cannot lose the residents' word: it was queued in that same transaction."""
    desk = await person(bot, 1)
    made = await report(bot, 70, *STATION)
    task = (await bot.task_from_report(desk, made.report.id)).task
    assert task is not None
    await drain(bot)

    async def crash(*_: object) -> int:
        raise RuntimeError("killed after the commit")

    monkeypatch.setattr(bot.store, "enqueue", crash)
    with pytest.raises(RuntimeError):
        await bot.complete(desk, task.id)
    monkeypatch.undo()
    told = [m for m in await waiting(bot) if m.key.startswith("report-resolved")]
    assert [m.chat_id for m in told] == [70]
