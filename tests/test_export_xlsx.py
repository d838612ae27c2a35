"""The Excel export (SPEC §13): snowbot-<incident id>.xlsx beside the CSVs, read back with
openpyxl -- sheets and headers in the export's language, times as date-time cells in the
city's time zone, numbers as numbers, formula-like text kept as text, columns fitted."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import SAMPLE_CSV, bot_config, no_errors, run_cli, running_bot, stand_in

pytestmark = pytest.mark.both_engines

COORD = SimUser(1, "王协调", "zh")
CADRE = SimUser(10, "赵队员", "zh")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEAR_XUEFU = (50.2583, 127.4865)


def book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


async def test_export_sends_a_workbook_in_the_askers_language(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)) as running:
        await api.ask(COORD, "/newtask 学府路 3 =HYPERLINK(1)")
        await api.ask(CADRE, "/checkin 2")
        await api.locate(CADRE, *NEAR_XUEFU)
        before = api.count(COORD.id)
        await api.say(COORD, "/export")
        await api.wait_for(lambda: len(api.sent[COORD.id]) >= before + 4)
        incident = await running.service.incident()
        name = f"snowbot-{incident.id}.xlsx"
        sent = [s.document for s in api.sent[COORD.id][before:]]
        assert sent == ["shifts.csv", "tasks.csv", "reports.csv", name]
        workbook = book(api.documents[name])
        task = await running.service.task(1)
    assert workbook.sheetnames == ["值守记录", "任务", "群众求助"]
    tasks = workbook["任务"]
    header = [c.value for c in tasks[1]]
    assert header[:6] == ["编号", "区县", "街道", "需要人数", "已认领人数", "状态"]
    row = {h: c for h, c in zip(header, tasks[2], strict=True)}
    assert row["编号"].value == 1 and row["需要人数"].value == 3  # numbers as numbers
    assert row["状态"].value == "待认领"
    assert row["备注"].value == "=HYPERLINK(1)" and row["备注"].data_type == "s"
    created = row["创建时间"].value
    assert isinstance(created, datetime) and created.tzinfo is None
    assert row["创建时间"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert task is not None
    expected = datetime.fromtimestamp(task.created_at, SHANGHAI).replace(tzinfo=None)
    assert abs((created - expected).total_seconds()) < 1  # the city's clock, to the second
    shifts = workbook["值守记录"]
    shift = {h.value: c.value for h, c in zip(shifts[1], shifts[2], strict=True)}
    assert (shift["姓名"], shift["人数"], shift["街道"]) == ("赵队员", 2, "学府路")
    assert shift["签退时间"] is None and isinstance(shift["签到时间"], datetime)
    assert tasks.column_dimensions["C"].width >= 8  # 学府路: three wide characters
    no_errors(caplog, api)


def test_the_cli_writes_the_workbook_in_the_language_asked(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    english = run_cli(workdir, "export", "--out", "en", "--lang", "en")
    assert english.returncode == 0, english.stderr
    names = sorted(p.name for p in (workdir / "en").iterdir())
    assert names == ["reports.csv", "shifts.csv", "snowbot-1.xlsx", "tasks.csv"]
    workbook = book((workdir / "en" / "snowbot-1.xlsx").read_bytes())
    assert workbook.sheetnames == ["Shifts", "Tasks", "Residents' reports"]
    assert [c.value for c in workbook["Shifts"][1]][:4] == ["ID", "User ID", "Name", "People"]
    assert run_cli(workdir, "export", "--out", "zh").returncode == 0  # [bot] language: zh
    chinese = book((workdir / "zh" / "snowbot-1.xlsx").read_bytes())
    assert [c.value for c in chinese["值守记录"][1]][:3] == ["编号", "用户 ID", "姓名"]
    # the CSVs stay as they were, whatever the language
    assert (workdir / "en" / "tasks.csv").read_bytes() == (
        workdir / "zh" / "tasks.csv"
    ).read_bytes()
