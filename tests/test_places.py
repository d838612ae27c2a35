"""SPEC §2 "Places" (issue 16) as worked examples, through the service on a real file:
a team takes places as a team, nobody is in two places, and people gone home hold none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from snowbot.domain.model import TaskStatus
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Person, Snowbot
from snowbot.service.sweeps import Sweeps
from snowbot.text.render import render_day, render_report, render_tally
from snowbot.text.texts import catalog
from tests.engines import NewDatabase, raw, unmigrated_store
from tests.harness import (
    NORTH_GROUP,
    STATION,
    FakeClock,
    drain,
    opened_store,
    person,
    recount,
    task_of,
    waiting,
)

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

HOUR = 3600.0


async def dispatcher(bot: Snowbot, user_id: int = 50) -> Person:
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, user_id, Role.DISPATCHER, None)
    return await person(bot, user_id)


async def on_duty(bot: Snowbot, user_id: int, headcount: int = 1) -> Person:
    someone = await person(bot, user_id)
    if headcount > 1:
        await bot.ask_check_in(someone, headcount)
    await bot.check_in(someone, *STATION)
    return someone


async def post(bot: Snowbot, boss: Person, street: str, needed: int) -> int:
    posted = await bot.post_task(boss, [*street.split(), str(needed)])
    return posted.task.id


async def test_a_team_of_20_fills_a_task_of_6_and_sends_14_elsewhere(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    six = await post(bot, boss, "Station Road", 6)
    twenty = await post(bot, boss, "School Lane", 20)
    leader = await on_duty(bot, 10, 20)
    taken = await bot.accept(leader, six)
    assert taken.moved == 6 and taken.task is not None
    assert (taken.task.accepted, taken.task.needed, taken.task.status) == (6, 6, "in_progress")
    assert taken.placement is not None and taken.placement.free == 14
    rest = await bot.accept(leader, twenty)  # the default: what the task needs, at most 14
    assert rest.moved == 14 and rest.task is not None and rest.task.accepted == 14
    placed = await bot.placement(leader)
    assert placed is not None and (placed.free, placed.held) == (0, ((six, 6), (twenty, 14)))
    tally = await bot.tally()
    assert (tally.on_duty, tally.assigned, tally.available) == (20, 20, 0)
    with pytest.raises(Refused) as again:
        await bot.accept(leader, twenty)
    assert again.value.key == "accept.already"


async def test_one_cadre_cannot_be_in_two_places(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    first = await post(bot, boss, "Station Road", 2)
    second = await post(bot, boss, "School Lane", 2)
    cadre = await on_duty(bot, 10)
    await bot.accept(cadre, first)
    with pytest.raises(Refused) as refused:
        await bot.accept(cadre, second)
    assert refused.value.key == "places.all_placed"
    assert refused.value.params == {"id": second, "count": 1, "held": f"#{first}×1"}
    assert (await task_of(bot, second)).accepted == 0
    # given back, the same person may go to the other task
    released = await bot.release(cadre, first)
    assert released.reopened and released.task is not None
    assert released.task.status == TaskStatus.OPEN and released.task.accepted == 0
    assert (await bot.accept(cadre, second)).moved == 1


async def test_accept_n_takes_n_and_is_bounded_by_need_and_team(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 6)
    leader = await on_duty(bot, 10, 5)
    assert (await bot.accept(leader, task, 2)).moved == 2
    assert (await bot.accept(leader, task, 9)).moved == 3  # the team has 3 more, no more
    placed = await bot.placement(leader)
    assert placed is not None and placed.held == ((task, 5),) and placed.free == 0
    other = await on_duty(bot, 11, 4)
    assert (await bot.accept(other, task, 4)).moved == 1  # the task needs one more
    with pytest.raises(Refused) as full:
        await bot.accept(other, task)
    assert full.value.key == "accept.already"
    third = await on_duty(bot, 12)
    with pytest.raises(Refused) as really_full:
        await bot.accept(third, task)
    assert really_full.value.key == "accept.full"


async def test_release_gives_back_part_or_all(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 6)
    leader = await on_duty(bot, 10, 8)
    await bot.accept(leader, task)
    part = await bot.release(leader, task, 2)
    assert part.moved == 2 and part.task is not None and part.task.accepted == 4
    assert part.task.status == TaskStatus.IN_PROGRESS and not part.reopened
    assert part.placement is not None and part.placement.free == 4
    rest = await bot.release(leader, task)
    assert rest.moved == 4 and rest.reopened
    assert rest.task is not None and (rest.task.accepted, rest.task.status) == (0, "open")
    with pytest.raises(Refused) as nothing:
        await bot.release(leader, task)
    assert nothing.value.key == "places.not_holding"
    stranger = await person(bot, 13)
    with pytest.raises(Refused) as off_duty:
        await bot.release(stranger, task)
    assert off_duty.value.key == "places.not_holding"
    with pytest.raises(Refused) as unknown:
        await bot.release(leader, 999)
    assert unknown.value.key == "task.unknown"


async def test_checkout_gives_places_back_and_a_task_with_nobody_is_open_and_announced(
    bot: Snowbot,
) -> None:
    boss = await dispatcher(bot)
    await bot.bind(boss, NORTH_GROUP, "North")
    alone = await post(bot, boss, "Station Road", 3)
    shared = await post(bot, boss, "School Lane", 3)
    await drain(bot)  # the first announcements
    leader = await on_duty(bot, 10, 4)
    cadre = await on_duty(bot, 11)
    await bot.accept(leader, alone, 2)
    await bot.accept(leader, shared, 2)
    await bot.accept(cadre, shared)
    out = await bot.check_out(leader)
    assert out.gave_back == [alone, shared]
    left = await task_of(bot, alone)
    kept = await task_of(bot, shared)
    assert left is not None and (left.accepted, left.status) == (0, TaskStatus.OPEN)
    assert kept is not None and (kept.accepted, kept.status) == (1, TaskStatus.IN_PROGRESS)
    # the task left with nobody: its dispatcher is told and the group sees it again
    told = await waiting(bot, boss.id)
    assert len(told) == 1 and f"#{alone}" in (told[0].text or "")
    (again,) = await waiting(bot, NORTH_GROUP)
    assert (again.task_id, again.template) == (alone, "places.reannounce")
    tally = await bot.tally()
    assert (tally.on_duty, tally.assigned, tally.available) == (1, 1, 0)
    assert {k: tally.as_json()[k] for k in ("on_duty", "assigned", "available")} == {
        k: recount(bot.config.address)[k] for k in ("on_duty", "assigned", "available")
    }


async def test_a_shift_closed_by_max_shift_gives_its_places_back(
    bot: Snowbot, clock: FakeClock
) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 3)
    leader = await on_duty(bot, 10, 3)
    await bot.accept(leader, task)
    await drain(bot)
    clock.advance(bot.config.schedule.max_shift.total_seconds())
    assert await Sweeps(bot).welfare() == (0, 1)
    back = await task_of(bot, task)
    assert back is not None and (back.accepted, back.status) == (0, TaskStatus.OPEN)
    messages = await drain(bot)
    assert any(m.chat_id == boss.id and f"#{task}" in (m.text or "") for m in messages)
    (closed,) = [m for m in messages if m.chat_id == leader.id]
    assert catalog("zh")("places.gave_back", tasks=f"#{task}") in (closed.text or "")
    assert (await bot.tally()).assigned == 0


async def test_done_frees_every_place_on_the_task(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 5)
    other = await post(bot, boss, "School Lane", 5)
    leader = await on_duty(bot, 10, 6)
    cadre = await on_duty(bot, 11)
    await bot.accept(leader, task, 4)
    await bot.accept(cadre, task)
    await bot.accept(leader, other, 2)
    done = await bot.complete(cadre, task)
    assert done.task.status == TaskStatus.DONE and done.task.accepted == 5  # the record stays
    placed = await bot.placement(leader)
    assert placed is not None and placed.held == ((other, 2),) and placed.free == 4
    assert (await bot.placement(cadre)).free == 1
    assert (await bot.tally()).assigned == 2
    cancelled = await bot.cancel(boss, other)
    assert cancelled.task.accepted == 2
    assert (await bot.tally()).assigned == 0
    with pytest.raises(Refused) as closed:
        await bot.accept(leader, task)
    assert closed.value.key == "task.is_done"


async def test_only_people_holding_places_report_done(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 2)
    cadre = await on_duty(bot, 10)
    await bot.accept(cadre, task)
    await bot.release(cadre, task)
    with pytest.raises(Refused) as gave_back:
        await bot.complete(cadre, task)
    assert gave_back.value.key == "done.not_yours"
    await bot.accept(cadre, task)
    assert (await bot.complete(cadre, task)).task.status == TaskStatus.DONE


async def test_accepting_off_duty_is_refused_first(bot: Snowbot) -> None:
    cadre = await person(bot, 10)
    for task_id in (1, 999):
        with pytest.raises(Refused) as refused:
            await bot.accept(cadre, task_id)
        assert refused.value.key == "accept.not_on_duty"


async def test_twenty_accepts_at_once_from_a_leader_and_singles_hold_both_bounds(
    bot: Snowbot,
) -> None:
    boss = await dispatcher(bot)
    tasks = [await post(bot, boss, street, 4) for street in ("Station Road", "School Lane")]
    leader = await on_duty(bot, 10, 6)
    singles = [await on_duty(bot, 100 + i) for i in range(10)]
    presses = [bot.accept(leader, tasks[i % 2]) for i in range(10)]
    presses += [bot.accept(s, tasks[i % 2]) for i, s in enumerate(singles)]
    results = await asyncio.gather(*presses, return_exceptions=True)
    taken = sum(r.moved for r in results if not isinstance(r, BaseException))
    assert taken == 8  # both tasks full, and never more
    for task_id in tasks:
        task = await task_of(bot, task_id)
        assert task is not None and task.accepted == 4
    placed = await bot.placement(leader)
    assert placed is not None and placed.placed <= 6
    refusals = {r.key for r in results if isinstance(r, Refused)}
    assert refusals <= {"accept.full", "accept.already", "places.all_placed"}
    assert_bounds(bot.config.address)


async def test_two_connections_racing_hold_both_bounds(tmp_path: Path, bot: Snowbot) -> None:
    """Two processes' worth of connections on one file: the database, not Python, decides."""
    boss = await dispatcher(bot)
    tasks = [await post(bot, boss, street, 3) for street in ("Station Road", "School Lane")]
    await on_duty(bot, 10, 4)
    for i in range(10):
        await on_duty(bot, 100 + i)
    incident = (await bot.incident()).id
    async with opened_store(bot.config.address) as other:
        presses = [
            store.take_places(incident, tasks[i % 2], user, None, 1.0)
            for i, (store, user) in enumerate(
                [(bot.store, 10), (other, 10)] * 5 + [(other, 100 + i) for i in range(10)]
            )
        ]
        results = await asyncio.gather(*presses)
    assert sum(r.moved for r in results) == 6
    assert_bounds(bot.config.address)


def assert_bounds(database: Path | str) -> None:
    """The invariants, read with plain SQL from the places rows themselves (an ended
    incident's tasks keep their counts as a record, and hold no places)."""
    with raw(database) as db:
        over_task = db.execute(
            "SELECT t.id FROM tasks t LEFT JOIN places p ON p.task_id = t.id "
            "WHERE t.status IN ('open', 'in_progress') "
            "AND t.incident_id = (SELECT id FROM incidents WHERE ended_at IS NULL) GROUP BY t.id "
            "HAVING COALESCE(SUM(p.count), 0) > t.needed "
            "OR COALESCE(SUM(p.count), 0) <> t.accepted"
        ).fetchall()
        over_shift = db.execute(
            "SELECT sh.id FROM shifts sh LEFT JOIN places p ON p.shift_id = sh.id "
            "GROUP BY sh.id HAVING COALESCE(SUM(p.count), 0) > sh.headcount "
            "OR COALESCE(SUM(p.count), 0) <> sh.placed "
            "OR (sh.ended_at IS NOT NULL AND COALESCE(SUM(p.count), 0) > 0)"
        ).fetchall()
    assert over_task == [] and over_shift == []


async def test_migration_makes_each_accept_one_place(new_database: NewDatabase) -> None:
    """A database of version 7: accepts by people on duty become places; the rest (a
    second task of one person, an accept by someone gone home) are given back."""
    path = new_database("old.db")
    store = await unmigrated_store(path)
    try:
        await store.migrate(7)  # the rows below are written as version 7 wrote them
    finally:
        await store.close()
    a, b, done = 1, 2, 3
    with raw(path) as db:  # 12 went home; accepts as version 7 made them
        for sql in (
            "INSERT INTO districts (id, name) VALUES (1, 'North')",
            "INSERT INTO streets (id, district_id, name, lat, lon) VALUES (1, 1, 'S', 50, 127)",
            "INSERT INTO incidents (id, name, started_at) VALUES (1, 'storm', 1.0)",
        ):
            db.execute(sql)
        for uid in (10, 11, 12):
            db.execute(
                "INSERT INTO users (id, name, registered, created_at) VALUES (?, ?, 1, 1.0)",
                (uid, f"u{uid}"),
            )
            db.execute(
                "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
                "lat, lon, started_at) VALUES (1, ?, 1, 1, 1, 50, 127, 1.0)",
                (uid,),
            )
        db.execute("UPDATE shifts SET ended_at = 2.0 WHERE user_id = 12")
        for task, needed, accepted, status in (
            (a, 3, 3, "in_progress"),
            (b, 2, 1, "in_progress"),
            (done, 1, 1, "done"),
        ):
            db.execute(
                "INSERT INTO tasks (id, incident_id, street_id, needed, accepted, status, "
                "created_by, created_at) VALUES (?, 1, 1, ?, ?, ?, 1, 2.0)",
                (task, needed, accepted, status),
            )
        for task, user, at in ((a, 10, 3.0), (a, 11, 3.0), (a, 12, 3.0), (b, 10, 4.0)):
            db.execute(
                "INSERT INTO task_accepts (task_id, user_id, accepted_at) VALUES (?, ?, ?)",
                (task, user, at),
            )
        if isinstance(path, Path):
            db.commit()
    async with opened_store(path) as migrated:
        got = {t: await migrated.get_task(1, t) for t in (a, b, done)}
        assert all(task is not None for task in got.values())
        assert (got[a].accepted, got[a].status) == (2, "in_progress")
        assert (got[b].accepted, got[b].status) == (0, "open")
        assert (got[done].accepted, got[done].status) == (1, "done")
        placed = await migrated.placement(1, 10)
        assert placed is not None and placed.held == ((a, 1),) and placed.free == 0
    assert_bounds(path)


async def test_reports_and_the_day_summary_show_assigned_and_available(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 4)
    leader = await on_duty(bot, 10, 7)
    await on_duty(bot, 11)
    await bot.accept(leader, task, 3)
    tally = await bot.tally()
    assert (tally.on_duty, tally.assigned, tally.available) == (8, 3, 5)
    tz = bot.config.city.timezone
    for lang in ("en", "zh"):
        t = catalog(lang)
        line = t("places.tally", assigned=3, available=5)
        assert line in render_tally(t, tally, tz=tz)
        assert line in render_report(t, tally, tz)
        day = await bot.day_counts(tally.at - 86400, tally.at)
        summary = render_day(t, tally, day, tally.at - 86400, tally.at, tz)
        assert t("places.daily", on_duty=8, assigned=3, available=5) in summary
    shown = tally.as_json()
    assert list(shown)[:5] == ["incident", "person_times", "on_duty", "assigned", "available"]
    assert (shown["assigned"], shown["available"]) == (3, 5)


async def test_the_csv_shows_places_taken_and_held(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 4)
    leader = await on_duty(bot, 10, 7)
    await bot.accept(leader, task, 3)
    files = await bot.export(await person(bot, 1))
    shifts = files["shifts.csv"].decode("utf-8-sig").splitlines()
    tasks = files["tasks.csv"].decode("utf-8-sig").splitlines()
    header, row = shifts[0].split(","), shifts[1].split(",")
    assert header[-2:] == ["placed", "unit"] and row[header.index("placed")] == "3"
    assert tasks[1].split(",")[3:6] == ["4", "3", "in_progress"]


async def test_a_new_incident_ends_the_old_ones_places(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 4)
    leader = await on_duty(bot, 10, 5)
    await bot.accept(leader, task)
    await bot.start_incident(await person(bot, 1), "Second snow")
    assert_bounds(bot.config.address)
    assert await bot.placement(leader) is None
    assert (await bot.tally()).assigned == 0


async def test_an_update_delivered_again_moves_no_places_twice(bot: Snowbot) -> None:
    """SPEC §7: "/accept 12 2" handled, then delivered again after a crash (before it was
    marked seen), takes nothing more; the same for "/release 12 1"."""
    boss = await dispatcher(bot)
    task = await post(bot, boss, "Station Road", 6)
    leader = await on_duty(bot, 10, 5)
    assert (await bot.accept(leader, task, 2, origin=7001)).moved == 2
    with pytest.raises(Refused) as again:
        await bot.accept(leader, task, 2, origin=7001)
    assert again.value.key == "accept.already"
    assert (await task_of(bot, task)).accepted == 2
    assert (await bot.accept(leader, task, 2, origin=7002)).moved == 2  # a new update
    assert (await bot.release(leader, task, 1, origin=7003)).moved == 1
    with pytest.raises(Refused) as released:
        await bot.release(leader, task, 1, origin=7003)
    assert released.value.key == "places.repeated"
    assert (await task_of(bot, task)).accepted == 3
    # a refused update is not kept: asked again, it is refused again for what it is
    other = await post(bot, boss, "School Lane", 1)
    await bot.accept(await on_duty(bot, 11), other)
    late = await on_duty(bot, 12)
    for _ in range(2):
        with pytest.raises(Refused) as full:
            await bot.accept(late, other, 1, origin=7005)
        assert full.value.key == "accept.full"
