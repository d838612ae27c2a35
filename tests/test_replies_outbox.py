"""Every answer to an update goes through the outbox with its handled mark, the /export
files and the apology for a failure included: an update killed before its mark has told
nobody anything, and handled again it answers once. And the files made as they are sent
hold what the incident holds (residents' reports too)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from snowbot.service import Snowbot
from snowbot.settings.config import Config
from tests.harness import (
    CADRE,
    COORD,
    STATION,
    bot_config,
    eventually,
    opened_bot,
    person,
    running_bot,
    stand_in,
)


async def never_marked(self: Snowbot, update_id: int, replies: object = ()) -> list[object]:
    return []  # killed before the mark: neither marked nor anything queued


def documents_to(api: object, chat_id: int) -> list[str]:
    sent = api.sent[chat_id]  # type: ignore[attr-defined]
    return [s.document for s in sent if s.document]


async def test_export_files_are_sent_once_and_only_after_the_mark(
    config: Config, city_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg) as first:
            await api.say(COORD, "/start")
            await api.reply(COORD.id, 0)
            monkeypatch.setattr(Snowbot, "handled", never_marked)
            asked = await api.say(COORD, "/export")

            async def kept() -> bool:
                return len(await first.service.unhandled_updates()) == 1

            await eventually(kept, "the /export update kept and not marked")
            assert documents_to(api, COORD.id) == []  # nothing went out unmarked
        monkeypatch.undo()
        await api.redeliver([asked])  # Telegram sends it again, and the inbox has it
        async with running_bot(cfg):
            await api.wait_for(lambda: len(documents_to(api, COORD.id)) >= 4)
            assert "Hello" in (await api.ask(CADRE, "/start")).text
        assert sorted(documents_to(api, COORD.id)) == [
            "reports.csv",
            "shifts.csv",
            "snowbot-1.xlsx",  # the workbook beside the CSVs (SPEC §13)
            "tasks.csv",
        ]


async def test_a_failure_is_apologised_for_once_and_only_after_the_mark(
    config: Config, city_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Snowbot, *args: object) -> None:
        raise RuntimeError("disk on fire")

    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg) as first:
            monkeypatch.setattr(Snowbot, "tasks_for", broken)
            monkeypatch.setattr(Snowbot, "handled", never_marked)
            asked = await api.say(CADRE, "/tasks")

            async def kept() -> bool:
                return len(await first.service.unhandled_updates()) == 1

            await eventually(kept, "the failing update kept and not marked")
            assert api.count(CADRE.id) == 0  # no apology before the mark
        monkeypatch.undo()
        monkeypatch.setattr(Snowbot, "tasks_for", broken)
        await api.redeliver([asked])
        async with running_bot(cfg):
            apology = await api.reply(CADRE.id, 0)
            assert "something went wrong" in apology.text
            monkeypatch.undo()
            assert "open tasks" in (await api.ask(CADRE, "/tasks")).text.lower()
        assert api.count(CADRE.id) == 2  # one apology, one list: the redelivery was ignored


async def test_an_incidents_reports_csv_holds_its_reports(config: Config, city_csv: Path) -> None:
    """The closing report attaches reports.csv when residents reported anything: made as it
    is sent, it holds their reports, not the header alone."""
    async with opened_bot(config, time.time, city_csv) as bot:
        resident = await person(bot, 70)
        await bot.ask_report(resident, "snow up to the knee", private=True)
        assert await bot.report_at(resident, *STATION, no_buttons, None) is not None
        incident = await bot.incident()
        made = await bot.incident_file(incident.id, "reports.csv")
        assert made is not None
        rows = list(csv.DictReader(io.StringIO(made.decode("utf-8-sig"))))
        assert [(r["street"], r["text"]) for r in rows] == [("Station Road", "snow up to the knee")]
        # the open incident's files are made afresh for each message, never kept
        later = await person(bot, 71)
        await bot.ask_report(later, "a car is stuck", private=True)
        lat, lon = STATION
        assert await bot.report_at(later, lat + 200 / 111_195, lon, no_buttons, None)
        again = await bot.incident_file(incident.id, "reports.csv")
        assert again is not None
        assert len(list(csv.DictReader(io.StringIO(again.decode("utf-8-sig"))))) == 2


def no_buttons(report_id: int, lang: str) -> str:
    return ""


async def test_a_database_failing_at_the_mark_is_one_apology_and_the_update_kept(
    config: Config, city_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(self: Snowbot, update_id: int, replies: object = ()) -> list[object]:
        raise OSError("database is gone")

    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg) as running:
            monkeypatch.setattr(Snowbot, "handled", fails)
            await api.say(CADRE, "/start")
            apology = await api.reply(CADRE.id, 0)
            assert "something went wrong" in apology.text
            monkeypatch.undo()
            assert len(await running.service.unhandled_updates()) == 1  # handled at next start
            assert "Hello" in (await api.ask(COORD, "/start")).text
        assert api.count(CADRE.id) == 1
