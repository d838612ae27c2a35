"""After a crash: Telegram delivers again what the bot did not confirm, and the bot handles
what it had fetched but not handled. Nothing is lost, nothing happens twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from snowbot.app.wiring import open_service
from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CADRE,
    COORD,
    NORTH_GROUP,
    STATION,
    bot_config,
    eventually,
    location_update,
    no_errors,
    opened_bot,
    running_bot,
    stand_in,
)


async def _dies_before_marking(self: Snowbot, update_id: int, replies: object = ()) -> list[object]:
    """`Snowbot.handled` of a process that dies just before it: neither marked nor replied
    (the two commit together)."""
    return []


async def test_updates_delivered_twice_count_once(config: Config, city_csv: Path) -> None:
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg):
            before = api.count(COORD.id)
            posted = await api.say(COORD, "/newtask Station Road 2")
            await api.reply(COORD.id, before)
            await api.say(CADRE, "/checkin 12")
            await api.reply(CADRE.id, 0)
            located = await api.share_location(CADRE, *STATION)
            await api.reply(CADRE.id, 1)
        replies = {COORD.id: api.count(COORD.id), CADRE.id: api.count(CADRE.id)}
        await api.redeliver([posted, located])
        async with running_bot(cfg):
            assert "Hello" in (await api.ask(SimUser(99, "Later", "en"), "/start")).text
        # stopped: every update it fetched has been handled
        assert {COORD.id: api.count(COORD.id), CADRE.id: api.count(CADRE.id)} == replies
        service = await open_service(cfg)
        try:
            tally = await service.tally()
            assert tally.tasks["open"] == 1  # no second task
            assert (tally.person_times, tally.on_duty) == (12, 12)  # no second shift
        finally:
            await service.close()


async def test_a_crash_after_posting_and_before_marking_posts_nothing_twice(
    config: Config,
    city_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The two actions that are not harmless to repeat, a new incident and a new task, find
    what they made the first time by the update that asked."""
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg) as first_run:
            monkeypatch.setattr(Snowbot, "handled", _dies_before_marking)
            before = api.count(COORD.id)
            started = await api.say(COORD, "/incident start Second snow")
            posted = await api.say(COORD, "/newtask Station Road 2")

            async def both_done() -> bool:
                tally = await first_run.service.tally()
                return tally.incident.name == "Second snow" and tally.tasks["open"] == 1

            await eventually(both_done, "the incident started and the task posted")
        monkeypatch.undo()
        async with opened_bot(cfg, time.time) as service:  # kept as fetched, not handled
            assert len(await service.unhandled_updates()) == 2
            assert (await service.tally()).incident.name == "Second snow"  # done before
        assert api.count(COORD.id) == before  # and nobody was told yet
        await api.redeliver([started, posted])  # and Telegram sends them again, too
        async with running_bot(cfg) as running:
            # both handled again from the inbox: each answered now, once
            await api.wait_for(lambda: api.count(COORD.id) >= before + 2)
            assert "Hello" in (await api.ask(CADRE, "/start")).text
            tally = await running.service.tally()
            assert tally.incident.name == "Second snow"
            assert tally.tasks["open"] == 1  # one task, in the one new incident
        assert api.count(COORD.id) == before + 2
        no_errors(caplog, api)


async def test_an_update_fetched_but_never_handled_is_handled_at_the_next_start(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What `kill -9` leaves mid-burst: an update kept as fetched (so confirmed to Telegram,
    which will not send it again) and never handled."""
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with opened_bot(cfg, time.time, city_csv) as service:
            await service.keep_updates([(900_001, location_update(900_001, CADRE, *STATION))])
        async with running_bot(cfg) as running:
            checked_in = await api.reply(CADRE.id, 0)
            assert checked_in.text.startswith("✅ On duty at Station Road, North")
            assert (await running.service.tally()).person_times == 1
        async with running_bot(cfg):
            assert "Hello" in (await api.ask(COORD, "/start")).text
        assert api.count(CADRE.id) == 1  # handled once: not again at the next start
        no_errors(caplog, api)


async def test_a_newtask_handled_again_answers_with_the_task_it_posted(
    config: Config,
    city_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Posted, then the process died before the update was marked: handled again, the
    /newtask finds the task it made itself (by the update's id) and says it is posted, as
    the first time; it is not a twin posted a moment ago to ask about, nor a second task."""
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        api.group(NORTH_GROUP, "North crews")
        async with running_bot(cfg) as first_run:
            assert "North" in (await api.ask(COORD, "/bind North", chat_id=NORTH_GROUP)).text

            monkeypatch.setattr(Snowbot, "handled", _dies_before_marking)
            before = api.count(COORD.id)
            posted = await api.say(COORD, "/newtask Station Road 2 gate of No. 3 school")

            async def task_posted() -> bool:
                return (await first_run.service.tally()).tasks["open"] == 1

            await eventually(task_posted, "the task posted")
        monkeypatch.undo()
        await api.redeliver([posted])
        async with running_bot(cfg) as running:
            answer = await api.reply(COORD.id, before)
            assert answer.text.startswith("🆕 Task posted:"), answer.text
            assert "#1 Station Road" in answer.text and "gate of No. 3 school" in answer.text
            assert (await running.service.tally()).tasks["open"] == 1
            assert "Hello" in (await api.ask(CADRE, "/start")).text  # all handled by now
        assert api.count(COORD.id) == before + 1
        announced = [s.text for s in api.sent[NORTH_GROUP] if "#1 Station Road" in s.text]
        assert len(announced) == 1, announced
        no_errors(caplog, api)
