"""The storm's closing report (issue 21): its rounding, its numbers against the incident's
`tally --json`, who gets it (once), and `snowbot report` on the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from snowbot.app.wiring import open_service
from snowbot.domain.counts import DistrictCounts
from snowbot.domain.model import Incident, TaskStatus
from snowbot.domain.numerals import bulletin_en, bulletin_zh
from snowbot.domain.refusals import Refused
from snowbot.domain.residents import ReportCounts
from snowbot.domain.roles import Role
from snowbot.domain.tally import Tally
from snowbot.domain.units import UnitCounts
from snowbot.service import Snowbot
from snowbot.service.sweeps import Sweeps
from snowbot.settings.config import Config
from snowbot.settings.config_file import load_config
from snowbot.text.closing import Closing, bulletin, dates, render_closing
from snowbot.text.texts import catalog
from tests.harness import RIVER, STATION, FakeClock, drain, opened_bot, person, run_cli

REPORTS = -500
HQ = -600


@pytest.mark.parametrize(
    ("count", "zh", "en"),
    [
        (0, "0", "0"),
        (9_999, "9999", "9,999"),
        (10_000, "1万", "10,000"),
        (10_001, "1万余", "over 10,000"),
        (12_345, "1.2万余", "over 12,000"),
        (55_998, "5.5万余", "over 55,000"),
        (56_000, "5.6万", "56,000"),
        (56_049, "5.6万余", "over 56,000"),
        (99_999, "9.9万余", "over 99,000"),
        (1_000_000, "100万", "1,000,000"),
        (1_000_001, "100万余", "over 1,000,000"),
        (123_456_789, "1.2亿余", "over 120,000,000"),
    ],
)
def test_large_numbers_are_floored_the_way_a_bulletin_writes_them(
    count: int, zh: str, en: str
) -> None:
    assert bulletin(catalog("zh"), count) == zh
    assert bulletin(catalog("en"), count) == en
    # the rule itself: 余 / "over" exactly when something was floored off
    assert bulletin_zh(count)[1] == bulletin_en(count)[1] == ("余" in zh)


def test_the_dates_read_as_a_bulletin_writes_them() -> None:
    zh, en = catalog("zh"), catalog("en")
    nov25, nov30, dec2 = date(2024, 11, 25), date(2024, 11, 30), date(2024, 12, 2)
    assert dates(zh, nov25, nov30) == "2024年11月25日至30日"
    assert dates(zh, nov25, dec2) == "2024年11月25日至12月2日"
    assert dates(zh, date(2024, 12, 30), date(2025, 1, 2)) == "2024年12月30日至2025年1月2日"
    assert dates(zh, nov25, nov25) == "2024年11月25日"
    assert dates(en, nov25, nov30) == "25–30 November 2024"
    assert dates(en, nov25, dec2) == "25 November – 2 December 2024"


async def storm(bot: Snowbot, clock: FakeClock) -> dict[str, object]:
    """Three days of a small storm (closed on the fourth); the incident's `tally --json`."""
    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 50, Role.DISPATCHER, None)
    dispatcher = await person(bot, 50)
    await bot.bind(coordinator, HQ, "all", "City HQ")
    for day, people in ((0, 3), (1, 8), (2, 2)):
        for n in range(people):
            cadre = await person(bot, 100 * (day + 1) + n)
            if n == 0:
                await bot.ask_check_in(cadre, 10)
            await bot.check_in(cadre, *(STATION if n % 2 else RIVER))
        posted = await bot.post_task(dispatcher, ["South", "Mill", "Street"])
        assert posted.task is not None
        if day < 2:
            await bot.complete(dispatcher, posted.task.id)
        clock.advance(86400)
    return (await bot.tally()).as_json()


async def test_the_closing_report_agrees_with_the_tally_and_goes_to_everyone_once(
    config: Config, clock: FakeClock, city_csv: Path
) -> None:
    config = replace(config, schedule=replace(config.schedule, report_chats=(REPORTS,)))
    async with opened_bot(config, clock, city_csv) as bot:
        before = await storm(bot, clock)
        ended = await bot.incident()
        await drain(bot)
        closed = await bot.close_incident(await person(bot, 1))
        new = closed.successor
        assert new.id != ended.id and new.name == f"{bot.default_incident_name()} 16:00"
        assert closed.ended is not None and closed.ended.id == ended.id and closed.reported
        assert await bot.queue_closing_reports() == 0  # queued once, by the close
        assert (await Sweeps(bot).everything()).closing == 0
        sent = [m for m in await drain(bot) if m.key.startswith(f"closing:{ended.id}")]
        assert len(sent) == 9  # the text and two CSVs, to the coordinator and two report chats
        by_chat = {chat: [m for m in sent if m.chat_id == chat] for chat in (1, REPORTS, HQ)}
        for chat, messages in by_chat.items():
            assert [m.document for m in messages] == [None, "shifts.csv", "tasks.csv"], chat
            assert all(m.incident_id == ended.id for m in messages[1:])
        closing = await bot.closing_report(ended.id)
        assert closing is not None
        tally = closing.tally.as_json()
        for key in ("person_times", "people", "tasks", "streets"):
            assert tally[key] == before[key], key
        # closing the incident closed its shifts: nobody is on duty any more, the rest stays
        for district in (*tally["districts"], *before["districts"]):  # type: ignore[misc]
            district.pop("on_duty")
        assert tally["districts"] == before["districts"]
        # in words: the same numbers (all below ten thousand: exact)
        text = by_chat[REPORTS][0].text or ""
        streets = before["streets"]
        tasks = before["tasks"]
        assert isinstance(streets, dict) and isinstance(tasks, dict)
        assert f"全市累计出动{before['person_times']}人次" in text
        assert f"共{before['people']}人签到值守" in text
        assert f"完成清雪任务{tasks['done']}项" in text
        assert f"清扫街道{streets['served']}条，尚有{streets['unserved']}条街道未清扫" in text
        # the busiest day is day 2 (7 + 10 person-times); the busiest district by tally
        busiest = max(before["districts"], key=lambda d: d["person_times"])  # type: ignore[arg-type,index,return-value]
        assert "出动最多的一天是1月16日（17人次）" in text
        assert f"出动最多的区县是{busiest['district']}（{busiest['person_times']}人次）" in text  # type: ignore[index]
        assert text.startswith(f"📋 应急响应总结：{ended.name}\n2027年1月15日至18日暴雪期间")
        # the attached files are the incident's export
        shifts = await bot.incident_file(ended.id, "shifts.csv")
        assert shifts is not None and shifts.count(b"\r\n") == 1 + 13
        assert await bot.incident_file(ended.id, "nothing.csv") is None


async def test_an_empty_incident_and_a_redelivered_close_owe_nothing(bot: Snowbot) -> None:
    coordinator = await person(bot, 1)
    first = await bot.incident()
    closed = await bot.close_incident(coordinator, origin=77)
    assert closed.ended is not None and closed.ended.id == first.id
    assert not closed.reported  # nothing happened in it
    assert await bot.queue_closing_reports() == 0
    again = await bot.close_incident(coordinator, origin=77)  # the same update again
    assert again.ended is None and again.successor == closed.successor
    cadre = await person(bot, 10)
    with pytest.raises(Refused) as refused:
        await bot.close_incident(cadre)
    assert refused.value.key == "refuse.role"


async def test_a_crash_before_the_report_was_queued_is_caught_up_by_the_sweep(
    bot: Snowbot,
) -> None:
    coordinator = await person(bot, 1)
    await bot.check_in(await person(bot, 10), *STATION)
    await bot.start_incident(coordinator, "Second snow")
    # the process died before queueing: the next sweep (of the next process) queues it
    swept = await Sweeps(bot).everything()
    assert swept.closing == 3
    # (the cadre heard at once that the shift ended: queued with the end, SPEC §14)
    closing = [m for m in await drain(bot) if m.key.startswith("closing:")]
    assert [m.document for m in closing] == [None, "shifts.csv", "tasks.csv"]


async def test_snowbot_report_prints_any_past_incident(workdir: Path) -> None:
    with (workdir / "config.toml").open("a", encoding="utf-8") as f:
        f.write('[access]\ncoordinators = [1]\nenrolment = "open"\n')
    config = load_config(str(workdir / "config.toml"))
    service = await open_service(config)
    try:
        await service.import_streets(workdir / "city.csv")
        coordinator = await service.meet(1, "Wang", None, None)
        await service.ask_check_in(await service.meet(9, "Leader Sun", None, None), 7)
        for n in range(4):
            await service.check_in(await service.meet(9 + n, "Zhao", None, None), *STATION)
        posted = await service.post_task(coordinator, ["Station", "Road"])
        assert posted.task is not None
        await service.complete(coordinator, posted.task.id)
        ended = await service.incident()
        # what `snowbot tally --json` says of the incident before it ends
        printed = run_cli(workdir, "tally", "--json")
        assert printed.returncode == 0, printed.stderr
        tally = json.loads(printed.stdout)
        await service.close_incident(coordinator)
    finally:
        await service.close()
    zh = run_cli(workdir, "report", "--incident", str(ended.id))
    assert zh.returncode == 0, zh.stderr
    assert tally["person_times"] == 10 and tally["people"] == 4
    assert f"全市累计出动{tally['person_times']}人次，共{tally['people']}人签到值守" in zh.stdout
    served, unserved = tally["streets"]["served"], tally["streets"]["unserved"]
    assert (
        f"完成清雪任务{tally['tasks']['done']}项，清扫街道{served}条，尚有{unserved}条" in zh.stdout
    )
    assert "出动最多的区县是North（10人次）" in zh.stdout
    assert zh.stdout.startswith(f"📋 应急响应总结：{ended.name}")
    en = run_cli(workdir, "report", "--incident", str(ended.id), "--lang", "en")
    assert en.returncode == 0 and f"turned out {tally['person_times']} person-times" in en.stdout
    for args, said in (
        (("--incident", "99"), "there is no incident 99 (incidents 1 to 2)"),
        (("--incident", "2"), "incident 2 ("),
        (("--incident", "x; DROP"), "is not an incident number"),
        (("--incident", "１"), "is not an incident number"),
        (("--incident", "1", "--lang", "fr"), "invalid choice"),
    ):
        bad = run_cli(workdir, "report", *args)
        assert bad.returncode != 0, args
        assert said in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) <= 3


def test_the_report_of_a_seed_sized_storm_reads_like_the_bulletin() -> None:
    """The issue's example: 2024年11月25日至30日, 5.6万余人次 / over 56,000 person-times."""
    tz = ZoneInfo("Asia/Shanghai")
    began = datetime(2024, 11, 25, 6, 30, tzinfo=tz).timestamp()
    ended = datetime(2024, 11, 30, 20, 0, tzinfo=tz).timestamp()
    incident = Incident(3, "十一月暴雪", began, ended)
    districts = [
        DistrictCounts("爱辉区", 12_345, 0, 40, 14, 1),
        DistrictCounts("北安市", 43_704, 0, 104, 12, 0),
    ]
    tasks = dict.fromkeys(TaskStatus, 0) | {TaskStatus.DONE: 144}
    tally = Tally(incident, 56_049, 0, 2_999, tasks, 26, 25, districts, [], ended)
    closing = Closing(incident, tally, ended, date(2024, 11, 27), 9_800)
    zh = render_closing(catalog("zh"), closing, tz)
    assert zh.splitlines()[1].startswith(
        "2024年11月25日至30日暴雪期间，全市累计出动5.6万余人次，共2999人签到值守"
    )
    assert "完成清雪任务144项，清扫街道25条，尚有1条街道未清扫。" in zh
    assert "出动最多的一天是11月27日（9800人次），出动最多的区县是北安市（4.3万余人次）。" in zh
    en = render_closing(catalog("en"), closing, tz)
    assert "During the snowstorm of 25–30 November 2024" in en
    assert "turned out over 56,000 person-times. People who checked in: 2,999 " in en
    assert "tasks done: 144; streets cleared: 25, still uncleared: 1." in en
    assert "The busiest day was 27 November (9,800 person-times)" in en
    assert "the busiest district, 北安市 (over 43,000 person-times)" in en


def test_the_report_names_the_units_and_the_residents_reports() -> None:
    """Units (单位包保) by turnout, the units still behind, and the residents' reports
    (群众求助) with reports.csv attached; a storm without them says nothing of them."""
    tz = ZoneInfo("Asia/Shanghai")
    began = datetime(2024, 11, 25, 6, 30, tzinfo=tz).timestamp()
    ended = datetime(2024, 11, 26, 20, 0, tzinfo=tz).timestamp()
    incident = Incident(4, "二次降雪", began, ended)
    districts = [DistrictCounts("爱辉区", 23_000, 0, 12, 14, 2)]
    tasks = dict.fromkeys(TaskStatus, 0) | {TaskStatus.DONE: 12}
    units = [UnitCounts(f"单位{i}", 1_000 * i, 0, i, 2, i % 2) for i in range(1, 8)]
    reports = ReportCounts(open=1, tasked=2, resolved=9, dismissed=1)
    tally = Tally(incident, 23_000, 0, 700, tasks, 14, 12, districts, [], ended)
    plain = Closing(incident, tally, ended, date(2024, 11, 25), 12_000)
    full = Closing(incident, replace(tally, units=units, reports=reports), ended, None, 0)
    zh = render_closing(catalog("zh"), full, tz)
    assert (
        "各单位出动：单位7（7000人次）、单位6（6000人次）、单位5（5000人次）、单位4（4000人次）、"
        "单位3（3000人次）等7个单位。" in zh
    )
    assert "包保街道尚未清扫的单位：单位1（1条）、单位3（1条）、单位5（1条）、单位7（1条）。" in zh
    assert "共受理群众求助13件，已清扫解决9件，已派任务2件，待处理1件，不予处理1件。" in zh
    assert zh.endswith("群众求助记录 reports.csv。")
    en = render_closing(catalog("en"), full, tz)
    assert "Turnout by unit: 单位7 (7,000 person-times), 单位6 (6,000 person-times)" in en
    assert "and more (7 units in all)." in en
    assert "Residents' reports: 13 received; 9 cleared, 2 with a task, 1 open, 1 dismissed." in en
    assert full.files == ("shifts.csv", "tasks.csv", "reports.csv")
    bare = render_closing(catalog("zh"), plain, tz)
    assert (
        "单位" not in bare and "群众求助" not in bare and plain.files == ("shifts.csv", "tasks.csv")
    )
