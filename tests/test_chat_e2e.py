"""The whole loop through python-telegram-bot's real networking, against the stand-in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import (
    CADRE,
    CITY_GROUP,
    COORD,
    DISPATCH,
    LEADER,
    NORTH_GROUP,
    STATION,
    THIRD,
    bot_config,
    no_errors,
    running_bot,
    said,
    stand_in,
)

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


async def test_the_whole_loop(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        api.group(NORTH_GROUP, "North district")
        api.group(CITY_GROUP, "City HQ")
        async with running_bot(cfg):
            await _loop(api)
        # a restart keeps everything
        async with running_bot(cfg) as again:
            tally = await again.service.tally()
            assert (tally.person_times, tally.on_duty, tally.people) == (27, 26, 3)
            answer = await api.ask(COORD, "/tally")
            assert "27 person-times" in answer.text
        assert api.commands["zh"] and api.commands[""]
        no_errors(caplog, api)


async def _loop(api: BotApiStandIn) -> None:
    hello = await api.ask(COORD, "/start")
    assert "coordinator" in hello.text and "/grant" in hello.text
    granted = await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher")
    assert "dispatcher" in granted.text
    welcome = await api.ask(DISPATCH, "/start")
    assert "dispatcher" in welcome.text and "/newtask" in welcome.text

    bound = await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
    assert "North" in bound.text
    city = await api.ask(COORD, "/bind all", chat_id=CITY_GROUP)
    assert "city-wide" in city.text

    group_before = api.count(NORTH_GROUP)
    posted = await api.ask(DISPATCH, "/newtask Station Road 2 ice by the school")
    assert "#1" in posted.text and "Station Road" in posted.text
    assert "Accept" in posted.button("Accept")["text"]
    announcement = await api.reply(NORTH_GROUP, group_before)
    assert "#1" in announcement.text and "0/2" in announcement.text

    asked = await api.ask(LEADER, "/checkin 25")
    assert asked.reply_markup and asked.reply_markup["keyboard"][0][0]["request_location"]
    leader_in = await api.locate(LEADER, *STATION)
    assert "headcount: 25" in leader_in.text and "Station Road" in leader_in.text
    assert "North" in leader_in.text and "#1" in leader_in.text
    cadre_in = await api.locate(CADRE, *STATION)
    assert "headcount: 1" in cadre_in.text

    # the Accept button in the bound group works
    answer = await api.click(CADRE, announcement, "认领")
    assert "joined task #1" in answer["text"]
    await api.wait_for(lambda: "1/2" in announcement.text)
    accepted = await api.ask(LEADER, "/accept 1")
    # the one place left, taken for the team (SPEC §2 "Places")
    assert "Task #1: 1 of your people take places (2/2)" in accepted.text
    assert "Still free: 24 of 25" in accepted.text
    # a team of 25 and one cadre
    tally = await api.ask(DISPATCH, "/tally")
    assert "26 person-times" in tally.text and "on duty: 26" in tally.text
    await api.locate(THIRD, *STATION)
    refused = await api.ask(THIRD, "/accept 1")
    assert "#1" in refused.text and "full" in refused.text

    desk = api.count(DISPATCH.id)
    done = await api.ask(CADRE, "/done 1 all clear")
    assert "#1" in done.text and "done" in done.text
    told = await api.reply(DISPATCH.id, desk)  # the task's dispatcher hears who (SPEC §14)
    assert "marked done by Cadre Zhao" in told.text and "all clear" in told.text
    # groups speak the city default, Chinese
    await api.wait_for(lambda: "已完成" in announcement.text and not announcement.buttons)

    tally = await api.ask(DISPATCH, "/tally")
    assert "27 person-times" in tally.text and "people: 3" in tally.text
    out = await api.ask(THIRD, "/checkout")
    assert "Checked out" in out.text
    unserved = await api.ask(DISPATCH, "/unserved")
    assert "Station Road" not in unserved.text.replace("Station Road East", "")
    assert "River Road" in unserved.text

    before = api.count(COORD.id)
    await api.say(COORD, "/export")
    docs = await api.wait_for(
        lambda: (
            [s for s in api.sent[COORD.id][before:] if s.document]
            if len(api.sent[COORD.id]) >= before + 3
            else None
        )
    )
    assert sorted(d.document for d in docs) == ["reports.csv", "shifts.csv", "tasks.csv"]
    shifts = list(csv.DictReader(io.StringIO(api.documents["shifts.csv"].decode("utf-8-sig"))))
    assert sum(int(r["headcount"]) for r in shifts) == 27
    tasks = list(csv.DictReader(io.StringIO(api.documents["tasks.csv"].decode("utf-8-sig"))))
    assert tasks[0]["status"] == "done" and tasks[0]["accepted"] == "2"


async def test_chinese_is_the_default_and_telegram_or_lang_may_say_otherwise(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)):
        for uid, code, hello in (
            (90, None, "您好"),  # Telegram did not say: the city's default
            (91, "ru", "您好"),  # a language the bot does not speak: the default too
            (92, "zh-hans", "您好"),
            (93, "en-GB", "Hello"),
        ):
            user = SimUser(uid, "张三", code)
            assert hello in (await api.ask(user, "/start")).text, code
        user = SimUser(90, "张三", None)
        hello = await api.ask(user, "/start")
        assert "您好" in hello.text and "队员" in hello.text
        switched = await api.ask(user, "/lang en")
        assert switched.text == "Language: English."
        assert "Hello" in (await api.ask(user, "/start")).text
        assert "队员" in (await api.ask(SimUser(91, "张三", "ru"), "/start")).text  # theirs only
        assert (await api.ask(user, "/lang zh")).text == said("lang.set", "zh")
        assert "您好" in (await api.ask(user, "/start")).text


async def test_tally_json_agrees_with_chat(config: Config, city_csv: Path) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        for uid in range(200, 205):
            await api.locate(SimUser(uid, f"c{uid}", "en"), *STATION)
        tally = await running.service.tally()
        data = json.loads(json.dumps(tally.as_json()))
        text = (await api.ask(COORD, "/tally")).text
        assert f"{data['person_times']} person-times" in text and data["person_times"] == 5
