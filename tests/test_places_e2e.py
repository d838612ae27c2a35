"""Places through the real bot (issue 16), in English and in Chinese: a leader splits a
team across two tasks, gives places back by command and by button, and a check-out sends
a task with nobody left back to the pool, announced again in its district's group."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.engines import raw
from tests.harness import (
    CADRE,
    COORD,
    DISPATCH,
    LEADER,
    NORTH_GROUP,
    STATION,
    bot_config,
    no_errors,
    recount,
    running_bot,
    said,
    stand_in,
)
from tests.test_places import assert_bounds

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


def reannounced(database: Path | str, task_id: int) -> list[int]:
    """The chats the task was queued to again, back in the pool ("places.reannounce")."""
    with raw(database) as db:
        rows = db.execute(
            "SELECT chat_id FROM outbox WHERE task_id = ? AND template = 'places.reannounce'",
            (task_id,),
        ).fetchall()
    return [int(chat) for (chat,) in rows]


async def _post(api: BotApiStandIn, who: SimUser, words: str) -> tuple[int, object]:
    """Post a task; its id and its announcement in the North group."""
    before = api.count(NORTH_GROUP)
    posted = await api.ask(who, f"/newtask {words}")
    announced = await api.reply(NORTH_GROUP, before)
    task_id = int(posted.text.split("#", 1)[1].split()[0])
    return task_id, announced


async def test_a_leader_splits_a_team_and_a_checkout_sends_a_task_back(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        api.group(NORTH_GROUP, "North district")
        async with running_bot(bot_config(config, api, city_csv)) as running:
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher")
            await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
            six, six_ann = await _post(api, DISPATCH, "Station Road 6")
            twenty, twenty_ann = await _post(api, DISPATCH, "School Lane 20")
            other, _ = await _post(api, DISPATCH, "Station Road East 2")

            await api.ask(LEADER, "/checkin 20")
            here = await api.locate(LEADER, *STATION)
            assert said("places.team_free", free=20, count=20) in here.text

            took = await api.ask(LEADER, f"/accept {six}")
            assert took.text.startswith(
                said("places.taken", id=six, taken=6, accepted=6, needed=6, free=14, count=20)
            )
            assert took.button("Release") and took.button("Done")
            await api.wait_for(lambda: "6/6" in six_ann.text)  # type: ignore[attr-defined]
            # the rest of the team by the group's Accept button: what the task needs, at most 14
            pressed = await api.click(LEADER, twenty_ann, "认领")  # type: ignore[arg-type]
            assert pressed["text"] == said(
                "places.taken", id=twenty, taken=14, accepted=14, needed=20, free=0, count=20
            )
            await api.wait_for(lambda: "14/20" in twenty_ann.text)  # type: ignore[attr-defined]
            listed = await api.ask(LEADER, "/tasks")
            held = f"#{six}×6 #{twenty}×14"
            assert said("places.team_free", free=0, count=20) in listed.text
            assert said("places.team_held", held=held) in listed.text
            assert listed.button(f"Release #{six}") and listed.button(f"Release #{twenty}")
            tally = await api.ask(DISPATCH, "/tally")
            assert said("places.tally", assigned=20, available=0) in tally.text

            # one cadre, one place
            await api.locate(CADRE, *STATION)
            await api.ask(CADRE, f"/accept {twenty}")
            refused = await api.ask(CADRE, f"/accept {other}")
            assert refused.text == said("places.all_placed", id=other, count=1, held=f"#{twenty}×1")

            # part of the team back by command, the first task's places by the button
            back = await api.ask(LEADER, f"/release {twenty} 4")
            assert back.text.startswith(
                said(
                    "places.released",
                    id=twenty,
                    released=4,
                    accepted=11,
                    needed=20,
                    free=4,
                    count=20,
                )
            )
            dispatcher_before = api.count(DISPATCH.id)
            group_before = api.count(NORTH_GROUP)
            leader_before = api.count(LEADER.id)
            button = await api.click(LEADER, took, "Release")
            assert said("places.back_to_pool", id=six) in button["text"]
            shown = await api.reply(LEADER.id, leader_before)  # said in the chat as well
            assert shown.text.startswith(button["text"])
            await api.wait_for(lambda: "— 0/6 " in six_ann.text)  # type: ignore[attr-defined]
            told = await api.reply(DISPATCH.id, dispatcher_before)
            assert told.text == said(
                "places.reopened", id=six, street="Station Road", district="North"
            )
            again = await api.reply(NORTH_GROUP, group_before)
            # a new message in the group, with its Accept button (its text may already have been
            # brought up to date by the edit every announcement of the task gets)
            assert f"#{six} " in again.text and again.button("认领")
            assert reannounced(running.service.config.address, six) == [NORTH_GROUP]

            # the leader goes home: the places on #twenty go back; the cadre keeps it going
            out = await api.ask(LEADER, "/checkout")
            assert said("places.gave_back", tasks=f"#{twenty}") in out.text
            await api.wait_for(lambda: "— 1/20 " in twenty_ann.text)  # type: ignore[attr-defined]
            group_before = api.count(NORTH_GROUP)
            await api.ask(CADRE, "/checkout")
            back_again = await api.reply(NORTH_GROUP, group_before)
            assert f"#{twenty} " in back_again.text and "0/20" in back_again.text
            assert reannounced(running.service.config.address, twenty) == [NORTH_GROUP]

            tally_now = (await running.service.tally()).as_json()
            counted = recount(running.service.config.address)
            assert {k: tally_now[k] for k in counted} == counted
            assert (tally_now["on_duty"], tally_now["assigned"]) == (0, 0)
            assert tally_now["tasks"]["open"] == 3
        no_errors(caplog, api)


async def test_places_speak_chinese(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    boss = SimUser(70, "调度员王", "zh")
    leader = SimUser(71, "队长李", "zh")
    async with stand_in() as api:
        api.group(NORTH_GROUP, "爱辉区除雪群")
        async with running_bot(bot_config(config, api, city_csv)):
            await api.ask(COORD, f"/grant {boss.id} dispatcher")
            await api.ask(boss, "/bind North", chat_id=NORTH_GROUP)
            task, announced = await _post(api, boss, "Station Road 3")
            helped = await api.ask(leader, "/help")
            assert "/release 编号 [人数]" in helped.text and "/accept 编号 [人数]" in helped.text
            await api.ask(leader, "签到 8")
            here = await api.locate(leader, *STATION)
            assert said("places.team_free", "zh", free=8, count=8) in here.text
            took = await api.ask(leader, f"/accept {task}")
            assert took.text.startswith(
                said("places.taken", "zh", id=task, taken=3, accepted=3, needed=3, free=5, count=8)
            )
            assert took.button("退回") and took.button("完成")
            tally = await api.ask(boss, "/tally")
            assert said("places.tally", "zh", assigned=3, available=5) in tally.text
            usage = await api.ask(leader, "/release")
            assert usage.text == said("places.release_usage", "zh")
            bad = await api.ask(leader, f"/accept {task} 零")
            assert "不是有效的人数" in bad.text
            before = api.count(boss.id)
            back = await api.ask(leader, f"/release {task}")
            assert said("places.back_to_pool", "zh", id=task) in back.text
            told = await api.reply(boss.id, before)
            assert told.text == said(
                "places.reopened", "zh", id=task, street="Station Road", district="North"
            )
            await api.wait_for(lambda: "0/3" in announced.text)  # type: ignore[attr-defined]
        no_errors(caplog, api)


async def test_twenty_presses_at_once_from_a_leader_and_singles(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A leader of 6 pressing ten times and ten single cadres, all before any answer, on
    two tasks of 4: both tasks full, never over, and the leader never over the team."""
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        await api.ask(LEADER, "/checkin 6")
        await api.locate(LEADER, *STATION)
        singles = [SimUser(300 + i, f"cadre {300 + i}", "en") for i in range(10)]
        for user in singles:
            await api.locate(user, *STATION)
        first = await api.ask(COORD, "/newtask Station Road 4")
        second = await api.ask(COORD, "/newtask School Lane 4")
        pressers = [LEADER] * 10 + singles
        queries = [
            await api.press(
                u, (first, second)[i % 2], (first, second)[i % 2].button("Accept")["callback_data"]
            )
            for i, u in enumerate(pressers)
        ]
        answers = [(await api.answer(q, timeout=30))["text"] for q in queries]
        assert all(
            "take places" in a
            or "joined task" in a
            or "full" in a
            or "already" in a
            or "already have places" in a
            for a in answers
        ), answers
        service = running.service
        for task_id in (1, 2):
            task = await service.task(task_id)
            assert task is not None and task.accepted == 4
        tally = await service.tally()
        assert tally.assigned == 8 and tally.on_duty == 16
        assert_bounds(service.config.address)
        counted = recount(service.config.address)
        shown = tally.as_json()
        assert {k: shown[k] for k in counted} == counted
        no_errors(caplog, api)
