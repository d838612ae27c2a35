"""Rules of the service that one line could quietly break: what expires and when, what is
kept bounded, who may do what, what a successful action really changes. Through the domain
service on a real file with a settable clock: no waiting."""

from __future__ import annotations

import csv
import io

import pytest

from snowbot.domain import limits, schedule
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Person, Posted, Proposed, Snowbot
from snowbot.service.sweeps import Sweeps
from snowbot.settings.config import Config
from tests.engines import NewDatabase, with_database
from tests.harness import FAR, RIVER, STATION, FakeClock, opened_bot, person

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


async def dispatcher(bot: Snowbot, user_id: int = 50, district: str | None = None) -> Person:
    await bot.grant(await person(bot, 1), user_id, Role.DISPATCHER, district)
    return await person(bot, user_id)


async def test_a_team_size_waits_an_hour_for_its_location_and_no_longer(
    bot: Snowbot, clock: FakeClock
) -> None:
    on_time, late = await person(bot, 10), await person(bot, 11)
    await bot.ask_check_in(on_time, 5)
    await bot.ask_check_in(late, 7)
    clock.advance(limits.PENDING_CHECKIN_SECONDS)  # the last moment it still counts
    assert (await bot.check_in(on_time, *STATION)).shift.headcount == 5
    clock.advance(1)
    assert (await bot.check_in(late, *STATION)).shift.headcount == 1
    assert (await bot.tally()).person_times == 6


async def test_a_team_size_is_used_once(bot: Snowbot, clock: FakeClock) -> None:
    leader = await person(bot, 10)
    await bot.ask_check_in(leader, 5)
    await bot.check_in(leader, *STATION)
    await bot.check_out(leader)
    clock.advance(bot.config.schedule.rejoin_window.total_seconds() + 1)
    assert (await bot.check_in(leader, *STATION)).shift.headcount == 1


async def test_the_record_of_handled_updates_is_kept_two_days_then_swept(
    bot: Snowbot, clock: FakeClock
) -> None:
    await bot.keep_updates([(7, '{"update_id": 7}'), (8, '{"update_id": 8}')])
    await bot.handled(7)
    clock.advance(limits.SEEN_UPDATES_SECONDS - 1)
    await Sweeps(bot).everything()  # the first sweep prunes: nothing is two days old yet
    assert await bot.already_handled(7)
    assert await bot.unhandled_updates() == ['{"update_id": 8}']
    clock.advance(2)
    # two days old now, but pruned only once an hour, not at every sweep
    await Sweeps(bot).everything()
    assert await bot.already_handled(7)
    clock.advance(schedule.PRUNE_EVERY_SECONDS - 3)  # a second short of the hour
    await Sweeps(bot).everything()
    assert await bot.already_handled(7)
    clock.advance(1)
    await Sweeps(bot).everything()
    assert not await bot.already_handled(7)
    assert await bot.unhandled_updates() == []


async def test_a_live_location_moves_a_shift_only_within_reach(bot: Snowbot) -> None:
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    station = await bot.on_duty(cadre)
    assert station is not None
    for lat, lon in (FAR, (0.0, 0.0), (91.0, 127.5)):
        assert not await bot.move(cadre, lat, lon)
        assert await bot.on_duty(cadre) == station
    assert await bot.move(cadre, *RIVER)
    moved = await bot.on_duty(cadre)
    assert moved is not None and (moved.lat, moved.lon) == RIVER
    assert moved.street_id != station.street_id
    # off duty, a live location opens nothing
    await bot.check_out(cadre)
    assert not await bot.move(cadre, *STATION)
    assert await bot.on_duty(cadre) is None


async def test_only_a_dispatcher_for_the_whole_city_binds_a_group_to_all(bot: Snowbot) -> None:
    north = await dispatcher(bot, 60, "North")
    with pytest.raises(Refused) as refused:
        await bot.bind(north, -100, "all", "HQ")
    assert refused.value.key == "bind.only_own"
    with pytest.raises(Refused) as other:
        await bot.bind(north, -100, "South", "South crews")
    assert other.value.key == "refuse.other_district"
    assert await bot.report_chats() == [] and await bot.chats_for_district(2) == []
    assert await bot.bind(north, -100, "North", "North crews") == "North"
    with pytest.raises(Refused) as unknown:
        await bot.bind(north, -100, "Atlantis", "?")
    assert unknown.value.key == "refuse.unknown_district"
    citywide = await dispatcher(bot, 61)
    for chat, word in ((-200, "all"), (-201, "全部"), (-202, "全市")):
        assert await bot.bind(citywide, chat, word, "HQ") is None
    assert sorted(await bot.report_chats()) == [-202, -201, -200]


@pytest.mark.parametrize("role", [Role.CADRE, Role.DISPATCHER])
async def test_only_a_coordinator_grants_or_revokes(bot: Snowbot, role: Role) -> None:
    actor = await person(bot, 10)
    if role == Role.DISPATCHER:
        actor = await dispatcher(bot, 10)
    for act in (
        bot.grant(actor, 20, Role.DISPATCHER, None),
        bot.grant(actor, 10, Role.COORDINATOR, None),
        bot.revoke(actor, 50),
    ):
        with pytest.raises(Refused) as refused:
            await act
        assert refused.value.key == "refuse.role"
        assert refused.value.params == {"role": Role.COORDINATOR}
    assert (await person(bot, 20)).role == Role.CADRE
    assert (await person(bot, 10)).role == role


async def test_a_done_note_of_500_characters_is_kept_and_longer_is_refused(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    first = (await bot.post_task(boss, ["Station", "Road"])).task  # type: ignore[union-attr]
    second = (await bot.post_task(boss, ["School", "Lane"])).task  # type: ignore[union-attr]
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, first.id)
    with pytest.raises(Refused) as refused:
        await bot.complete(cadre, first.id, "x" * (limits.MAX_NOTE + 1))
    assert refused.value.key == "refuse.too_long"
    assert (await bot.tally()).tasks["in_progress"] == 1
    done = await bot.complete(cadre, first.id, "y" * limits.MAX_NOTE)
    assert done.task.note == "y" * limits.MAX_NOTE
    # a dispatcher closing one they did not join is held to the same limit
    with pytest.raises(Refused) as theirs:
        await bot.complete(boss, second.id, "z" * (limits.MAX_NOTE + 1))
    assert theirs.value.key == "refuse.too_long"
    assert (await bot.tally()).tasks == {"open": 1, "in_progress": 0, "done": 1, "cancelled": 0}


async def test_a_cancel_takes_the_task_off_every_list(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = (await bot.post_task(boss, ["Station", "Road", "2"])).task  # type: ignore[union-attr]
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, task.id)
    cancelled = await bot.cancel(boss, task.id)
    assert cancelled.task.status == "cancelled"
    tally = await bot.tally()
    assert tally.tasks == {"open": 0, "in_progress": 0, "done": 0, "cancelled": 1}
    assert [u.open_task for u in tally.unserved_streets if u.street == "Station Road"] == [None]
    assert await bot.tasks_for(cadre) == []
    latecomer = await person(bot, 11)
    await bot.check_in(latecomer, *STATION)
    for act in (bot.accept(latecomer, task.id), bot.complete(cadre, task.id)):
        with pytest.raises(Refused) as refused:
            await act
        assert refused.value.key == "task.is_cancelled"
    with pytest.raises(Refused) as twice:
        await bot.cancel(boss, task.id)
    assert twice.value.key == "task.is_cancelled"


async def test_what_a_spreadsheet_would_run_is_exported_as_text(
    bot: Snowbot, clock: FakeClock
) -> None:
    notes = ["=HYPERLINK(1)", "+1+1", "-2-2", "@SUM(A1)"]
    for note in notes:
        await bot.post_task(await person(bot, 1), ["Station", "Road", "1", note])
        clock.advance(3600)  # not the same task sent twice
    await bot.check_in(await bot.meet(10, "=cmd|' /C calc'!A0", None, None), *STATION)
    files = await bot.export()
    tasks = list(csv.DictReader(io.StringIO(files["tasks.csv"].decode())))
    assert [t["note"] for t in tasks] == ["'" + n for n in notes]
    (shift,) = csv.DictReader(io.StringIO(files["shifts.csv"].decode()))
    assert shift["name"] == "'=cmd|' /C calc'!A0"
    assert shift["lat"] == "50.2401" and shift["headcount"] == "1"  # numbers are left alone


async def test_unknown_tasks_and_an_empty_city_are_refused_by_name(
    bot: Snowbot, config: Config, clock: FakeClock, new_database: NewDatabase
) -> None:
    boss = await dispatcher(bot)
    await bot.check_in(boss, *STATION)
    for act in (bot.accept(boss, 999), bot.complete(boss, 999), bot.cancel(boss, 999)):
        with pytest.raises(Refused) as unknown:
            await act
        assert unknown.value.key == "task.unknown" and unknown.value.params["id"] == 999
    empty = with_database(config, new_database("empty.db"))
    async with opened_bot(empty, clock) as no_streets:
        with pytest.raises(Refused) as refused:
            await no_streets.check_in(await person(no_streets, 10), *STATION)
        assert refused.value.key == "checkin.no_streets"


async def test_a_check_in_offers_only_tasks_that_still_want_people(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    full = (await bot.post_task(boss, ["Station", "Road"])).task  # type: ignore[union-attr]
    wanting = (await bot.post_task(boss, ["School", "Lane", "2"])).task  # type: ignore[union-attr]
    first = await person(bot, 10)
    await bot.check_in(first, *STATION)
    await bot.accept(first, full.id)
    offered = await bot.check_in(await person(bot, 11), *STATION)
    assert [n.task.id for n in offered.nearby] == [wanting.id]


async def test_a_newtask_handled_again_finds_its_task_and_asks_nothing(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    first = await bot.post_task(boss, ["Station", "Road", "2"], origin=77)
    again = await bot.post_task(boss, ["Station", "Road", "2"], origin=77)  # after a crash
    assert isinstance(first, Posted) and isinstance(again, Posted)
    assert again.task.id == first.task.id
    twin = await bot.post_task(boss, ["!", "Station", "Road", "2"], origin=78)  # sent twice
    assert isinstance(twin, Proposed) and twin.duplicate_of == first.task
    second = await bot.post_proposal(boss, twin.id)  # "post it anyway": still urgent
    assert second.task.id != first.task.id and second.task.urgent
