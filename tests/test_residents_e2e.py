"""Residents' reports (群众求助) through the real bot and the stand-in: two residents report
one spot, the dispatcher makes a task, cadres finish it and both residents hear it in their
own language; Dismiss and Block (with its confirmation); the hourly limit on both sides of
its boundary; an outage of Telegram; hostile text, forged buttons and photos."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from snowbot.domain.residents import ReportOutcome
from snowbot.settings.config import Config
from snowbot.settings.config_file import load_config
from snowbot.tools.standin import BotApiStandIn, Sent, SimUser
from tests.harness import (
    CADRE,
    COORD,
    FAR,
    NORTH_DISPATCHER,
    NORTH_GROUP,
    RIVER,
    STATION,
    THIRD,
    FakeClock,
    bot_config,
    eventually,
    invite_only,
    no_errors,
    opened_bot,
    person,
    run_cli,
    running_bot,
    said,
    stand_in,
)

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

NORTH = NORTH_DISPATCHER
AUNTIE = SimUser(70, "王阿姨", "zh")  # a resident who never joined: a guest
VISITOR = SimUser(71, "Visitor Brown", "en")
NEAR_STATION = (STATION[0] + 0.0005, STATION[1])  # 55 m north: the same spot


async def _north_desk(api: BotApiStandIn) -> None:
    """A North dispatcher, a North crews' group, and two cadres."""
    api.group(NORTH_GROUP, "North crews")
    await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
    await api.ask(NORTH, "/start")
    await api.ask(NORTH, "/bind North", chat_id=NORTH_GROUP)
    for cadre in (CADRE, THIRD):
        await api.ask(COORD, f"/grant {cadre.id} cadre")


def _with(api: BotApiStandIn, chat: int, words: str) -> list[Sent]:
    return [s for s in api.sent[chat] if words in s.text]


async def _one(api: BotApiStandIn, chat: int, words: str, timeout: float = 10.0) -> Sent:
    found: list[Sent] = await api.wait_for(lambda: _with(api, chat, words), timeout)
    assert len(found) == 1, [s.text for s in found]
    return found[0]


async def test_two_residents_report_a_dispatcher_makes_a_task_and_both_hear_it_is_cleared(
    config: Config, city_csv: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        cfg = bot_config(invite_only(config), api, city_csv)
        async with running_bot(cfg, clock=clock) as running:
            await _north_desk(api)
            # a guest, in Chinese: /report, then the location
            asked = await api.ask(AUNTIE, "/report")
            assert asked.text == said("residents.ask", "zh")
            assert asked.reply_markup and asked.reply_markup["keyboard"][0][0]["request_location"]
            made = await api.locate(AUNTIE, *STATION)
            assert made.text.startswith(
                said("residents.made", "zh", ref="#R1", street="Station Road", district="North")
            )
            # the district's dispatcher and its group get it, with the buttons
            private = await _one(api, NORTH.id, "Resident's report #R1:")
            group = await _one(api, NORTH_GROUP, "群众求助 #R1")
            assert "Station Road (North)" in private.text and "(no words)" in private.text
            assert private.button("Make task #R1") and private.button("Dismiss")
            assert all(len(b["callback_data"].encode()) <= 64 for b in private.buttons)
            assert group.button("派任务 #R1")
            # a following text describes it, and is passed on
            added = await api.ask(AUNTIE, "门口积雪到膝盖，老人出不了门")
            assert added.text == said("residents.described_ok", "zh", ref="#R1")
            more = await _one(api, NORTH.id, "#R1 (Station Road), more")
            assert "门口积雪到膝盖" in more.text

            # a second resident, in English, 55 m away, with words first: joins #R1
            await api.ask(VISITOR, "/report Deep snow at the bus stop")
            joined = await api.locate(VISITOR, *NEAR_STATION)
            assert joined.text == said(
                "residents.joined", ref="#R1", street="Station Road", count=2
            )
            listed = await api.ask(NORTH, "/reports")
            assert "#R1 Station Road (North) — reported by 2" in listed.text
            assert listed.button("Make task #R1")
            assert not _with(api, NORTH.id, "Resident's report #R2")  # joined: no second alarm

            # Make task: a task on the street for [residents] task_needed people, linked
            answer = await api.click(NORTH, private, "Make task")
            assert answer["text"] == said("residents.tasked_ok", ref="#R1", id=1)
            posted = await _one(api, NORTH.id, "Task posted")
            assert "#1 Station Road" in posted.text and "0/2" in posted.text
            assert "#R1" in posted.text
            await _one(api, NORTH_GROUP, "#1 Station Road")
            assert not private.buttons  # decided: its buttons are gone
            await _one(api, AUNTIE.id, "任务 #1")
            await _one(api, VISITOR.id, "task #1")

            # cadres accept and finish it
            for cadre in (CADRE, THIRD):
                await api.locate(cadre, *STATION)
                assert "joined task #1" in (await api.ask(cadre, "/accept 1")).text
            clock.advance(40 * 60)
            assert "#1" in (await api.ask(CADRE, "/done 1")).text
            when = datetime.fromtimestamp(clock(), cfg.city.timezone).strftime("%m-%d %H:%M")
            zh = await _one(api, AUNTIE.id, "清扫完毕")
            assert zh.text == said(
                "residents.resolved", "zh", ref="#R1", street="Station Road", time=when, id=1
            )
            en = await _one(api, VISITOR.id, "was cleared")
            assert en.text == said(
                "residents.resolved", ref="#R1", street="Station Road", time=when, id=1
            )
            tally = (await running.service.tally()).as_json()
            assert list(tally)[-1] == "reports"
            assert tally["reports"] == {"open": 0, "tasked": 0, "resolved": 1, "dismissed": 0}
            assert tally["people"] == 2  # the residents are counted nowhere
        no_errors(caplog, api)


async def test_dismiss_tells_the_resident_and_blocking_asks_first(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(invite_only(config), api, city_csv)) as running,
    ):
        await _north_desk(api)
        await api.ask(VISITOR, "/report")
        await api.locate(VISITOR, *STATION)
        private = await _one(api, NORTH.id, "Resident's report #R1:")
        group = await _one(api, NORTH_GROUP, "#R1")
        # a cadre in the group cannot decide: refused, nothing changed
        refused = await api.click(CADRE, group, "#R1")
        assert refused["text"] == said("refuse.role", role="dispatcher")
        answer = await api.click(NORTH, private, "Dismiss")
        assert answer["text"] == said("residents.dismissed_ok", ref="#R1")
        told = await _one(api, VISITOR.id, "Thank you for reporting")
        assert told.text == said("residents.dismissed", ref="#R1", street="Station Road")
        again = await api.click(NORTH, group, "#R1")
        assert again["text"] == said("residents.is_dismissed", ref="#R1", id=0)

        # a new report of the same spot is a new report (a dismissed one is not joined)
        await api.ask(VISITOR, "/report")
        assert "#R2" in (await api.locate(VISITOR, *STATION)).text
        second = await _one(api, NORTH.id, "Resident's report #R2:")
        await api.click(NORTH, second, "block")
        ask = await _one(api, NORTH.id, "block its sender")
        assert ask.text == said("residents.block_ask", ref="#R2", street="Station Road")
        # asked, not done: the report is still open until the confirmation
        assert "#R2" in (await api.ask(NORTH, "/reports North")).text
        done = await api.click(NORTH, ask, "Yes")
        assert done["text"] == said("residents.blocked_ok", ref="#R2")
        await _one(
            api, VISITOR.id, said("residents.dismissed_quiet", ref="#R2", street="Station Road")
        )
        await api.say(VISITOR, "/report")
        await _one(api, VISITOR.id, said("residents.blocked"))
        assert (await api.ask(NORTH, "/reports")).text == said("residents.none", district="North")
        counts = (await running.service.tally()).reports
        assert (counts.open, counts.dismissed) == (0, 2)
        no_errors(caplog, api)


async def test_five_reports_an_hour_and_not_one_more(
    config: Config, city_csv: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(invite_only(config), api, city_csv), clock=clock),
    ):
        await _north_desk(api)

        async def report(k: int) -> str:
            asked = await api.ask(AUNTIE, "/report")
            if asked.text != said("residents.ask", "zh"):
                return asked.text
            spot = (STATION[0] + 0.003 * k, STATION[1])  # 330 m apart: each a report of its own
            return (await api.locate(AUNTIE, *spot)).text

        for k in range(5):
            assert f"#R{k + 1}" in await report(k)
        clock.advance(3599)  # an hour less a second after the first five
        assert await report(5) == said("residents.limit", "zh", max=5)
        clock.advance(1)  # an hour after them: allowed again
        assert "#R6" in await report(6)
        no_errors(caplog, api)


async def test_a_report_made_in_an_outage_reaches_the_dispatcher_afterwards_once(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api:
        cfg = bot_config(invite_only(config), api, city_csv)
        async with running_bot(cfg) as running:
            await _north_desk(api)
            api.failing, api.failing_only = 502, frozenset({"sendMessage"})
            await api.say(VISITOR, "/report Snow wall across the road")
            await api.share_location(VISITOR, *STATION)

            async def held() -> bool:
                counts = (await running.service.tally()).reports
                return counts.open == 1 and running.courier.unreachable

            await eventually(held, "the report made while Telegram refuses every message")
            assert not _with(api, NORTH.id, "#R1")
            api.failing = api.failing_only = None
            alarm = await _one(api, NORTH.id, "Resident's report #R1:", timeout=30)
            assert "Snow wall across the road" in alarm.text and alarm.button("Make task")
            # the resident's replies, kept through the outage, come too
            await _one(api, VISITOR.id, "Your report #R1 is in", timeout=30)
            await _one(api, NORTH_GROUP, "#R1", timeout=30)
        assert len(_with(api, NORTH.id, "Resident's report #R1:")) == 1
        no_errors(caplog, api)


FORGED = (
    "r1|m|999999999",  # no such report
    "r1|x|1",  # no such action
    "r1|m|",
    "r1|m|1" + "9" * 70,  # too long
    "r1|m|-1",
    "r1|k|１",  # a full-width digit
    "r2|m|1",  # a version this bot does not speak
)


async def test_hostile_text_forged_buttons_and_photos_change_nothing(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(invite_only(config), api, city_csv)) as running,
    ):
        await _north_desk(api)
        too_long = await api.ask(VISITOR, "/report " + "雪" * 501)
        assert too_long.text == said("refuse.too_long", limit=500)
        in_group = await api.ask(VISITOR, "/report", chat_id=NORTH_GROUP)
        assert in_group.text == said("refuse.private_only")
        assert (await api.ask(VISITOR, "/reports")).text == said("refuse.role", role="dispatcher")
        # a photo out of the blue gets a hint; captioned /report it starts one
        before = api.count(VISITOR.id)
        await api.send_photo(VISITOR, "look at this")
        assert (await api.reply(VISITOR.id, before)).text == said("residents.photo_hint")
        before = api.count(VISITOR.id)
        await api.send_photo(VISITOR, "/report " + "x" * 600)
        assert (await api.reply(VISITOR.id, before)).text == said("refuse.too_long", limit=500)
        before = api.count(VISITOR.id)
        await api.send_photo(VISITOR, "/report \u202egate\u202c <b>&amp;</b> '; DROP TABLE--")
        assert (await api.reply(VISITOR.id, before)).text == said("residents.ask")
        # places that are no place, or far from every street: refused, the /report still waits
        assert (await api.locate(VISITOR, 0.0, 0.0)).text == said("checkin.bad_location")
        far = await api.locate(VISITOR, *FAR)
        assert "km from the nearest street (School Lane)" in far.text
        assert "reports more than 15 km away are refused" in far.text
        made = await api.locate(VISITOR, *STATION)
        assert "#R1" in made.text
        alarm = await _one(api, NORTH.id, "Resident's report #R1:")
        assert "\u202egate\u202c <b>&amp;</b> '; DROP TABLE--" in alarm.text
        assert "with a photo" in alarm.text
        report = await running.service.store.get_report((await running.service.incident()).id, 1)
        assert report.photo_file_id and report.photo_file_id.startswith("photo")
        # its words and photo are there: more is refused, politely
        extra = await api.ask(VISITOR, "more words")
        assert extra.text == said("residents.described", ref="#R1")
        for data in FORGED:
            answer = await api.answer(await api.press(NORTH, alarm, data))
            assert answer["text"] in (
                said("button.stale"),
                said("residents.unknown", ref="#R999999999"),
            ), data
        assert (await running.service.tally()).reports.open == 1
        # 签到 after a report is still a check-in, not a description
        assert "invitation" in (await api.ask(VISITOR, "签到")).text
        no_errors(caplog, api)


async def test_tally_json_and_reports_csv_from_the_command_line(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    config = load_config(str(workdir / "config.toml"))
    async with opened_bot(config, FakeClock()) as bot:
        for user_id, text, spot in ((70, "=cmd|' /C calc'!A0", STATION), (71, "", RIVER)):
            resident = await person(bot, user_id)
            await bot.ask_report(resident, text, private=True)
            made = await bot.report_at(resident, *spot, lambda r, lang: "{}", None)
            assert made is not None and made.outcome == ReportOutcome.NEW
    done = json.loads(run_cli(workdir, "tally", "--json").stdout)
    assert list(done)[-1] == "reports"
    assert done["reports"] == {"open": 2, "tasked": 0, "resolved": 0, "dismissed": 0}
    out = run_cli(workdir, "export", "--out", "out")
    assert out.returncode == 0, out.stderr
    text = (workdir / "out" / "reports.csv").read_text("utf-8-sig")
    assert text.splitlines()[0] == (
        "id,district,street,lat,lon,reporters,status,task_id,created_at,resolved_at,text"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["id"], r["district"], r["street"], r["status"]) for r in rows] == [
        ("1", "North", "Station Road", "open"),
        ("2", "South", "River Road", "open"),
    ]
    assert rows[0]["text"] == "'=cmd|' /C calc'!A0"  # a formula is not run by a spreadsheet
    assert rows[0]["created_at"].endswith("+08:00") and rows[0]["task_id"] == ""
    assert rows[0]["reporters"] == "1" and rows[0]["resolved_at"] == ""
