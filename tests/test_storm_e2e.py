"""A six-day storm in the real bot (issue 21): the real JobQueue's sweeps, second-scale
settings, the Bot API stand-in. The bot's clock is a `FakeClock` where the story needs
days or nights to pass; the scheduler's own timers run on the wall clock, as always."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from snowbot.service.sweeps import Sweeps
from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn
from tests.engines import raw
from tests.harness import (
    CADRE,
    COORD,
    DISPATCH,
    LEADER,
    NORTH_GROUP,
    RIVER,
    STATION,
    THIRD,
    FakeClock,
    bot_config,
    opened_bot,
    person,
    run_cli,
    running_bot,
    said,
    stand_in,
)

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

REPORTS = -100300
HQ = -100500


def storm_config(config: Config, api: BotApiStandIn, city_csv: Path, **schedule: object) -> Config:
    cfg = bot_config(config, api, city_csv)
    return replace(
        cfg, language="en", schedule=replace(cfg.schedule, report_chats=(REPORTS,), **schedule)
    )


def city_time(cfg: Config, day: int, hh: int, mm: int, ss: int = 0) -> float:
    """hh:mm:ss city time, `day` days after the fake clock's first day (2027-01-15)."""
    first = datetime.fromtimestamp(1_800_000_000.0, cfg.city.timezone).date()
    moment = datetime.combine(first + timedelta(days=day), time(hh, mm, ss))
    return moment.replace(tzinfo=cfg.city.timezone).timestamp()


def outbox_count(database: Path | str, like: str) -> int:
    with raw(database) as db:
        row = db.execute("SELECT COUNT(*) FROM outbox WHERE key LIKE ?", (like,)).fetchone()
    return int(row[0])


async def test_escalations_back_off_stop_and_keep_quiet_in_the_real_bot(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api:
        api.group(NORTH_GROUP, "North crews")
        cfg = storm_config(
            config,
            api,
            city_csv,
            escalate_unaccepted_after=timedelta(seconds=1),
            escalate_max=3,
            quiet_hours=(time(22, 0), time(6, 0)),
        )
        clock = FakeClock(city_time(cfg, 0, 21, 59, 56))
        async with running_bot(cfg, clock=clock):
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
            await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
            await api.ask(DISPATCH, "/newtask Station Road 2")  # #1, at 21:59:56

            def notices() -> list[str]:
                return [s.text for s in api.sent[DISPATCH.id] if "Nobody has accepted" in s.text]

            def again() -> list[str]:
                return [s.text for s in api.sent[NORTH_GROUP] if "Still nobody" in s.text]

            # rounds after 1, 3 and 7 s: the first a few seconds before the quiet hours
            clock.now = city_time(cfg, 0, 21, 59, 57)
            await api.wait_for(lambda: len(notices()) == 1 and len(again()) == 1)
            clock.now = city_time(cfg, 0, 22, 0, 0)  # the second falls due in quiet hours
            await api.wait_for(lambda: len(notices()) == 2)
            assert "quiet hours" in notices()[1] and "06:00" in notices()[1]
            # queued in one transaction with the notice: nothing for the group
            assert outbox_count(cfg.address, "escalate:1:%:groups") == 1
            clock.now = city_time(cfg, 0, 22, 0, 3)  # the third and last, still quiet
            await api.wait_for(lambda: len(notices()) == 3)
            assert "/cancel 1" in notices()[2]
            clock.now = city_time(cfg, 1, 5, 59, 59)
            assert outbox_count(cfg.address, "escalate:1:%:groups") == 1
            clock.now = city_time(cfg, 1, 6, 0, 0)  # the end of quiet hours: the group hears
            await api.wait_for(lambda: len(again()) == 2)
            # and never more: a later task's first round, queued by a later sweep, proves it
            clock.now = city_time(cfg, 2, 12, 0, 0)
            await api.ask(DISPATCH, "/newtask School Lane")  # #2
            clock.advance(1)
            await api.wait_for(lambda: len(again()) == 3 and any("#2" in s for s in notices()))
            assert len([s for s in notices() if "#1" in s]) == 3 and len(again()) == 3
            assert "#2" in again()[2]


async def test_three_missed_days_arrive_in_order_after_the_bot_was_down(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api:
        api.group(REPORTS, "City HQ")
        # sweeps every second (half the shortest wait they watch); no task is posted
        short = timedelta(seconds=2)
        cfg = storm_config(
            config, api, city_csv, tally_every=timedelta(hours=6), escalate_unaccepted_after=short
        )
        clock = FakeClock(city_time(cfg, 0, 19, 0))

        def summaries() -> list[str]:
            return [s.text for s in api.sent[REPORTS] if "Day summary" in s.text]

        async with running_bot(cfg, clock=clock):
            await api.locate(CADRE, *STATION)
            clock.now = city_time(cfg, 0, 20, 0)
            await api.wait_for(lambda: len(summaries()) == 1)
        # down for three days; people checked in meanwhile (through another process)
        async with opened_bot(cfg, clock) as other:
            for day, who in ((1, LEADER), (2, THIRD), (3, DISPATCH)):
                clock.now = city_time(cfg, day, 9, 0)
                await other.check_in(await person(other, who.id), *RIVER)
        clock.now = city_time(cfg, 3, 23, 0)
        async with running_bot(cfg, clock=clock):
            await api.wait_for(lambda: len(summaries()) == 4, timeout=20)
            await api.ask(COORD, "/start")  # a round trip: the first sweeps are over
        days = summaries()
        for n, text in enumerate(days[1:], start=2):
            assert f"Day {n} of the storm" in text, text
            assert f"Turnout: 1 person-times (incident total: {n})" in text, text
        # once each, even after another restart
        async with running_bot(cfg, clock=clock) as again:
            assert (await Sweeps(again.service).everything()).daily == 0
        assert len(summaries()) == 4


async def test_incident_close_sends_the_closing_report_with_its_csvs(
    config: Config, city_csv: Path, tmp_path: Path
) -> None:
    async with stand_in() as api:
        api.group(REPORTS, "City HQ")
        api.group(HQ, "Command centre")
        cfg = storm_config(config, api, city_csv)
        # no sweeps (they would catch up a report the command forgot): the outbox only
        async with running_bot(cfg, scheduled=False) as running:
            await api.ask(COORD, "/bind all", chat_id=HQ)
            await api.ask(LEADER, "/checkin 12")
            await api.locate(LEADER, *STATION)
            await api.locate(CADRE, *RIVER)
            posted = await api.ask(COORD, "/newtask River Road 1")
            assert "#1" in posted.text
            await api.ask(COORD, "/done 1")
            tally = (await running.service.tally()).as_json()
            ended = (await running.service.incident()).name
            refused = await api.ask(CADRE, "/incident close")
            assert refused.text == said("refuse.role", role="coordinator")
            before = {chat: api.count(chat) for chat in (COORD.id, REPORTS, HQ)}
            await api.say(COORD, "/incident close")
            # the closing report, queued by the closing itself, may come before the reply
            closed = await api.wait_for(
                lambda: next((s for s in api.sent[COORD.id] if "is closed." in s.text), None)
            )
            assert closed.text.startswith(f"Incident “{ended}” (number 1) is closed.")
            assert "snowbot report --incident 1" in closed.text

            def arrived(chat: int) -> bool:
                return len([s for s in api.sent[chat][before[chat] :] if s.document]) == 2

            for chat in (COORD.id, REPORTS, HQ):
                await api.wait_for(lambda c=chat: arrived(c), timeout=15)  # type: ignore[misc]
            report = next(
                s.text for s in api.sent[COORD.id][before[COORD.id] :] if "Closing report" in s.text
            )
            assert f"turned out {tally['person_times']} person-times" in report
            assert f"People who checked in: {tally['people']} " in report
            files = [s for s in api.sent[HQ][before[HQ] :] if s.document]
            assert [f.document for f in files] == ["shifts.csv", "tasks.csv"]
            assert ended in files[0].text
            shifts = api.documents["shifts.csv"].decode("utf-8-sig").splitlines()
            assert len(shifts) == 1 + 2 and shifts[0].startswith("id,user_id,name,headcount")
            # a new, empty incident counts from here
            now = await running.service.tally()
            assert now.person_times == 0 and now.incident.name != ended
            # closing the empty successor sends no report
            again = await api.ask(COORD, "/incident close")
            assert "there is no closing report" in again.text
            # /incident start NAME ends the successor, in which someone checked in meanwhile
            await api.locate(THIRD, *STATION)
            await api.ask(COORD, "/incident start Second snow")
            await api.wait_for(
                lambda: len([s for s in api.sent[REPORTS] if "Closing report" in s.text]) == 2
            )
            second = [s.text for s in api.sent[REPORTS] if "Closing report" in s.text][1]
            assert "turned out 1 person-times. People who checked in: 1 " in second
        # the same report from the command line, from the closed incident's number
        (tmp_path / "config.toml").write_text(
            f'[storage]\ndatabase = "{cfg.address}"\n[bot]\nlanguage = "en"\n', "utf-8"
        )
        printed = run_cli(tmp_path, "report", "--incident", "1")  # the first incident
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.strip() == report
