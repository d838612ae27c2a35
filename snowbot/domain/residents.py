"""Residents' reports (群众求助, docs/commands.md "Residents' reports"): the records of a report,
its reporters and what became of it, and when a new report joins a live one; the operations
are in `snowbot.service.residents`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from snowbot.domain.geo import haversine_km
from snowbot.domain.limits import REPORT_JOIN_KM, REPORT_JOIN_SECONDS
from snowbot.domain.model import Task


def report_ref(report_id: int) -> str:
    """How a report is named everywhere: #R12 (a task is #12)."""
    return f"#R{report_id}"


class ReportStatus(StrEnum):
    """Derived from the report's row and its task, never stored apart from them."""

    OPEN = "open"  # waiting for a dispatcher (also when its task was cancelled)
    TASKED = "tasked"  # its task is open or in progress
    RESOLVED = "resolved"  # its task is done
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Report:
    id: int
    incident_id: int
    created_by: int
    street_id: int
    street: str
    district_id: int
    district: str
    lat: float
    lon: float
    text: str
    photo_file_id: str | None
    created_at: float
    reporters: int
    task_id: int | None
    status: ReportStatus
    resolved_at: float | None  # when its task was done


class ReportOutcome(StrEnum):
    NEW = "new"  # a new report: its district's dispatchers are told
    JOINED = "joined"  # near a live report: this person is one more of its reporters
    ALREADY = "already"  # this person had reported it already: nothing changed
    LIMITED = "limited"  # too many reports this hour: nothing made
    BLOCKED = "blocked"  # a dispatcher blocked this person for the incident


@dataclass(frozen=True)
class ReportMade:
    outcome: ReportOutcome
    report: Report | None


@dataclass(frozen=True)
class ReportWait:
    """A /report waiting for its location, with what was said meanwhile."""

    user_id: int
    text: str
    photo_file_id: str | None
    asked_at: float


class ReportChange(StrEnum):
    DONE = "done"  # tasked, dismissed or blocked as asked
    NOT_OPEN = "not_open"  # tasked, resolved or dismissed already
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReportDecision:
    outcome: ReportChange
    report: Report | None
    task: Task | None = None


@dataclass(frozen=True)
class Reporter:
    user_id: int
    language: str | None  # as stored for the user (a /lang choice or Telegram's)


@dataclass(frozen=True)
class ReportCounts:
    open: int = 0
    tasked: int = 0
    resolved: int = 0
    dismissed: int = 0
    # seconds from each resolved report to its task's completion (the daily summary's median)
    waits: tuple[float, ...] = ()


@dataclass(frozen=True)
class ReportExportRow:
    id: int
    district: str
    street: str
    lat: float
    lon: float
    reporters: int
    status: str
    task_id: int | None
    created_at: float
    resolved_at: float | None
    text: str


def joinable_since(now: float) -> float:
    """A new report joins only a report made since then (six hours before `now`)."""
    return now - REPORT_JOIN_SECONDS


def report_to_join(
    lat: float, lon: float, live: Iterable[tuple[int, float, float]], km: float = REPORT_JOIN_KM
) -> int | None:
    """The report a new one at (lat, lon) joins: the nearest of the `live` ones (id, lat,
    lon: open, made since `joinable_since`) within `km` (150 m), or None for a new report.
    Of two at the same distance, the one named first."""
    best: tuple[float, int] | None = None
    for report_id, at_lat, at_lon in live:
        away = haversine_km(lat, lon, at_lat, at_lon)
        if away <= km and (best is None or away < best[0]):
            best = (away, report_id)
    return best[1] if best else None
