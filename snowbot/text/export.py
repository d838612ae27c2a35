"""The incident as CSV (docs/operators.md "Command line"): shifts.csv, tasks.csv and reports.csv,
UTF-8 with a byte-order mark, ISO 8601 times with offset."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from snowbot.domain.counts import ShiftExportRow, TaskExportRow
from snowbot.domain.residents import ReportExportRow

SHIFT_COLUMNS = (
    "id",
    "user_id",
    "name",
    "headcount",
    "district",
    "street",
    "lat",
    "lon",
    "started_at",
    "ended_at",
    "placed",
    "unit",  # the cadre's unit when the shift opened (empty: none)
)
TASK_COLUMNS = (
    "id",
    "district",
    "street",
    "needed",
    "accepted",
    "status",
    "created_by",
    "created_at",
    "done_at",
    "note",
    "unit",  # the unit responsible for the task's street (empty: none)
)

# residents' reports (群众求助)
REPORT_COLUMNS = (
    "id",
    "district",
    "street",
    "lat",
    "lon",
    "reporters",
    "status",
    "task_id",
    "created_at",
    "resolved_at",
    "text",
)


def iso(epoch: float | None, tz: ZoneInfo) -> str:
    """ISO 8601 in the city's time zone, with its offset; empty for "not yet"."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, tz).isoformat(timespec="seconds")


EXPORT_FILES = ("shifts.csv", "tasks.csv", "reports.csv")  # what export_csvs makes

# A row's cells, in the columns' order, for the CSVs and the workbook alike: `when` writes
# a moment (ISO text, or a date-time cell), `status` a status word (as stored, or translated)
Moment = Callable[[float | None], Any]


def shift_values(s: ShiftExportRow, when: Moment) -> tuple[Any, ...]:
    return (
        s.id,
        s.user_id,
        s.name,
        s.headcount,
        s.district,
        s.street,
        s.lat,
        s.lon,
        when(s.started_at),
        when(s.ended_at),
        s.placed,
        s.unit or "",
    )


def task_values(
    t: TaskExportRow, when: Moment, status: Callable[[str], str] = str
) -> tuple[Any, ...]:
    return (
        t.id,
        t.district,
        t.street,
        t.needed,
        t.accepted,
        status(t.status),
        t.created_by,
        when(t.created_at),
        when(t.done_at),
        t.note,
        t.unit or "",
    )


def report_values(
    r: ReportExportRow, when: Moment, status: Callable[[str], str] = str
) -> tuple[Any, ...]:
    return (
        r.id,
        r.district,
        r.street,
        r.lat,
        r.lon,
        r.reporters,
        status(r.status),
        "" if r.task_id is None else r.task_id,
        when(r.created_at),
        when(r.resolved_at),
        r.text,
    )


def export_csvs(
    shifts: Iterable[ShiftExportRow],
    tasks: Iterable[TaskExportRow],
    tz: ZoneInfo,
    reports: Iterable[ReportExportRow] = (),
) -> dict[str, bytes]:
    """File name -> CSV bytes."""

    def when(epoch: float | None) -> str:
        return iso(epoch, tz)

    shift_rows = (shift_values(s, when) for s in shifts)
    task_rows = (task_values(t, when) for t in tasks)
    report_rows = (report_values(r, when) for r in reports)
    made = (
        _csv(SHIFT_COLUMNS, shift_rows),
        _csv(TASK_COLUMNS, task_rows),
        _csv(REPORT_COLUMNS, report_rows),
    )
    return dict(zip(EXPORT_FILES, made, strict=True))


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    # CRLF, as RFC 4180 has it: a field holding a lone CR or LF is then quoted, so a note
    # cannot end its row early and start a new one with a formula
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    # With a byte-order mark, Excel on a Chinese Windows reads the file as UTF-8 rather than
    # GBK; it is still UTF-8, and every CSV reader that knows UTF-8 skips the mark.
    return out.getvalue().encode("utf-8-sig")


# What makes a spreadsheet read a cell as a formula: its first visible character is one of
# these, also in full-width forms (＝, ＋ …, which NFKC folds to these)
_FORMULA_START = ("=", "+", "-", "@")
# what a spreadsheet skips, or shows as nothing, before it reads a formula: spaces of every
# kind (no-break, ideographic…), controls (vertical tab, CR, LF…) and format characters
# (zero-width space, byte-order mark, direction marks…)
_UNSEEN = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf"))


def _safe(value: Any) -> Any:
    """Keep spreadsheet programs from running a note as a formula: a cell whose first
    visible character is = + - @ (in any width), or that starts with a tab or a line
    break, is kept as text by a leading apostrophe."""
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def _formula_like(text: str) -> bool:
    if text[:1] in ("\t", "\r", "\n"):  # a cell that starts so is suspect whatever follows
        return True
    for ch in text:
        if unicodedata.category(ch) not in _UNSEEN:
            return unicodedata.normalize("NFKC", ch) in _FORMULA_START
    return False
