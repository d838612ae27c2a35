"""The incident as an Excel workbook (docs/commands.md "Chinese as people type it"):
`snowbot-<incident id>.xlsx` beside the CSVs, for an office that opens the export in Excel. Sheets
for shifts, tasks and residents' reports; headers and status words in the export's language; times
as date-time cells in the city's time zone; numbers as numbers; text that looks like a formula kept
as text."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from snowbot.domain.counts import ShiftExportRow, TaskExportRow
from snowbot.domain.residents import ReportExportRow
from snowbot.text.export import (
    REPORT_COLUMNS,
    SHIFT_COLUMNS,
    TASK_COLUMNS,
    report_values,
    shift_values,
    task_values,
)
from snowbot.text.texts import Catalog

DATE_TIME = "yyyy-mm-dd hh:mm:ss"
MAX_WIDTH = 60  # characters: a long note wraps in Excel rather than widening its column


def xlsx_name(incident_id: int) -> str:
    return f"snowbot-{incident_id}.xlsx"


def city_time(epoch: float | None, tz: ZoneInfo) -> datetime | None:
    """A moment as the city's clock shows it, without a zone (Excel keeps none)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


def export_xlsx(
    shifts: Iterable[ShiftExportRow],
    tasks: Iterable[TaskExportRow],
    reports: Iterable[ReportExportRow],
    tz: ZoneInfo,
    t: Catalog,
) -> bytes:
    """The workbook's bytes, its words from `t` (the asker's catalog, or `[bot] language`)."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)

    def status(key: str) -> str:
        return t(key) if key in t.texts else key.rsplit(".", 1)[-1]

    def when(epoch: float | None) -> datetime | None:
        return city_time(epoch, tz)

    def task_status(value: str) -> str:
        return status(f"task.status.{value}")

    def report_status(value: str) -> str:
        return status(f"overview.report_{value}")

    shift_rows = [shift_values(s, when) for s in shifts]
    task_rows = [task_values(k, when, task_status) for k in tasks]
    report_rows = [report_values(r, when, report_status) for r in reports]
    for sheet, columns, rows in (
        ("shifts", SHIFT_COLUMNS, shift_rows),
        ("tasks", TASK_COLUMNS, task_rows),
        ("reports", REPORT_COLUMNS, report_rows),
    ):
        _sheet(book.create_sheet(t(f"xlsx.sheet_{sheet}")), t, columns, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(
    ws: Worksheet, t: Catalog, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    ws.append([t(f"xlsx.{c}") for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    widths = [_width(t(f"xlsx.{c}")) for c in columns]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                # openpyxl refuses control characters; a note typed in Telegram may hold one
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                # a value starting with "=" would be written as a formula: keep it text
                cell.data_type = "s"
            else:
                cell.value = value
            if isinstance(value, datetime):
                cell.number_format = DATE_TIME
                widths[c - 1] = max(widths[c - 1], len(DATE_TIME))
            elif value is not None:
                widths[c - 1] = max(widths[c - 1], _width(str(value)))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(width + 2, MAX_WIDTH)


def _width(text: str) -> int:
    """Columns a text takes in Excel: a Chinese character is two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
