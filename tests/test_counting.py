"""SPEC §2 counting rules as worked examples, through the domain service and a real file."""

from __future__ import annotations

import pytest

from snowbot.domain.model import CheckInKind, TaskStatus
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Snowbot
from tests.harness import RIVER, STATION, FakeClock, person, recount, task_of

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


async def dispatcher(bot: Snowbot, user_id: int = 50) -> object:
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, user_id, Role.DISPATCHER, None)
    return await person(bot, user_id)


async def test_team_of_25_plus_one_cadre_is_26_person_times(bot: Snowbot) -> None:
    leader = await person(bot, 10)
    cadre = await person(bot, 11)
    await bot.ask_check_in(leader, 25)
    opened = await bot.check_in(leader, *STATION)
    assert opened.kind == CheckInKind.OPENED and opened.shift.headcount == 25
    assert opened.street.name == "Station Road"
    await bot.check_in(cadre, *RIVER)
    tally = await bot.tally()
    assert (tally.person_times, tally.on_duty, tally.people) == (26, 26, 2)
    by_district = {d.district: d.person_times for d in tally.districts}
    assert by_district == {"North": 25, "South": 1}


async def test_checking_in_again_while_on_duty_adds_nothing(bot: Snowbot) -> None:
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    again = await bot.check_in(cadre, *RIVER)
    assert again.kind == CheckInKind.UPDATED
    assert again.street.name == "River Road"
    tally = await bot.tally()
    assert (tally.person_times, tally.on_duty) == (1, 1)


async def test_rejoin_inside_window_adds_nothing_after_it_adds_one(
    bot: Snowbot, clock: FakeClock
) -> None:
    cadre = await person(bot, 10)
    window = bot.config.schedule.rejoin_window.total_seconds()
    await bot.check_in(cadre, *STATION)
    clock.advance(3600)
    await bot.check_out(cadre)
    assert (await bot.tally()).on_duty == 0
    clock.advance(window - 1)
    back = await bot.check_in(cadre, *STATION)
    assert back.kind == CheckInKind.REJOINED
    tally = await bot.tally()
    assert (tally.person_times, tally.on_duty) == (1, 1)

    await bot.check_out(cadre)
    clock.advance(window + 1)
    later = await bot.check_in(cadre, *STATION)
    assert later.kind == CheckInKind.OPENED
    tally = await bot.tally()
    assert (tally.person_times, tally.on_duty, tally.people) == (2, 1, 1)


async def test_check_out_when_off_duty_is_refused(bot: Snowbot) -> None:
    cadre = await person(bot, 10)
    with pytest.raises(Refused) as refused:
        await bot.check_out(cadre)
    assert refused.value.key == "checkout.not_on_duty"


async def test_task_needing_two_refuses_the_third_accept(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    posted = await bot.post_task(boss, ["Station", "Road", "2", "ice", "by", "the", "school"])  # type: ignore[arg-type]
    task = posted.task
    assert (task.street, task.needed, task.note) == ("Station Road", 2, "ice by the school")
    people = [await person(bot, uid) for uid in (10, 11, 12)]
    for p in people:
        await bot.check_in(p, *STATION)
    await bot.accept(people[0], task.id)
    second = await bot.accept(people[1], task.id)
    assert second.task.accepted == 2 and second.task.status == TaskStatus.IN_PROGRESS
    with pytest.raises(Refused) as refused:
        await bot.accept(people[2], task.id)
    assert refused.value.key == "accept.full"
    assert refused.value.params == {"id": task.id, "needed": 2}  # "it needs 2"
    with pytest.raises(Refused) as again:
        await bot.accept(people[0], task.id)
    assert again.value.key == "accept.already"
    stored = await task_of(bot, task.id)
    assert stored is not None and stored.accepted == 2


async def test_done_serves_the_street(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = (await bot.post_task(boss, ["Station", "Road"])).task  # type: ignore[arg-type]
    cadre = await person(bot, 10)
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, task.id)
    before = await bot.tally()
    assert [u.open_task for u in before.unserved_streets if u.street == "Station Road"] == [task.id]
    done = await bot.complete(cadre, task.id, "cleared")
    assert done.task.status == TaskStatus.DONE
    tally = await bot.tally()
    assert (tally.streets_served, tally.streets_unserved) == (1, 6)
    assert "Station Road" not in {u.street for u in tally.unserved_streets}
    assert tally.tasks[TaskStatus.DONE] == 1
    assert tally.district("North") is not None
    assert tally.district("North").tasks_done == 1  # type: ignore[union-attr]
    assert tally.district("South").tasks_done == 0  # type: ignore[union-attr]
    with pytest.raises(Refused) as twice:
        await bot.complete(cadre, task.id)
    assert twice.value.key == "task.is_done"


async def test_a_cadre_who_did_not_accept_cannot_complete(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = (await bot.post_task(boss, ["River", "Road"])).task  # type: ignore[arg-type]
    stranger = await person(bot, 10)
    with pytest.raises(Refused) as refused:
        await bot.complete(stranger, task.id)
    assert refused.value.key == "done.not_yours"
    assert (await bot.tally()).tasks[TaskStatus.OPEN] == 1


async def test_new_incident_unserves_every_street_and_counts_from_zero(bot: Snowbot) -> None:
    boss = await dispatcher(bot)
    task = (await bot.post_task(boss, ["Station", "Road"])).task  # type: ignore[arg-type]
    cadre = await person(bot, 10)
    await bot.ask_check_in(cadre, 5)
    await bot.check_in(cadre, *STATION)
    await bot.complete(boss, task.id)  # type: ignore[arg-type]
    assert (await bot.tally()).streets_served == 1
    coordinator = await person(bot, 1)
    await bot.start_incident(coordinator, "Second snow")
    tally = await bot.tally()
    assert tally.incident.name == "Second snow"
    assert (tally.person_times, tally.on_duty, tally.people) == (0, 0, 0)
    assert tally.streets_served == 0 and tally.streets_unserved == 7
    assert sum(tally.tasks.values()) == 0
    # the old shift was closed with the old incident: a new check-in opens a new shift
    again = await bot.check_in(cadre, *STATION)
    assert again.kind == CheckInKind.OPENED and again.shift.headcount == 1


async def test_refusals_change_nothing(bot: Snowbot) -> None:
    cadre = await person(bot, 10)
    for words in (["Station", "Road"], []):
        with pytest.raises(Refused) as refused:
            await bot.post_task(cadre, words)
        assert refused.value.key == "refuse.role"
    boss = await dispatcher(bot)
    cases = [
        (["Nowhere", "Street"], "newtask.unknown_street"),
        (["Market", "Street"], "newtask.ambiguous"),
        (["Station", "Road", "0"], "newtask.bad_count"),
        (["Station", "Road", "-2"], "newtask.bad_count"),
        (["Station", "Road", "1.5"], "newtask.bad_count"),
        (["Station", "Road", "99999999"], "newtask.bad_count"),
    ]
    for words, key in cases:
        with pytest.raises(Refused) as refused:
            await bot.post_task(boss, words)  # type: ignore[arg-type]
        assert refused.value.key == key, words
    with pytest.raises(Refused) as far:
        await bot.check_in(cadre, 51.0, 127.5)
    assert far.value.key == "checkin.too_far"
    for lat, lon in ((0.0, 0.0), (91.0, 0.0), (float("nan"), 1.0)):
        with pytest.raises(Refused) as impossible:
            await bot.check_in(cadre, lat, lon)
        assert impossible.value.key == "checkin.bad_location"
    for count in (0, 501):
        with pytest.raises(Refused) as team:
            await bot.ask_check_in(cadre, count)
        assert team.value.key == "checkin.bad_count"
    with pytest.raises(Refused) as off_duty:
        await bot.accept(cadre, 1)
    assert off_duty.value.key == "accept.not_on_duty"
    tally = await bot.tally()
    assert (tally.person_times, sum(tally.tasks.values())) == (0, 0)


async def test_street_names_longest_leading_match(bot: Snowbot, clock: FakeClock) -> None:
    boss = await dispatcher(bot)
    east = (await bot.post_task(boss, ["Station", "Road", "East", "2"])).task  # type: ignore[arg-type]
    plain = (await bot.post_task(boss, ["station", "road", "2"])).task  # type: ignore[arg-type]
    clock.advance(3600)  # long after: not the same task sent twice
    by_id = (await bot.post_task(boss, [str(plain.street_id), "3", "x"])).task  # type: ignore[arg-type]
    district_first = (await bot.post_task(boss, ["South", "Market", "Street"])).task  # type: ignore[arg-type]
    assert (east.street, east.needed) == ("Station Road East", 2)
    assert (plain.street, plain.needed) == ("Station Road", 2)
    assert (by_id.street, by_id.needed, by_id.note) == ("Station Road", 3, "x")
    assert (district_first.street, district_first.district) == ("Market Street", "South")


async def test_dispatcher_bound_to_a_district_posts_only_there(bot: Snowbot) -> None:
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 60, Role.DISPATCHER, "North")
    north = await person(bot, 60)
    with pytest.raises(Refused) as refused:
        await bot.post_task(north, ["River", "Road"])
    assert refused.value.key == "refuse.other_district"
    # an ambiguous name resolves to the dispatcher's own district
    task = (await bot.post_task(north, ["Market", "Street"])).task
    assert task.district == "North"


async def test_a_bound_dispatcher_closes_outside_their_district_only_what_they_joined(
    bot: Snowbot,
) -> None:
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 60, Role.DISPATCHER, "North")
    north = await person(bot, 60)
    south_boss = await dispatcher(bot, 70)
    first = (await bot.post_task(south_boss, ["River", "Road", "2"])).task  # type: ignore[arg-type]
    second = (await bot.post_task(south_boss, ["Mill", "Street"])).task  # type: ignore[arg-type]
    for refused_action in (bot.complete, bot.cancel):
        with pytest.raises(Refused) as refused:
            await refused_action(north, first.id)
        assert refused.value.key == "refuse.other_district"
    # helping out in the south on a shift of their own, they report what they joined
    await bot.check_in(north, *RIVER)
    await bot.accept(north, first.id)
    assert (await bot.complete(north, first.id)).task.status == TaskStatus.DONE
    with pytest.raises(Refused) as not_joined:
        await bot.complete(north, second.id)
    assert not_joined.value.key == "refuse.other_district"


async def test_grant_before_the_user_ever_wrote(bot: Snowbot) -> None:
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 777, Role.DISPATCHER, None)
    newcomer = await bot.meet(777, "Li", None, "zh-hans")
    assert newcomer.role == Role.DISPATCHER
    await bot.revoke(coordinator, 777)
    assert (await person(bot, 777)).role == Role.CADRE
    with pytest.raises(Refused) as stays:
        await bot.revoke(coordinator, 1)  # config coordinators stay
    assert stays.value.key == "grant.config_coordinator"
    assert (await person(bot, 1)).role == Role.COORDINATOR


async def test_tally_agrees_with_a_full_recount(bot: Snowbot, clock: FakeClock) -> None:
    for uid in range(10, 40):
        cadre = await person(bot, uid)
        await bot.ask_check_in(cadre, 1 + uid % 4)
        await bot.check_in(cadre, *(STATION if uid % 2 else RIVER))
        if uid % 3 == 0:
            clock.advance(10)
            await bot.check_out(cadre)
    tally = (await bot.tally()).as_json()
    counted = recount(bot.config.address)
    assert {k: tally[k] for k in counted} == counted
    assert counted["person_times"] == sum(1 + uid % 4 for uid in range(10, 40))
