"""A photo as proof of done, and the error handler keeping the bot alive."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.service import Snowbot
from snowbot.settings.config import Config
from tests.harness import (
    CADRE,
    COORD,
    NORTH_GROUP,
    STATION,
    bot_config,
    eventually,
    no_errors,
    running_bot,
    said,
    stand_in,
    task_of,
)


async def test_a_photo_captioned_done_completes_and_keeps_the_proof(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        posted = await api.ask(COORD, "/newtask Station Road 1")
        assert "#1" in posted.text
        await api.locate(CADRE, *STATION)
        assert "joined" in (await api.click(CADRE, posted, "Accept"))["text"]
        before = api.count(CADRE.id)
        await api.send_photo(CADRE, "/done 1 before and after")
        answer = await api.reply(CADRE.id, before)
        assert "#1" in answer.text and "done" in answer.text
        task = await task_of(running.service, 1)
        assert task is not None and task.status == "done" and "before and after" in task.note


async def test_an_unexpected_failure_is_apologised_for_and_the_bot_goes_on(
    config: Config, city_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)):

        async def broken(self: Snowbot, *args: object) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(Snowbot, "tasks_for", broken)
        answer = await api.ask(CADRE, "/tasks")
        assert "something went wrong" in answer.text
        monkeypatch.undo()
        assert "open tasks" in (await api.ask(CADRE, "/tasks")).text.lower()


async def test_live_location_moves_the_shift_but_never_opens_one(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        bot = running.service
        await api.locate(CADRE, *STATION)
        await api.share_location(CADRE, 50.2001, 127.5001, live_edit=True)  # River Road
        person = await bot.person(CADRE.id)
        assert person is not None

        river = next(s.id for s in bot.directory.streets if s.name == "River Road")

        async def at_the_river() -> bool:
            shift = await bot.on_duty(person)
            return shift is not None and shift.street_id == river

        await eventually(at_the_river, "the live location moves the shift to River Road")
        await api.ask(CADRE, "/checkout")
        await api.share_location(CADRE, *STATION, live_edit=True)
        assert "not on duty" in (await api.ask(CADRE, "/checkout")).text
        tally = await bot.tally()
        assert (tally.person_times, tally.on_duty) == (1, 0)


async def test_a_cancel_ends_the_task_everywhere(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        api.group(NORTH_GROUP, "North crews")
        await api.ask(COORD, "/bind North", chat_id=NORTH_GROUP)
        before = api.count(NORTH_GROUP)
        posted = await api.ask(COORD, "/newtask Station Road 2")
        announcement = await api.reply(NORTH_GROUP, before)
        await api.locate(CADRE, *STATION)
        assert "joined" in (await api.click(CADRE, announcement, "认领"))["text"]

        cancelled = await api.ask(COORD, "/cancel 1")
        assert cancelled.text == said("cancel.ok", id=1)
        # the announcements lose their buttons and say so (the group in Chinese)
        await api.wait_for(lambda: "已取消" in announcement.text and not announcement.buttons)
        await api.wait_for(lambda: "cancelled" in posted.text and not posted.buttons)
        tally = await running.service.tally()
        assert tally.tasks == {"open": 0, "in_progress": 0, "done": 0, "cancelled": 1}
        assert (await api.ask(CADRE, "/done 1")).text == said("task.is_cancelled", id=1)
        assert (await api.ask(COORD, "/cancel 1")).text == said("task.is_cancelled", id=1)
        assert "#1" not in (await api.ask(CADRE, "/tasks")).text
    no_errors(caplog, api)
