"""/unit and /units through the real bot against the stand-in, in English and Chinese:
buttons and their pages, suggestions, who may create units, and the turnout they count."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.domain.roles import Role
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CADRE,
    COORD,
    DISPATCH,
    LEADER,
    STATION,
    bot_config,
    invite_only,
    no_errors,
    running_bot,
    said,
    stand_in,
)
from tests.test_units import UNIT_CITY

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

# 25 units: Roads Bureau and Water Company, and Unit 00 … Unit 22 with a lane each
EXTRA = "".join(f"North,Lane {k},50.26,{127.5 + k / 1000:.3f},Unit {k:02d}\n" for k in range(23))
UNIT_NAMES = sorted(["Roads Bureau", "Water Company", *(f"Unit {k:02d}" for k in range(23))])
ZH_CADRE = SimUser(20, "队员赵", "zh")
ZH_COORD = SimUser(1, "王协调", "zh")


@pytest.fixture
def units_city(tmp_path: Path) -> Path:
    path = tmp_path / "units.csv"
    path.write_text(UNIT_CITY + EXTRA, "utf-8")
    return path


def labels(sent: object) -> list[str]:
    return [b["text"] for b in sent.buttons]  # type: ignore[attr-defined]


async def test_choosing_a_unit_by_button_page_by_page(
    config: Config, units_city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, units_city)):
        shown = await api.ask(CADRE, "/unit")
        assert shown.text.startswith(said("unit.current_none"))
        assert said("unit.choose", count=25) in shown.text and "Page 1/4" in shown.text
        assert labels(shown) == [*UNIT_NAMES[:8], said("units.next")]
        assert all(len(b["callback_data"].encode()) <= 64 for b in shown.buttons)

        await api.click(CADRE, shown, "Next")
        await api.wait_for(lambda: "Page 2/4" in shown.text)
        assert labels(shown) == [*UNIT_NAMES[8:16], said("units.prev"), said("units.next")]
        answer = await api.click(CADRE, shown, UNIT_NAMES[9])
        assert answer["text"] == said("unit.joined", unit=UNIT_NAMES[9])
        await api.wait_for(lambda: shown.text.startswith(said("unit.current", unit=UNIT_NAMES[9])))
        assert said("unit.button_current", unit=UNIT_NAMES[9]) in labels(shown)

        again = await api.ask(CADRE, "/unit")  # opens at the page with one's unit, ticked
        assert again.text.startswith(said("unit.current", unit=UNIT_NAMES[9]))
        assert "Page 2/4" in again.text
        await api.click(CADRE, again, "Previous")
        await api.wait_for(lambda: "Page 1/4" in again.text)
        assert labels(again) == [*UNIT_NAMES[:8], said("units.next")]
        no_errors(caplog, api)


async def test_joining_by_name_with_suggestions_in_english_and_chinese(
    config: Config, units_city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, units_city)):
        joined = await api.ask(CADRE, "/unit roads bureau")
        assert joined.text == said("unit.joined", unit="Roads Bureau")
        several = await api.ask(CADRE, "/unit Unit 1")
        assert several.text == said(
            "unit.ambiguous",
            name="Unit 1",
            units=", ".join(f"Unit {k}" for k in (10, 11, 12, 13, 14)),
        )
        close = await api.ask(CADRE, "/unit Water Compnay")
        assert close.text == said("unit.unknown", name="Water Compnay", units="Water Company")
        nothing = await api.ask(CADRE, "/unit 城管")
        assert nothing.text == said("unit.unknown_none", name="城管")
        assert (await api.ask(CADRE, "/unit")).text.startswith(
            said("unit.current", unit="Roads Bureau")
        )

        assert (await api.ask(ZH_CADRE, "/unit")).text.startswith(said("unit.current_none", "zh"))
        zh = await api.ask(ZH_CADRE, "/unit 水务")
        assert zh.text == said("unit.unknown_none", "zh", name="水务")
        zh = await api.ask(ZH_CADRE, "/unit water")
        assert zh.text == said("unit.joined", "zh", unit="Water Company")
        no_errors(caplog, api)


async def test_only_a_coordinator_creates_units(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        # /help names what each role can do with units
        cadre_help = (await api.ask(CADRE, "/help")).text
        assert said("unit.help_cadre") in cadre_help and "/units" not in cadre_help
        coord_help = (await api.ask(ZH_COORD, "/help")).text
        for key in ("unit.help_cadre", "unit.help_dispatcher", "unit.help_coordinator"):
            assert said(key, "zh") in coord_help
        empty = await api.ask(CADRE, "/unit")
        assert empty.text == said("unit.current_none") + "\n" + said("unit.no_units")
        assert not empty.buttons
        assert (await api.ask(CADRE, "/unit Roads")).text == said("unit.no_units")
        role = said("refuse.role", role=said("role.coordinator"))
        assert (await api.ask(CADRE, "/unit add Roads Bureau")).text == role
        await running.service.grant(
            await running.service.meet(COORD.id, "c", None, "en"),
            DISPATCH.id,
            Role.DISPATCHER,
            None,
        )
        assert (await api.ask(DISPATCH, "/unit add Roads Bureau")).text == role
        assert await running.service.units() == []

        made = await api.ask(COORD, "/unit add Roads  Bureau")
        assert made.text == said("unit.added", unit="Roads Bureau")
        assert (await api.ask(COORD, "/unit add ROADS BUREAU")).text == said(
            "unit.exists", unit="Roads Bureau"
        )
        assert (await api.ask(COORD, "/unit add")).text == said("unit.add_usage")
        assert (await api.ask(COORD, "/unit add " + "R" * 101)).text == said(
            "refuse.too_long", limit=100
        )
        zh = await api.ask(ZH_COORD, "/unit 新增 市供电公司")
        assert zh.text == said("unit.added", "zh", unit="市供电公司")
        assert [u.name for u in await running.service.units()] == ["Roads Bureau", "市供电公司"]
        assert (await api.ask(CADRE, "/unit 市供电")).text == said("unit.joined", unit="市供电公司")
        no_errors(caplog, api)


async def test_units_table_counts_the_unit_of_each_check_in_and_pages(
    config: Config, units_city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, units_city)) as running:
        svc = running.service
        await svc.grant(
            await svc.meet(COORD.id, "c", None, "en"), DISPATCH.id, Role.DISPATCHER, None
        )
        refused = await api.ask(CADRE, "/units")
        assert refused.text == said("refuse.role", role=said("role.dispatcher"))

        await api.ask(CADRE, "/unit Roads Bureau")
        await api.locate(CADRE, *STATION)
        await api.ask(LEADER, "/unit Water Company")
        await api.ask(LEADER, "/checkin 12")
        await api.locate(LEADER, *STATION)
        loner = SimUser(30, "Loner", "en")
        await api.locate(loner, *STATION)
        # changing unit later moves no turnout: the shift keeps the unit of its check-in
        await api.ask(CADRE, "/unit Unit 05")

        table = await api.ask(DISPATCH, "/units")
        lines = table.text.splitlines()
        assert lines[0] == said("units.header", incident=(await svc.incident()).name, count=25)
        assert lines[1] == said(
            "units.line",
            rank=1,
            unit="Water Company",
            person_times=12,
            on_duty=12,
            people=1,
            unserved=1,
            total=1,
        )
        assert lines[2].startswith("2. Roads Bureau — 1 person-times, on duty 1, people 1")
        assert lines[3].startswith("3. Unit 00 — 0 person-times")
        assert said("units.no_unit", person_times=1, on_duty=1, people=1) in lines
        assert said("units.total", person_times=14, on_duty=14) in lines
        assert lines[-1] == said("units.page", page=1, pages=2)
        assert labels(table) == [said("units.next")]

        await api.click(DISPATCH, table, "Next")
        await api.wait_for(lambda: "Page 2/2" in table.text)
        assert labels(table) == [said("units.prev")]
        second = await api.ask(DISPATCH, "/units 2")
        assert second.text == table.text
        assert "21. Unit 18" in second.text and "25. Unit 22" in second.text
        for bad in ("/units 0", "/units two", "/units 1 2", "/units -1"):
            assert (await api.ask(DISPATCH, bad)).text == said("units.usage"), bad

        unserved = await api.ask(DISPATCH, "/unserved South")
        assert "• River Road (Water Company)" in unserved.text
        assert "• Mill Street\n" in unserved.text
        zh = await api.ask(ZH_COORD, "/units")
        assert "1. Water Company — 12 人次，正在值守 12 人，签到账号 1 个" in zh.text
        assert "合计：14 人次，正在值守 14 人" in zh.text
        no_errors(caplog, api)


async def test_forged_stale_and_refused_unit_buttons(
    config: Config, units_city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, units_city)) as running:
        shown = await api.ask(CADRE, "/unit")
        for data, text in (
            ("v1|u|999999", said("unit.gone")),
            ("v1|t|0", said("refuse.role", role=said("role.dispatcher"))),
            ("v1|u|1x", said("button.stale")),
            ("v2|u|1", said("button.stale")),
            ("v1|u|" + "9" * 60, said("button.stale")),
        ):
            answer = await api.answer(await api.press(CADRE, shown, data))
            assert answer["text"] == text and answer.get("show_alert"), data
        assert await running.service.store.unit_of(CADRE.id) is None
        # a page past the end shows the last one
        await api.answer(await api.press(CADRE, shown, "v1|n|999"))
        await api.wait_for(lambda: "Page 4/4" in shown.text)
        no_errors(caplog, api)


async def test_a_guest_has_no_unit_to_choose(
    config: Config, units_city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(invite_only(config), api, units_city)):
        guest = SimUser(40, "Guest", "en")
        assert (await api.ask(guest, "/unit")).text == said("refuse.guest")
        assert (await api.ask(guest, "/unit Roads Bureau")).text == said("refuse.guest")
        shown = await api.ask(COORD, "/unit")
        answer = await api.answer(await api.press(guest, shown, "v1|u|1"))
        assert answer["text"] == said("refuse.guest")
        no_errors(caplog, api)


async def test_in_a_group_each_presser_joins_for_themselves(
    config: Config, units_city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, units_city)) as running:
        api.group(-500, "Roads Bureau crew")
        await api.ask(CADRE, "/unit Water Company")
        shown = await api.ask(CADRE, "/unit", chat_id=-500)
        assert shown.text == said("unit.choose", count=25) + "\n" + said(
            "units.page", page=1, pages=4
        )
        assert labels(shown)[0] == "Roads Bureau"  # nobody's tick: the list is everyone's
        for presser in (CADRE, LEADER):
            answer = await api.click(presser, shown, "Roads Bureau")
            assert answer["text"] == said("unit.joined", unit="Roads Bureau")
        assert not shown.edits  # the group's list stays as it was
        for presser in (CADRE, LEADER):
            unit = await running.service.store.unit_of(presser.id)
            assert unit is not None and unit.name == "Roads Bureau"
        await api.click(LEADER, shown, "Next")
        await api.wait_for(lambda: "Page 2/4" in shown.text)
        assert not shown.text.startswith(said("unit.current", unit="Roads Bureau"))
        no_errors(caplog, api)
